"""Webhook delivery: signing, a background delivery thread, retries and removal.

Shopify's rules (docs/reference/shopify-api.md §1): POST the raw JSON body
with X-Shopify-* headers, HMAC-SHA256 of the body keyed with the app's client
secret (base64); 2xx is success, anything else (redirects included) or >5 s is
a failure; 8 retries with backoff, and a subscription created through the API
is deleted after 8 consecutive failures.  The schedule is compressed here
(``SANDBOX_WEBHOOK_RETRY_DELAYS``, real seconds) so tests finish quickly.
"""
from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import json
import threading
import time
import uuid
from datetime import datetime, timezone

import requests

from .models import Delivery

DEFAULT_RETRY_DELAYS = [1, 2, 4, 8, 16, 32, 64, 128]  # 8 retries (4 h on Shopify)
REMOVE_AFTER = 8


def sign(secret: str, body: bytes) -> str:
    """Shopify's X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
                            ).decode("ascii")


def triggered_at_header(now: float) -> str:
    """X-Shopify-Triggered-At as Shopify writes it: UTC with nanoseconds ("2023-03-29T18:00:27.877041743Z",
    a real capture, docs/reference/shopify-api.md §1.1).

    Stamped from the wall clock when the event happens, never the virtual clock: the app judges
    freshness against its own clock (app.services.intake.check_fresh), as it does Shopify's, and
    a test that moves the virtual clock days ahead does not make Shopify's deliveries come from
    the future. Every retry of a delivery carries this same value, as Shopify's do
    (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism)."""
    whole = int(now)
    nanos = int(round((now - whole) * 1e9)) % 1_000_000_000
    return datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


class WebhookDispatcher:
    """Queues deliveries and POSTs them from one daemon thread."""

    def __init__(self, store):
        self.store = store
        cfg = store.config
        self.retry_delays = list(cfg.get("SANDBOX_WEBHOOK_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))
        self.remove_after = int(cfg.get("SANDBOX_WEBHOOK_REMOVE_AFTER", REMOVE_AFTER))
        self.timeout = cfg.get("SANDBOX_WEBHOOK_TIMEOUT", (1.0, 5.0))
        self.reorder_window = float(cfg.get("SANDBOX_WEBHOOK_REORDER_HOLD", 0.3))
        # Shopify sends a webhook some time after the change, never within the API call's answer.
        self.delay = float(cfg.get("SANDBOX_WEBHOOK_DELAY", 0.0))
        self._heap: list = []
        self._held: dict[str, list] = {}
        self._cond = threading.Condition()
        self._busy = 0
        self._thread = None
        self._stopping = False
        self._session = requests.Session()

    # ---- producing ------------------------------------------------------------------
    def emit(self, shop, topic: str, payload, only_client: str | None = None) -> list:
        """Create deliveries of ``topic`` for every matching subscription of ``shop``.

        ``payload`` is a dict or a callable(api_version) -> dict.  All deliveries of
        one call share an X-Shopify-Event-Id (one merchant action).
        """
        store = self.store
        with store.lock:
            subs = [s for s in store.state["subs"].values()
                    if s.shop == shop.domain and s.topic == topic
                    and (only_client is None or s.client_id == only_client)]
            event_id = str(uuid.uuid4())
            triggered = triggered_at_header(time.time())
            created = []
            for sub in sorted(subs, key=lambda s: s.id):
                # Signed with the app's one client secret, whichever shop it is installed on
                # (shopify.dev/docs/apps/build/webhooks/subscribe/https; sandbox/apps.py).
                app = store.state["apps"].get(sub.client_id)
                if app is None:
                    continue
                data = payload(sub.api_version) if callable(payload) else payload
                body = json.dumps(data, separators=(",", ":")).encode("utf-8")
                webhook_id = str(uuid.uuid4())
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "Shopify-Captain-Hook",
                    "X-Shopify-Topic": topic,
                    "X-Shopify-Hmac-Sha256": sign(app.client_secret, body),
                    "X-Shopify-Shop-Domain": shop.domain,
                    "X-Shopify-API-Version": sub.api_version,
                    "X-Shopify-Webhook-Id": webhook_id,
                    "X-Shopify-Event-Id": event_id,
                    "X-Shopify-Triggered-At": triggered,
                }
                d = Delivery(id=store.next_seq(), webhook_id=webhook_id, event_id=event_id,
                             subscription_id=sub.id, shop=shop.domain, topic=topic, uri=sub.uri,
                             body=body, headers=headers, attempts=0, status="pending",
                             last_code=None, last_error=None, triggered_at=triggered,
                             delivered_at=None, duplicate=False)
                store.state["deliveries"].append(d)
                created.append(d)
                if store.fault_roll(shop.faults.get("duplicate_webhooks", 0)):
                    dup = Delivery(**{**d.__getstate__(), "id": store.next_seq(),
                                      "duplicate": True})
                    store.state["deliveries"].append(dup)
                    created.append(dup)
            # Keep memory bounded on long demo runs.
            if len(store.state["deliveries"]) > 5000:
                del store.state["deliveries"][:1000]
        reorder = bool(shop.faults.get("out_of_order_webhooks"))
        for d in created:
            if reorder:
                self._hold(shop.domain, d)
            else:
                self._schedule(d, self.delay)
        return created

    def _hold(self, domain: str, delivery) -> None:
        """Out-of-order fault: keep deliveries back in pairs, release them reversed."""
        with self._cond:
            held = self._held.setdefault(domain, [])
            held.append(delivery)
            if len(held) >= 2:
                self._release(domain)
            else:
                timer = threading.Timer(self.reorder_window, self._release_locked, (domain,))
                timer.daemon = True
                timer.start()

    def _release_locked(self, domain: str) -> None:
        with self._cond:
            self._release(domain)

    def _release(self, domain: str) -> None:
        held = self._held.pop(domain, [])
        for i, d in enumerate(reversed(held)):
            self._push(d, 0.02 * i)

    def _schedule(self, delivery, delay: float) -> None:
        with self._cond:
            self._push(delivery, delay)

    def _push(self, delivery, delay: float) -> None:
        heapq.heappush(self._heap, (time.monotonic() + delay, delivery.id, delivery))
        self._ensure_thread()
        self._cond.notify_all()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks",
                                             daemon=True)
            self._thread.start()

    # ---- consuming ------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        break
                    wait = (self._heap[0][0] - time.monotonic()) if self._heap else 0.5
                    self._cond.wait(max(0.001, min(wait, 0.5)))
                if self._stopping:
                    return
                _, _, delivery = heapq.heappop(self._heap)
                self._busy += 1
            try:
                self._attempt(delivery)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, d) -> None:
        store = self.store
        sub = store.state["subs"].get(d.subscription_id)
        if sub is None and d.topic != "app/uninstalled":
            d.status = "cancelled"  # subscription deleted meanwhile
            return
        if sub is None:
            # app/uninstalled goes out although uninstalling removed the subscription;
            # there is nobody left to retry for.
            sub = type("Gone", (), {"failures": 0, "via_api": False, "id": None})()
        d.attempts += 1
        code, error = None, None
        try:
            resp = self._session.post(d.uri, data=d.body, headers=d.headers,
                                      timeout=self.timeout, allow_redirects=False)
            code = resp.status_code
        except requests.RequestException as exc:
            error = type(exc).__name__
        d.last_code, d.last_error = code, error
        if code is not None and 200 <= code < 300:
            d.status, d.delivered_at = "delivered", store.clock.now()
            sub.failures = 0
            return
        with store.lock:
            sub.failures = (sub.failures or 0) + 1
            if sub.via_api and sub.failures >= self.remove_after:
                # Shopify deletes API-created subscriptions after 8 consecutive failures.
                store.state["subs"].pop(sub.id, None)
                d.status = "failed"
                return
        retry = d.attempts - 1
        if retry < len(self.retry_delays):
            d.status = "retrying"
            self._schedule(d, float(self.retry_delays[retry]))
        else:
            d.status = "failed"

    # ---- control --------------------------------------------------------------------
    def flush(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued, held or in flight; True if drained."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy or self._held:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def clear(self) -> None:
        """Drop everything queued (used by reset)."""
        with self._cond:
            self._heap.clear()
            self._held.clear()

    def stop(self) -> None:
        """Stop the delivery thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)

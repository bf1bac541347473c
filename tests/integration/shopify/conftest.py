"""The app's Shopify client against the sandbox (fake Shopify) over real HTTP.

Everything here talks to a real werkzeug server on 127.0.0.1: the client's ``requests`` calls,
the sandbox's webhook deliveries to a receiver we run, OAuth pages. Time-dependent behaviour
(leaky bucket, backoff, token expiry, bulk progress, the 60-day window) runs on the sandbox's
``VirtualClock``, which the client shares through its injectable ``sleep``/``monotonic`` — so a
20-minute throttled import costs seconds, and no test sleeps in real time.

Setup goes through the sandbox's control API over HTTP (as the demo and a developer would
drive it); the in-process store (``sandbox.store``) is read only as ground truth.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.shopify.client import ShopifyClient
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)

SHOP = "acme-outdoor.myshopify.com"
CLIENT_ID = "boomerang-test-app"
CLIENT_SECRET = "shpss_integrationsecret0123456789"
ALL_SCOPES = ["read_orders", "write_orders", "read_all_orders", "read_products",
              "read_customers", "read_inventory", "read_fulfillments"]


class Control:
    """The sandbox's control API (``/_sandbox/``) over HTTP; raises on any 4xx/5xx."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.http = requests.Session()

    def call(self, method: str, path: str, json: dict | None = None, **params) -> dict:
        response = self.http.request(method, f"{self.base}/_sandbox{path}", json=json,
                                     params=params or None, timeout=10)
        assert response.status_code < 400, (
            f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def create_shop(self, domain: str = SHOP, **options) -> dict:
        return self.call("POST", "/shops", {"domain": domain, "name": "Acme Outdoor",
                                            "currency": "USD", "plan": "basic", **options})

    def create_app(self, domain: str = SHOP, scopes=None, client_id: str = CLIENT_ID,
                   client_secret: str = CLIENT_SECRET) -> dict:
        return self.call("POST", f"/shops/{domain}/apps", {
            "client_id": client_id, "client_secret": client_secret,
            "scopes": ALL_SCOPES if scopes is None else scopes})

    def admin_token(self, domain: str = SHOP, client_id: str = CLIENT_ID, scopes=None) -> str:
        body = {"scopes": scopes} if scopes is not None else {}
        path = f"/shops/{domain}/apps/{client_id}/admin-token"
        return self.call("POST", path, body)["access_token"]

    def seed(self, orders: int, days: float = 30, seed: int = 1, domain: str = SHOP) -> int:
        return self.call("POST", f"/shops/{domain}/seed",
                         {"orders": orders, "days": days, "seed": seed})["created"]

    def place_order(self, domain: str = SHOP, **options) -> dict:
        return self.call("POST", f"/shops/{domain}/orders", options)

    def update_order(self, order_id, domain: str = SHOP, **changes) -> dict:
        return self.call("PATCH", f"/shops/{domain}/orders/{order_id}", changes)

    def set_faults(self, domain: str = SHOP, **faults) -> dict:
        return self.call("PUT", f"/shops/{domain}/faults", faults)

    def patch_shop(self, domain: str = SHOP, **changes) -> dict:
        return self.call("PATCH", f"/shops/{domain}", changes)

    def flush_webhooks(self) -> None:
        assert self.call("POST", "/webhooks/flush", timeout="10")["drained"]


class RecordingSession(requests.Session):
    """A requests session that logs every attempt the client makes and every answer it gets.

    ``attempts`` counts sends (including ones that timed out, which have no response);
    ``answers`` holds (status, extensions.cost, error codes) per response — what the sandbox
    actually said, independent of how the client interpreted it.
    """

    def __init__(self):
        super().__init__()
        self.attempts = 0
        self.answers: list[tuple[int, dict | None, list]] = []

    def send(self, request, **kwargs):
        self.attempts += 1
        response = super().send(request, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        cost = body.get("extensions", {}).get("cost") if isinstance(body, dict) else None
        errors = body.get("errors") if isinstance(body, dict) else None
        codes = [(e.get("extensions") or {}).get("code") for e in errors
                 if isinstance(e, dict)] if isinstance(errors, list) else []
        self.answers.append((response.status_code, cost, codes))
        return response

    def count(self, *, status: int | None = None, code: str | None = None) -> int:
        """Answers with this HTTP status and/or GraphQL error code."""
        return sum(1 for s, _c, codes in self.answers
                   if (status is None or s == status) and (code is None or code in codes))


@dataclass
class Shop:
    """One sandbox shop with the app installed and an admin token."""

    domain: str
    token: str
    server: object
    control: Control
    sessions: list = field(default_factory=list)

    @property
    def record(self):
        """The store's own record of this shop (ground truth for comparisons)."""
        return self.server.store.get_shop(self.domain)

    def client(self, token: str | None = None, **options) -> ShopifyClient:
        """A client on the shared virtual clock, deterministic jitter, recording session."""
        session = RecordingSession()
        self.sessions.append(session)
        clock = self.server.clock
        settings = dict(api_origin=self.server.api_origin(self.domain), session=session,
                        sleep=clock.sleep, monotonic=clock.now, random_fn=lambda: 0.5,
                        timeout=(2.0, 10.0))
        settings.update(options)
        return ShopifyClient(self.domain, token or self.token, **settings)


@pytest.fixture
def control(sandbox):
    """The control API of an emptied sandbox."""
    return Control(sandbox.url)


@pytest.fixture
def api_shop(sandbox, control):
    """A basic-plan USD shop with the app (all scopes) installed and a shpat_ token, made through
    the control API, for the Shopify client's own tests (``Shop``: its ``client()`` records what
    it sends). Not the suite's ``shop`` (tests/fixtures/shops.py), which the app's services use."""
    control.create_shop()
    control.create_app()
    return Shop(domain=SHOP, token=control.admin_token(), server=sandbox, control=control)


class Receiver:
    """A tiny HTTP server standing in for the app's webhook endpoint: records raw requests."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_first = 0  # answer this many requests with 500 before succeeding

        @Request.application
        def handle(request):
            self.requests.append({"headers": dict(request.headers), "body": request.get_data(),
                                  "path": request.path})
            failing = len(self.requests) <= self.fail_first
            return Response("down" if failing else "ok", status=500 if failing else 200)

        self.server = make_server("127.0.0.1", 0, handle, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/shopify"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    """A running webhook receiver on 127.0.0.1."""
    r = Receiver()
    yield r
    r.stop()

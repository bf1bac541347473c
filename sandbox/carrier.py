"""The sandbox's fake carrier: sends signed tracking events in Boomerang's generic format to a
tracking webhook URL, one step per call — label created → in transit → delivered — so a demo
(or a test) can watch a return's first scan and delivery arrive.

Control API (JSON):
- ``POST /_sandbox/carrier/connections`` ``{"label", "url", "secret"}``: remember a webhook
  (the demo registers the app's, so the page's form is filled in).
- ``GET /_sandbox/carrier``: the remembered webhooks and what was sent.
- ``POST /_sandbox/carrier/send`` ``{"url", "secret", "tracking_number", "status"?}``: send one
  event; without ``status`` the parcel's next step. Answers with the webhook's own answer.

HTML: the sandbox page's "Send tracking event" form posts to ``/carrier/send``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timezone

import requests
from flask import Blueprint, current_app, jsonify, redirect, request, url_for

from .store import SandboxError

bp = Blueprint("sandbox_carrier", __name__, template_folder="templates")

SEQUENCE = ("label_created", "in_transit", "delivered")
STATUSES = ("label_created", "in_transit", "out_for_delivery", "delivered", "exception")
DESCRIPTIONS = {"label_created": "Shipping label created, awaiting item",
                "in_transit": "Accepted at the carrier's depot (first scan)",
                "out_for_delivery": "Out for delivery to the returns hub",
                "delivered": "Delivered to the returns address",
                "exception": "Delivery attempt failed: returns hub closed"}
SIGNATURE_HEADER = "X-Returns-Signature"


class Carrier:
    """Remembered webhooks, each parcel's progress and a log of what was sent (in memory)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.connections: list[dict] = []
        self.progress: dict[str, int] = {}
        self.sent: list[dict] = []

    def register(self, label: str, url: str, secret: str) -> dict:
        """Remember (or update, by label) a webhook to offer on the page."""
        if not url.startswith(("http://", "https://")) or not secret:
            raise SandboxError("url (http:// or https://) and secret are required")
        entry = {"label": label or url, "url": url, "secret": secret}
        with self.lock:
            self.connections = [c for c in self.connections if c["label"] != entry["label"]] + [entry]
        return entry

    def next_status(self, number: str) -> str:
        """The parcel's next step in the label → transit → delivered sequence (stays delivered)."""
        with self.lock:
            return SEQUENCE[min(self.progress.get(number, 0), len(SEQUENCE) - 1)]

    def send(self, url: str, secret: str, number: str, status: str | None = None, timeout: float = 10) -> dict:
        """Sign and POST one event; the parcel moves to its next step only when it was accepted."""
        number = (number or "").strip()
        if not url.startswith(("http://", "https://")) or not secret or not number:
            raise SandboxError("url (http:// or https://), secret and tracking_number are required")
        status = status or self.next_status(number)
        if status not in STATUSES:
            raise SandboxError(f"status must be one of {', '.join(STATUSES)}")
        now = datetime.now(timezone.utc)
        body = json.dumps({
            # One id per parcel and step: sending a step again is a duplicate, as a carrier's resend.
            "event_id": f"sandbox-{number}-{status}", "tracking_number": number, "status": status,
            "occurred_at": now.isoformat(timespec="seconds"), "carrier": "Sandbox Parcel Co.",
            "description": DESCRIPTIONS[status]}).encode()
        # Real time, not the sandbox's (possibly virtual) clock: the receiver checks the signed
        # timestamp against its own clock.
        stamp = int(time.time())
        digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        entry = {"url": url, "tracking_number": number, "status": status, "at": now.isoformat(timespec="seconds")}
        try:
            response = requests.post(url, data=body, timeout=timeout, headers={
                "Content-Type": "application/json", SIGNATURE_HEADER: f"t={stamp},v1={digest}"})
            entry.update(code=response.status_code, answer=response.text[:300])
        except requests.RequestException as error:
            entry.update(code=None, answer=f"could not reach the webhook: {error.__class__.__name__}")
        with self.lock:
            if entry["code"] is not None and 200 <= entry["code"] < 300 and status in SEQUENCE:
                self.progress[number] = max(self.progress.get(number, 0), SEQUENCE.index(status) + 1)
            self.sent = (self.sent + [entry])[-20:]
        return entry

    def summary(self) -> dict:
        """What the page and GET /_sandbox/carrier show (secrets too: this is a test double)."""
        with self.lock:
            return {"connections": list(self.connections), "sent": list(reversed(self.sent)),
                    "progress": {n: SEQUENCE[min(i, len(SEQUENCE)) - 1] for n, i in self.progress.items() if i}}


def carrier() -> Carrier:
    """The app's carrier (made on first use)."""
    return current_app.extensions.setdefault("sandbox_carrier", Carrier())


def _json() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise SandboxError("body must be a JSON object")
    return data


@bp.get("/_sandbox/carrier")
def carrier_state():
    """Remembered webhooks, each parcel's last step and recent sends."""
    return jsonify(carrier().summary())


@bp.post("/_sandbox/carrier/connections")
def carrier_register():
    """Remember a webhook for the page's form."""
    data = _json()
    entry = carrier().register(str(data.get("label") or ""), str(data.get("url") or ""), str(data.get("secret") or ""))
    return jsonify(entry), 201


@bp.post("/_sandbox/carrier/send")
def carrier_send():
    """Send one event; 200 with the webhook's answer (its status code is in ``code``)."""
    data = _json()
    entry = carrier().send(str(data.get("url") or ""), str(data.get("secret") or ""),
                           str(data.get("tracking_number") or ""), data.get("status") or None)
    return jsonify(entry), 200


@bp.post("/carrier/send")
def carrier_send_form():
    """The page's button: send, then back to the page (the result is listed there)."""
    form = request.form
    try:
        carrier().send(form.get("url", ""), form.get("secret", ""), form.get("tracking_number", ""),
                       form.get("status") or None)
    except SandboxError as error:
        with carrier().lock:
            carrier().sent = (carrier().sent + [{"url": form.get("url", ""), "status": form.get("status"),
                                                 "tracking_number": form.get("tracking_number", ""),
                                                 "code": None, "answer": str(error)}])[-20:]
    return redirect(url_for("sandbox_ui.index") + "#carrier", code=303)


@bp.app_context_processor
def _carrier_context():
    """The page's carrier section reads this (so the page's own view needs no change)."""
    return {"carrier": carrier().summary(), "carrier_statuses": STATUSES}

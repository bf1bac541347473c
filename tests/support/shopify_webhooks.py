"""Sending signed Shopify webhooks to the app in tests, through either door."""
import json
import uuid
from datetime import datetime, timezone

import pytest

from app.shopify.webhooks import compute_webhook_hmac

SECRET = "shpss_test_webhook_secret"


def signed_headers(body: bytes, shop: str, topic: str = "orders/create", secret: str = SECRET,
                   event_id: str | None = None) -> dict:
    """Shopify's headers for a delivery of `body`."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": compute_webhook_hmac(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-04",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        # Shopify's format (nanoseconds, Z), triggered just now.
        "X-Shopify-Triggered-At": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f000Z"),
    }


def post_webhook(client, payload, shop: str, topic: str = "orders/create", secret: str = SECRET,
                 event_id: str | None = None, body: bytes | None = None):
    """POST a signed delivery; returns the response."""
    body = body if body is not None else json.dumps(payload).encode()
    return client.post("/webhooks/shopify", data=body,
                       headers=signed_headers(body, shop, topic, secret, event_id))


@pytest.fixture(params=["fast path", "flask view"])
def webhook_door(request, app, monkeypatch):
    """`POST /webhooks/shopify` served by the WSGI fast path (as the served app, wsgi.py, does) or
    by the Flask view (WEBHOOK_FAST_PATH off): a test using it runs through both, in whichever
    configuration the suite runs. Returns the door's name."""
    monkeypatch.setitem(app.config, "WEBHOOK_FAST_PATH", request.param == "fast path")
    return request.param

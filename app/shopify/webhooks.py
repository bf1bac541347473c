"""Shopify webhook deliveries: HMAC verification and header parsing.

Facts (shopify.dev/docs/apps/build/webhooks/verify-deliveries; reference §1.1–1.2):
- ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(key=app client secret, msg=raw body bytes)).
  Computed over the raw bytes *before* any JSON parsing; base64 is case-sensitive, so the compare
  is exact (a lower-cased digest must fail) and constant-time.
- After a secret rotation Shopify may sign with the old secret for up to an hour: accept a list.
- Header names are case-insensitive (HTTP/2 lower-cases them).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from app.shopify.values import parse_datetime


def compute_webhook_hmac(body: bytes, secret: str | bytes) -> str:
    """The base64 HMAC-SHA256 Shopify puts in ``X-Shopify-Hmac-Sha256`` for ``body``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def verify_webhook(body: bytes, hmac_header: str | None,
                   secrets: str | bytes | Iterable[str | bytes]) -> bool:
    """True when ``hmac_header`` matches ``body`` under any of ``secrets`` (current, previous).

    ``body`` must be the raw request bytes (Flask: ``request.get_data()``), never re-serialised JSON.
    Every secret is tried, so the time taken does not reveal which one matched.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError("verify_webhook needs the raw body bytes")
    if not hmac_header:
        return False
    if isinstance(secrets, (str, bytes)):
        secrets = [secrets]
    received = hmac_header.strip().encode("ascii", errors="replace")
    matched = False
    for secret in secrets:
        if not secret:
            continue
        expected = compute_webhook_hmac(bytes(body), secret).encode("ascii")
        matched |= hmac.compare_digest(expected, received)
    return matched


@dataclass(frozen=True)
class WebhookHeaders:
    """The Shopify headers of one delivery."""

    topic: str | None
    shop_domain: str | None
    event_id: str | None        # same for every delivery of one merchant action: dedupe on it
    webhook_id: str | None      # unique per delivery
    triggered_at: datetime | None
    api_version: str | None
    hmac: str | None
    name: str | None = None     # optional subscription name


def parse_webhook_headers(headers: Mapping[str, str]) -> WebhookHeaders:
    """Read the ``X-Shopify-*`` headers case-insensitively (works on dicts and Flask headers).

    An unparseable ``X-Shopify-Triggered-At`` raises ``errors.ShopifyDataError``; absent headers are None.
    """
    lowered = {str(k).lower(): v for k, v in headers.items()}

    def get(name: str) -> str | None:
        value = lowered.get(name)
        value = value.strip() if isinstance(value, str) else None
        return value or None

    triggered = get("x-shopify-triggered-at")
    shop = get("x-shopify-shop-domain")
    return WebhookHeaders(
        topic=get("x-shopify-topic"),
        shop_domain=shop.lower() if shop else None,
        event_id=get("x-shopify-event-id"),
        webhook_id=get("x-shopify-webhook-id"),
        triggered_at=parse_datetime(triggered, "X-Shopify-Triggered-At") if triggered else None,
        api_version=get("x-shopify-api-version"),
        hmac=get("x-shopify-hmac-sha256"),
        name=get("x-shopify-name"),
    )


"""Shopify webhook deliveries: HMAC verification, header parsing and the body's acceptance rule.

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
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

import msgspec

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



# --- the body: one acceptance rule for intake and processing ----------------------------------

class DeliveryBodyError(ValueError):
    """A delivery body that is not a UTF-8 JSON object; the message says which part failed."""


# Validates the whole document but builds only its top level: the nested values stay raw bytes.
_OBJECT_CHECK = msgspec.json.Decoder(dict[str, msgspec.Raw])
# msgspec leaves a nested number raw, so it passes an integer of any length; the stdlib refuses
# one longer than the interpreter's limit (4,300 digits by default). A body with such a run of
# digits (in a number or, harmlessly, in a string) is asked of the rule itself.
_INT_DIGITS = sys.get_int_max_str_digits()
_DIGITS = b"0123456789"


def _long_digit_run(body: bytes) -> bool:
    """Whether `body` holds more digits in a row than the stdlib reads as an integer. Such a run
    covers one of every `_INT_DIGITS + 1` positions, so only those are looked at: a few per order
    (a regular expression over the whole body cost ten times msgspec's check)."""
    if not _INT_DIGITS:
        return False
    step = _INT_DIGITS + 1
    for at in range(_INT_DIGITS, len(body), step):
        if body[at] in _DIGITS:
            before = body[max(0, at - _INT_DIGITS):at]
            after = body[at:at + step]
            run = (len(before) - len(before.rstrip(_DIGITS))) + (len(after) - len(after.lstrip(_DIGITS)))
            if run > _INT_DIGITS:
                return True
    return False


def delivery_payload(text: str) -> dict:
    """The delivery's JSON object: the rule itself. A body is accepted exactly when the stdlib's
    `json.loads` reads it as an object, so what intake stores, the processing job can read
    (a wrong refusal loses an order: Shopify is told 400 and gives up after its retries)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise DeliveryBodyError("body is not valid JSON") from None
    if not isinstance(value, dict):
        raise DeliveryBodyError("body is not a JSON object")
    return value


def delivery_text(body: bytes) -> str:
    """The body as text once `delivery_payload` would accept it (else DeliveryBodyError).

    Intake keeps the body as text and only needs to know it passes, so msgspec checks it without
    building the order (a quarter of the stdlib's time on a 12 KB order, and next to no garbage
    for the collector, whose full passes stall a server). msgspec refuses a few things the stdlib
    reads (a lone surrogate escape such as a cut emoji in a note, NaN): those are asked of the rule
    itself, as is a body with a run of digits longer than the stdlib reads as an integer. Where
    msgspec accepts, so does the stdlib (tests/unit/shopify/test_delivery_body.py)."""
    try:
        text = body.decode("utf-8")  # msgspec does not check the UTF-8 inside a skipped value
    except UnicodeDecodeError:
        raise DeliveryBodyError("body is not valid JSON") from None
    try:
        _OBJECT_CHECK.decode(body)
        if not _long_digit_run(body):
            return text
    except msgspec.ValidationError:  # well formed, but not an object at the top
        raise DeliveryBodyError("body is not a JSON object") from None
    except (msgspec.DecodeError, RecursionError):
        pass
    delivery_payload(text)
    return text

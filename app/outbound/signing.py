"""How a delivery is signed, and how a receiver checks it (docs/webhooks.md shows the same in a
receiver's code).

Modelled on Shopify's own deliveries, which carry an HMAC-SHA256 of the raw body keyed with the
app's secret (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries); ours also sign a
timestamp, so a captured delivery cannot be replayed later, and carry one signature per valid
secret, so a secret can be rotated without a moment when receivers reject good deliveries.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SCHEME = "v1"
# How old a delivery's timestamp may be before a receiver should refuse it (docs/webhooks.md).
REPLAY_WINDOW_SECONDS = 300


def new_secret() -> str:
    """A fresh signing secret (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed with `secret`."""
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets_in_force: list[str], timestamp: int, body: bytes) -> str:
    """The X-Boomerang-Signature value: "v1=<hex>" per secret in force, newest first."""
    return ", ".join(f"{SCHEME}={signature(secret, timestamp, body)}" for secret in secrets_in_force)


def verify(secret: str, header: str, timestamp: str, body: bytes, now: float,
           window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """What a receiver does: the timestamp is recent and one of the header's v1 signatures is the
    one `secret` makes (compared in constant time)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent_at) > window:
        return False
    expected = signature(secret, sent_at, body)
    given = [part.strip().partition("=") for part in (header or "").split(",")]
    return any(scheme == SCHEME and hmac.compare_digest(value, expected) for scheme, _, value in given)

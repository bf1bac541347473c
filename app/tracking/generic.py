"""Our own signed JSON format, for senders that cannot sign any other way (a 3PL's script, the
sandbox's fake carrier). Contract (reference/tracking-providers.md §6.8):

    X-Returns-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

    {"event_id": "…", "tracking_number": "…", "status": "in_transit", "occurred_at": "<RFC 3339>",
     "carrier": "…", "raw_status": "…", "description": "…", "location": "…",
     "history": [{"event_id"?, "status", "occurred_at", "description"…}, …]}

`status` is one of label_created, in_transit, out_for_delivery, delivered, exception, unknown.
A timestamp more than five minutes from our clock is refused (a replayed capture).
"""
from __future__ import annotations

import time
from collections.abc import Mapping

from app.domain.tracking import EXCEPTION, STATES, generic_state
from app.tracking.base import (Credentials, DeliveryRefused, ParsedEvent, SignatureInvalid, StaleDelivery,
                               hmac_sha256, list_of_at_most, load_json, object_or_400, parse_time, same, stable_id,
                               text)

HEADER = "X-Returns-Signature"
TOLERANCE_SECONDS = 300
MAX_HISTORY = 500


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for `body` signed at `timestamp` (what a sender computes)."""
    digest = hmac_sha256(secret.encode("utf-8"), str(timestamp).encode() + b"." + body).hex()
    return f"t={timestamp},v1={digest}"


def _parse_header(value: str | None) -> tuple[str, list[str]]:
    if not value:
        raise SignatureInvalid(f"{HEADER} header missing")
    timestamp, signatures = None, []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t":
            timestamp = item
        elif key == "v1" and item:
            signatures.append(item)
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12 or not signatures:
        raise SignatureInvalid(f"{HEADER} header is not t=<unix seconds>,v1=<hex>")
    return timestamp, signatures


class GenericAdapter:
    """Verify and parse the generic format."""

    name = "generic"
    label = "Generic signed JSON"

    def verify(self, headers: Mapping[str, str], body: bytes, credentials: Credentials,
               now: float | None = None) -> None:
        """HMAC over `t.body` (lowercase hex, constant time), then the five-minute window: a
        forged signature is a 401 whatever its age; a genuine old one is a 400."""
        timestamp, signatures = _parse_header(headers.get(HEADER))
        if not credentials.secret:
            raise SignatureInvalid("this connection has no signing secret")
        expected = hmac_sha256(credentials.secret.encode("utf-8"), timestamp.encode() + b"." + body).hex()
        if not any(same(expected, candidate) for candidate in signatures):
            raise SignatureInvalid("signature does not match")
        now = time.time() if now is None else now
        if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
            raise StaleDelivery(f"signature timestamp is more than {TOLERANCE_SECONDS} seconds from now")

    def parse(self, body: bytes) -> list[ParsedEvent]:
        """The top-level event plus its history rows (each inheriting the tracking number)."""
        payload = object_or_400(load_json(body))
        number = text(payload.get("tracking_number"), 200)
        if not number:
            raise DeliveryRefused("tracking_number is missing")
        history = list_of_at_most(payload.get("history"), "history", MAX_HISTORY)
        rows = [object_or_400(row, "a history entry") for row in history]
        return [_event(row, number) for row in rows] + [_event(payload, number)]


def _event(row: dict, number: str) -> ParsedEvent:
    raw_status = text(row.get("status"), 128)
    state = generic_state(raw_status)
    if state is None:
        allowed = ", ".join(s.lower() for s in STATES)
        raise DeliveryRefused(f"status must be one of {allowed}")
    occurred = row.get("occurred_at")
    occurred_at = parse_time(occurred)
    if occurred not in (None, "") and occurred_at is None:
        raise DeliveryRefused("occurred_at is not an RFC 3339 time")
    description = text(row.get("description")) or text(row.get("raw_status"))
    event_id = text(row.get("event_id"), 200)
    return ParsedEvent(
        provider_event_id=f"e:{event_id}" if event_id else stable_id(number, state, occurred, description),
        tracking_number=number, state=state, raw_status=text(row.get("raw_status"), 128) or raw_status,
        occurred_at=occurred_at, exception=(description or "Carrier reported an exception") if state == EXCEPTION
        else None, raw={k: v for k, v in row.items() if k != "history"})


ADAPTER = GenericAdapter()

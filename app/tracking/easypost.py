"""EasyPost webhooks (`tracker.created` / `tracker.updated` Events).

Signature: header `X-Hmac-Signature: hmac-sha256-hex=<lowercase hex>`, HMAC-SHA256 over the
raw body with the UTF-8 bytes of the NFKD-normalised webhook secret — as EasyPost's own client
checks it (easypost-python `validate_webhook`). NFC and NFKD bytes of a secret like "sécret"
differ, so skipping the normalisation fails on exactly the secrets people type with accents.

Body: an Event whose `result` is a Tracker; every `tracking_details[]` row has its own status,
so the history is mapped row by row. Events of other kinds are accepted and ignored.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from app.domain.tracking import EXCEPTION, easypost_state
from app.tracking.base import (Credentials, DeliveryRefused, ParsedEvent, SignatureInvalid, hmac_sha256,
                               list_of_at_most, load_json, object_or_400, parse_time, same, stable_id, text,
                               with_top_status)

HEADER = "X-Hmac-Signature"
PREFIX = "hmac-sha256-hex="
MAX_DETAILS = 1000


def sign(secret: str, body: bytes) -> str:
    """The header value EasyPost sends for `body`."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return PREFIX + hmac_sha256(key, body).hex()


class EasyPostAdapter:
    """Verify and parse EasyPost tracker Events."""

    name = "easypost"
    label = "EasyPost"

    def verify(self, headers: Mapping[str, str], body: bytes, credentials: Credentials,
               now: float | None = None) -> None:
        """Exact match of the whole header value, prefix included (constant time)."""
        given = headers.get(HEADER)
        if not given:
            raise SignatureInvalid(f"{HEADER} header missing (set the webhook secret in EasyPost)")
        if not credentials.secret:
            raise SignatureInvalid("this connection has no webhook secret")
        if not same(sign(credentials.secret, body), given.strip()):
            raise SignatureInvalid("signature does not match")

    def parse(self, body: bytes) -> list[ParsedEvent]:
        """One event per tracking detail, plus the tracker's status when no detail reaches it."""
        payload = object_or_400(load_json(body))
        result = payload.get("result")
        if payload.get("object") == "Event" and not (isinstance(result, dict) and result.get("object") == "Tracker"):
            return []  # an Event about something else (a batch, a refund): nothing to track
        tracker = object_or_400(result if isinstance(result, dict) else payload, "result")
        number = text(tracker.get("tracking_code"), 200)
        if not number:
            raise DeliveryRefused("result.tracking_code is missing")
        details = list_of_at_most(tracker.get("tracking_details"), "tracking_details", MAX_DETAILS)
        events = [_detail(object_or_400(row, "a tracking detail"), number) for row in details]
        status = text(tracker.get("status"), 64)
        state = easypost_state(status)
        top = ParsedEvent(
            provider_event_id=stable_id(number, "status", state), tracking_number=number, state=state,
            raw_status=status, occurred_at=parse_time(tracker.get("updated_at")),
            exception=(text(tracker.get("status_detail")) or status) if state == EXCEPTION else None,
            raw={"event_id": payload.get("id"), "status": status, "status_detail": tracker.get("status_detail"),
                 "carrier": tracker.get("carrier"), "is_return": tracker.get("is_return")})
        return with_top_status(events, top)


def _detail(row: dict, number: str) -> ParsedEvent:
    status = text(row.get("status"), 64)
    state = easypost_state(status)
    message = text(row.get("message")) or text(row.get("description"))
    return ParsedEvent(
        provider_event_id=stable_id(number, status, row.get("status_detail"), row.get("datetime"), message),
        tracking_number=number, state=state, raw_status=status, occurred_at=parse_time(row.get("datetime")),
        exception=(message or status) if state == EXCEPTION else None, raw=row)


ADAPTER = EasyPostAdapter()

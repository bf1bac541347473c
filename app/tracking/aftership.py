"""AfterShip Tracking webhooks (`tracking_update` and friends).

Signature: header `aftership-hmac-sha256` = base64(HMAC-SHA256(webhook secret as UTF-8, raw
body)). The secret is shown in AfterShip's own webhook settings; the retailer pastes it here.
Nothing with a time is signed, so there is no replay window: duplicates are found by id.

Body: {"event", "event_id", "msg": <Tracking: tracking_number, tag, subtag, checkpoints[]>, "ts"}.
AfterShip resends the whole checkpoint history each time; each checkpoint becomes one event, so
a missed webhook in between is harmless.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping

from app.domain.tracking import EXCEPTION, aftership_state
from app.tracking.base import (Credentials, DeliveryRefused, ParsedEvent, SignatureInvalid, hmac_sha256,
                               list_of_at_most, load_json, object_or_400, parse_time, same, stable_id, text,
                               with_top_status)

HEADER = "aftership-hmac-sha256"
MAX_CHECKPOINTS = 1000


def sign(secret: str, body: bytes) -> str:
    """The header value AfterShip sends for `body`."""
    return base64.b64encode(hmac_sha256(secret.encode("utf-8"), body)).decode()


class AfterShipAdapter:
    """Verify and parse AfterShip Tracking webhooks."""

    name = "aftership"
    label = "AfterShip"

    def verify(self, headers: Mapping[str, str], body: bytes, credentials: Credentials,
               now: float | None = None) -> None:
        """Exact base64 (case matters in base64: a lower-cased value is a different digest)."""
        given = headers.get(HEADER)
        if not given:
            raise SignatureInvalid(f"{HEADER} header missing")
        if not credentials.secret:
            raise SignatureInvalid("no AfterShip webhook secret is saved for this connection")
        if not same(sign(credentials.secret, body), given.strip()):
            raise SignatureInvalid("signature does not match")

    def parse(self, body: bytes) -> list[ParsedEvent]:
        """One event per checkpoint, plus the tracking's own tag when no checkpoint reaches it."""
        payload = object_or_400(load_json(body))
        msg = object_or_400(payload.get("msg"), "msg")
        number = text(msg.get("tracking_number"), 200)
        if not number:
            raise DeliveryRefused("msg.tracking_number is missing")
        checkpoints = list_of_at_most(msg.get("checkpoints"), "msg.checkpoints", MAX_CHECKPOINTS)
        events = [_checkpoint(object_or_400(row, "a checkpoint"), number) for row in checkpoints]
        tag, subtag = text(msg.get("tag"), 64), text(msg.get("subtag"), 64)
        state = aftership_state(tag, subtag)
        top = ParsedEvent(
            provider_event_id=stable_id(number, "tag", state), tracking_number=number, state=state,
            raw_status=subtag or tag, occurred_at=parse_time(msg.get("updated_at")),
            exception=(text(msg.get("subtag_message")) or tag or "Exception") if state == EXCEPTION else None,
            raw={"event_id": payload.get("event_id"), "tag": tag, "subtag": subtag,
                 "subtag_message": msg.get("subtag_message"), "slug": msg.get("slug")})
        return with_top_status(events, top)


def _checkpoint(row: dict, number: str) -> ParsedEvent:
    tag, subtag = text(row.get("tag"), 64), text(row.get("subtag"), 64)
    state = aftership_state(tag, subtag)
    message = text(row.get("message"))
    # 2026-07 payloads carry a per-checkpoint hash made for de-duplication; older ones do not.
    given = text(row.get("hash"), 200)
    event_id = f"c:{given}" if given else stable_id(
        number, row.get("slug"), tag, subtag, row.get("checkpoint_time"), message)
    return ParsedEvent(
        provider_event_id=event_id, tracking_number=number, state=state, raw_status=subtag or tag,
        occurred_at=parse_time(row.get("checkpoint_time")),
        exception=(message or text(row.get("subtag_message")) or "Exception") if state == EXCEPTION else None,
        raw=row)


ADAPTER = AfterShipAdapter()

"""Shippo tracking webhooks (`track_updated`).

Shippo signs nothing by default. Its documented way to authenticate a webhook is a secret token
the merchant puts in the webhook URL, and that is exactly what our per-connection URL token is:
the URL authenticates the delivery and `verify` checks nothing more. Shippo's HMAC signing is
only provisioned through its account managers and its header format is unverified
(reference/tracking-providers.md §4), so no signature is checked — a delivery carrying one is
accepted on its URL alone, like one without.

Body: `{"event": "track_updated", "test": <bool>, "data": <Track object>}` where the Track has
`tracking_number`, `tracking_status` (the current status) and `tracking_history[]` (every status
row so far). Each row has `status` (UNKNOWN, PRE_TRANSIT, TRANSIT, DELIVERED, RETURNED, FAILURE)
and, in newer API versions, `substatus {code, text, action_required}`. Each history row becomes
one event, plus the current status when the history does not reach it, so a missed webhook in
between is harmless. Older API versions report label-stage rows as UNKNOWN: they change nothing.
"""
from __future__ import annotations

from collections.abc import Mapping

from app.domain.tracking import EXCEPTION, shippo_state
from app.tracking.base import (Credentials, DeliveryRefused, ParsedEvent, load_json, object_or_400, parse_time,
                               list_of_at_most, stable_id, text, with_top_status)

EVENT = "track_updated"
MAX_HISTORY = 1000


class ShippoAdapter:
    """Verify and parse Shippo `track_updated` webhooks."""

    name = "shippo"
    label = "Shippo"

    def verify(self, headers: Mapping[str, str], body: bytes, credentials: Credentials,
               now: float | None = None) -> None:
        """Nothing to check: the secret URL token (already matched) is Shippo's documented
        authentication, and there is no verified signature scheme to check beside it."""
        return None

    def parse(self, body: bytes) -> list[ParsedEvent]:
        """One event per history row, plus the current status when no row reaches it.

        `test: true` deliveries (Shippo's test mode) are treated like any other: no adapter
        here acts on a provider's test flag (EasyPost's `mode` is not looked at either), and a
        test track only moves a return that carries the test tracking number."""
        payload = object_or_400(load_json(body))
        if payload.get("event") != EVENT:
            raise DeliveryRefused(f'only "{EVENT}" webhooks are accepted here')
        track = object_or_400(payload.get("data"), "data")
        number = text(track.get("tracking_number"), 200)
        if not number:
            raise DeliveryRefused("data.tracking_number is missing")
        history = list_of_at_most(track.get("tracking_history"), "data.tracking_history", MAX_HISTORY)
        events = [_event(object_or_400(row, "a tracking_history row"), number) for row in history]
        current = track.get("tracking_status")
        top = _event(object_or_400(current, "data.tracking_status"), number) if current else None
        return with_top_status(events, top)


def _event(row: dict, number: str) -> ParsedEvent:
    status = text(row.get("status"), 32)
    substatus = row.get("substatus") if isinstance(row.get("substatus"), dict) else {}
    code = text(substatus.get("code"), 64)
    state = shippo_state(status, code)
    details = text(row.get("status_details"))
    # Shippo gives every status row an object_id; a row without one (a trimmed or hand-made
    # payload) gets an id from what identifies it, so a resend still finds its duplicate.
    object_id = text(row.get("object_id"), 200)
    event_id = f"o:{object_id}" if object_id else stable_id(number, status, code, row.get("status_date"))
    return ParsedEvent(
        provider_event_id=event_id, tracking_number=number, state=state,
        raw_status=f"{status}/{code}" if status and code else status or code,
        occurred_at=parse_time(row.get("status_date")),
        exception=(text(substatus.get("text")) or details or status or "Exception") if state == EXCEPTION else None,
        raw=row)


ADAPTER = ShippoAdapter()

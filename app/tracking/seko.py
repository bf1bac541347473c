"""SEKO OmniRPS returns tracking webhook.

SEKO signs nothing. What authenticates a delivery is the secret token in the URL we give the
retailer, plus — when the retailer sets them in SEKO — the optional `Username` and `Password`
request headers, compared in constant time.

Body: a JSON array of events `{"OmniRPSTrackingNo", "ConsignmentNo", "Code", "Status",
"EventDT", …}` with no event id, so each event's id is derived from its number, code and time.
`EventDT` is local time without an offset.
"""
from __future__ import annotations

from collections.abc import Mapping

from app.domain.tracking import EXCEPTION, seko_state
from app.tracking.base import (Credentials, DeliveryRefused, ParsedEvent, SignatureInvalid, load_json,
                               object_or_400, parse_time, same, stable_id, text)

MAX_EVENTS = 1000


class SekoAdapter:
    """Verify and parse SEKO OmniRPS deliveries."""

    name = "seko"
    label = "SEKO OmniRPS"

    def verify(self, headers: Mapping[str, str], body: bytes, credentials: Credentials,
               now: float | None = None) -> None:
        """When credentials are configured both headers must match; both are always compared,
        so the answer does not tell which one was wrong."""
        if not credentials.username and not credentials.secret:
            return  # the URL token alone (already checked) is the shared secret
        user_ok = same(headers.get("Username") or "", credentials.username or "")
        password_ok = same(headers.get("Password") or "", credentials.secret or "")
        if not (user_ok and password_ok):
            raise SignatureInvalid("Username/Password headers do not match")

    def parse(self, body: bytes) -> list[ParsedEvent]:
        """Every event of the array (a single object is taken as an array of one)."""
        payload = load_json(body)
        rows = payload if isinstance(payload, list) else [object_or_400(payload)]
        if len(rows) > MAX_EVENTS:
            raise DeliveryRefused(f"at most {MAX_EVENTS} events per delivery")
        return [_event(object_or_400(row, "an event")) for row in rows]


def _event(row: dict) -> ParsedEvent:
    rps_number = text(row.get("OmniRPSTrackingNo"), 200)
    consignment = text(row.get("ConsignmentNo"), 200)
    number = rps_number or consignment
    if not number:
        raise DeliveryRefused("an event has neither OmniRPSTrackingNo nor ConsignmentNo")
    code = text(row.get("Code"), 16)
    if not code:
        raise DeliveryRefused("an event has no Code")
    state = seko_state(code)
    status = text(row.get("Status"))
    # RC/RP come once per line item (ItemNo) with the same code and time: one parcel event.
    return ParsedEvent(
        provider_event_id=stable_id(number, code.upper(), row.get("EventDT")), tracking_number=number,
        state=state, raw_status=code, occurred_at=parse_time((row.get("EventDT") or "").replace(" ", "T", 1)
                                                             if isinstance(row.get("EventDT"), str) else None),
        exception=(status or code) if state == EXCEPTION else None, raw=row,
        other_numbers=tuple(n for n in (consignment,) if n and n != number))


ADAPTER = SekoAdapter()

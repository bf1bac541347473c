"""What every tracking-provider adapter offers, and the helpers they share.

An adapter authenticates a delivery over its raw bytes (before any JSON parsing) and turns the
body into ParsedEvents: one per history row the provider sends, each with an id that stays the
same when the provider resends it, so duplicates are found by the database's unique key.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from app.domain.tracking import EXCEPTION, rank
from app.text import UNSTORABLE_TEXT


class DeliveryRefused(Exception):
    """A delivery we will not accept; `status` is the HTTP answer and the message says why."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class SignatureInvalid(DeliveryRefused):
    """Missing, malformed or wrong signature or credentials (401)."""

    status = 401


class StaleDelivery(DeliveryRefused):
    """A correctly signed delivery whose signed timestamp is outside the window (400)."""

    status = 400


@dataclass(frozen=True)
class ParsedEvent:
    """One carrier event in our terms. `exception` is the text shown when state is EXCEPTION;
    `other_numbers` are further numbers the same parcel is known by (matched too)."""

    provider_event_id: str
    tracking_number: str
    state: str
    raw_status: str | None
    occurred_at: datetime | None
    exception: str | None = None
    raw: dict | None = None
    other_numbers: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Credentials:
    """What the connection holds to authenticate a delivery (plain text, decrypted)."""

    secret: str | None = None
    username: str | None = None


class Adapter(Protocol):
    """A provider: `verify` raises SignatureInvalid/StaleDelivery, `parse` raises DeliveryRefused."""

    name: str
    label: str

    def verify(self, headers: Mapping[str, str], body: bytes, credentials: Credentials,
               now: float | None = None) -> None: ...

    def parse(self, body: bytes) -> list[ParsedEvent]: ...


def hmac_sha256(key: bytes, body: bytes) -> bytes:
    """The raw HMAC-SHA256 digest of `body` under `key`."""
    return hmac.new(key, body, hashlib.sha256).digest()


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time equality of two strings or byte strings."""
    a = a.encode() if isinstance(a, str) else a
    b = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a, b)


def load_json(body: bytes) -> Any:
    """The body as JSON, or DeliveryRefused(400) saying why not: also when it holds text no
    database column takes (a NUL, which PostgreSQL refuses; a lone surrogate, which UTF-8 cannot
    encode) or a number JSON columns cannot store (1e999 reads as infinity). A 400 and not a 5xx:
    the same body sent again fails again, so asking for it again only repeats the failure."""
    if not body.strip():
        raise DeliveryRefused("empty body")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested past the parser's depth
        raise DeliveryRefused("body is not valid JSON") from None
    _check_storable(payload)
    return payload


def _check_storable(value: Any) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if UNSTORABLE_TEXT.search(item):
                raise DeliveryRefused("body holds a NUL or a lone surrogate")
        elif isinstance(item, float) and not math.isfinite(item):
            raise DeliveryRefused("body holds a number out of range")


def stable_id(*parts: object) -> str:
    """An id derived from what identifies an event (number, status, time…): the same event
    resent gives the same id, for providers that send no id of their own."""
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return "h:" + hashlib.sha256(text.encode()).hexdigest()[:40]


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 / RFC 3339 time as an aware datetime; None when absent or impossible.

    Times without an offset (AfterShip's doc sample, SEKO's local EventDT) are read as UTC: they
    only order a parcel's events for display, never decide its state (rank does)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def text(value: object, limit: int = 255) -> str | None:
    """A payload value as trimmed text (None when empty or not a scalar)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    out = str(value).strip()
    return out[:limit] or None


def object_or_400(value: object, what: str = "body") -> dict:
    """`value` when it is a JSON object; DeliveryRefused(400) otherwise."""
    if not isinstance(value, dict):
        raise DeliveryRefused(f"{what} is not a JSON object")
    return value


def list_of_at_most(value: object, what: str, limit: int) -> list:
    """`value` as a list (absent or empty: []); DeliveryRefused(400) when it is not a list or is
    longer than `limit` (a bound on the work one delivery can ask for)."""
    value = value or []
    if not isinstance(value, list) or len(value) > limit:
        raise DeliveryRefused(f"{what} must be a list of at most {limit}")
    return value


def with_top_status(events: list[ParsedEvent], top: ParsedEvent | None) -> list[ParsedEvent]:
    """The history rows plus the top-level status when the history does not reach it (or is
    empty): aggregators resend the whole history, but a trimmed one must not lose the status."""
    if top is None:
        return events
    if not events or (rank(top.state) > max(rank(e.state) for e in events)):
        return [*events, top]
    if top.state == EXCEPTION and all(e.state != EXCEPTION for e in events):
        return [*events, top]
    return events

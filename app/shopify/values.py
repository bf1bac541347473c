"""Strict parsers for Shopify's scalar values: ids, money, datetimes, tags.

Each raises ``ShopifyDataError`` on a value it cannot read exactly — never a silent wrong value.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from app.shopify.errors import ShopifyDataError

# Shopify ids are UnsignedInt64 in the schema; ours are stored as signed BIGINT, and no real id
# comes near 2**63, so anything at or above it is treated as corrupt.
_MAX_ID = 2 ** 63 - 1
# ASCII digits only: \d would take "１２３" (full-width) for an id.
_GID_RE = re.compile(r"^gid://shopify/([A-Za-z]+)/([0-9]+)(?:\?.*)?$")
# Plain decimal notation only: optional sign, digits, optional fraction. No exponent, no NaN or
# Infinity, no thousands separators — Shopify's Decimal/Money strings look like "24.95".
_MONEY_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
UNIT_VALUE_PLACES = Decimal("0.0001")
# The money columns are numeric(19, 4): 15 digits before the point, 4 after. No order comes near it.
_MONEY_LIMIT = Decimal(10) ** 15


def parse_id(value, kind: str | None = None) -> int:
    """An id as int from an int, a digit string, or a ``gid://shopify/<Kind>/<n>`` string.

    Escaped gids from captured payloads (``gid:\\/\\/shopify\\/Order\\/1``) are accepted. Floats
    are refused: a 64-bit id that passed through a float has already lost digits.
    """
    if isinstance(value, bool) or value is None:
        raise ShopifyDataError(f"missing or invalid id: {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip().replace("\\/", "/")
        if text.isascii() and text.isdigit():  # "²" and "٣" are digits to str.isdigit
            number = int(text)
        else:
            match = _GID_RE.match(text)
            if not match:
                raise ShopifyDataError(f"not a Shopify id: {value!r}")
            if kind and match.group(1) != kind:
                raise ShopifyDataError(f"expected a {kind} id, got {value!r}")
            number = int(match.group(2))
    else:
        raise ShopifyDataError(f"id of type {type(value).__name__} refused: {value!r}")
    if not 0 < number <= _MAX_ID:
        raise ShopifyDataError(f"id out of range: {value!r}")
    return number


def parse_optional_id(value, kind: str | None = None) -> int | None:
    """``parse_id`` that lets None (and empty strings) through as None."""
    if value is None or value == "":
        return None
    return parse_id(value, kind)


def parse_money(value, what: str = "amount") -> Decimal:
    """An exact Decimal from a Shopify money value (normally a string such as "24.95").

    JSON numbers are accepted too (old REST refund fields send ``195.67``): an int directly, a
    float through its shortest ``str`` form, never through its binary value.
    """
    if isinstance(value, bool) or value is None:
        raise ShopifyDataError(f"{what}: missing or invalid money value {value!r}")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = _decimal_from_text(str(value), what, allow_exponent=True)
    elif isinstance(value, str):
        amount = _decimal_from_text(value.strip(), what)
    else:
        raise ShopifyDataError(f"{what}: money of type {type(value).__name__} refused: {value!r}")
    if not amount.is_finite():
        raise ShopifyDataError(f"{what}: money value is not finite: {value!r}")
    if abs(amount) >= _MONEY_LIMIT:
        raise ShopifyDataError(f"{what}: money value out of range: {value!r}"[:200])
    if amount.as_tuple().exponent < -4 and amount != amount.quantize(UNIT_VALUE_PLACES):
        # More places than the money columns keep: refused, never rounded silently.
        raise ShopifyDataError(f"{what}: more than four decimal places: {value!r}"[:200])
    return amount


def _decimal_from_text(text: str, what: str, allow_exponent: bool = False) -> Decimal:
    if not _MONEY_RE.match(text):
        if not (allow_exponent and re.match(r"^-?\d+(?:\.\d+)?[eE][-+]?\d+$", text)):
            raise ShopifyDataError(f"{what}: not a money amount: {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already excludes this
        raise ShopifyDataError(f"{what}: not a money amount: {text!r}") from exc


def parse_datetime(value, what: str = "datetime") -> datetime:
    """An aware UTC datetime from an ISO 8601 string with an offset or ``Z``."""
    if not isinstance(value, str) or not value.strip():
        raise ShopifyDataError(f"{what}: missing or invalid datetime {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ShopifyDataError(f"{what}: not an ISO 8601 datetime: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ShopifyDataError(f"{what}: datetime without a UTC offset: {value!r}")
    return parsed.astimezone(timezone.utc)


def parse_optional_datetime(value, what: str = "datetime") -> datetime | None:
    """``parse_datetime`` that lets None and "" through as None."""
    if value is None or value == "":
        return None
    return parse_datetime(value, what)


def split_tags(value) -> tuple[str, ...]:
    """Shopify's tags: one comma-separated string (REST) or a list (GraphQL) → trimmed tuple."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(t.strip() for t in items if isinstance(t, str) and t.strip())


def blank_to_none(value):
    """Shopify sends "" and null interchangeably for absent strings; keep one: None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def unit_value(total: Decimal, quantity: int) -> Decimal:
    """``total / quantity``: exact when it terminates within 4 places, else half-even to 4 places.

    Four places is the precision the money columns store; the exact line total is kept beside
    it so the value of every unit together is never off by a rounding step.
    """
    if quantity <= 0:
        return total
    exact = total / Decimal(quantity)
    rounded = exact.quantize(UNIT_VALUE_PLACES, rounding=ROUND_HALF_EVEN)
    # An exact quotient keeps Decimal's natural scale ("199.00" / 1 stays "199.00").
    return exact if rounded == exact else rounded

"""What a shipped fulfillment tells the shopper: which variants it carried and how to follow it.

Read from a REST fulfillment body (the ``fulfillments/create`` and ``fulfillments/update``
webhooks: shopify.dev/docs/api/admin-rest/2026-04/resources/fulfillment): ``line_items[].variant_id``,
``tracking_number``, ``tracking_url`` (or the first of ``tracking_numbers``/``tracking_urls``),
``tracking_company`` and ``created_at``. Anything not of its expected shape is left out, never
raised: a tracking number is a courtesy in an email, not a reason to refuse the parcel.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.shopify.errors import ShopifyDataError
from app.shopify.values import parse_optional_datetime

NUMBER_MAX, URL_MAX, CARRIER_MAX = 64, 1000, 64


@dataclass(frozen=True)
class Shipment:
    """A shipped fulfillment's variants, its creation and its tracking (each None when unknown)."""

    variant_ids: frozenset[int]
    created_at: datetime | None
    tracking_number: str | None
    tracking_url: str | None
    carrier: str | None


def _text(value, width: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > width or not value.isprintable():
        return None
    return value


def _first(body: dict, one: str, many: str):
    value = body.get(one)
    if value:
        return value
    values = body.get(many)
    return values[0] if isinstance(values, list) and values else None


def shipment_of(body: dict) -> Shipment:
    """The shipment a fulfillment body describes (its fields each checked; see the module)."""
    variants = set()
    for line in body.get("line_items") or () if isinstance(body.get("line_items"), list) else ():
        variant = line.get("variant_id") if isinstance(line, dict) else None
        if isinstance(variant, int) and not isinstance(variant, bool) and 0 < variant < 2**63:
            variants.add(variant)
    url = _text(_first(body, "tracking_url", "tracking_urls"), URL_MAX)
    try:
        created = parse_optional_datetime(body.get("created_at"), "fulfillment created_at")
    except (ShopifyDataError, TypeError, ValueError):
        created = None
    return Shipment(frozenset(variants), created,
                    _text(_first(body, "tracking_number", "tracking_numbers"), NUMBER_MAX),
                    url if url and url.startswith(("https://", "http://")) else None,  # a web link, never script:
                    _text(body.get("tracking_company"), CARRIER_MAX))

"""The plain order value: what a return needs to know about a Shopify order.

Both Shopify shapes (the REST-style JSON of webhook bodies and the GraphQL order node, including
the node rebuilt from a bulk-operation JSONL file) map onto these values in
``app.shopify.mapping``; everything downstream (storage, the portal, the rules engine) reads only
these. No Flask, no SQLAlchemy: frozen dataclasses of plain values.

Conventions:
- Shopify ids are ``int`` (64-bit; Shopify's 19-digit ids do not fit a float).
- Money is ``Decimal`` in the shop's currency (``currency``), never float.
- Datetimes are timezone-aware, normalised to UTC.
- Sequences are tuples so the values stay immutable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# The keys of ``OrderData.shipping_address``: what a draft (exchange) order's shipping address
# needs, in Shopify's REST spelling (MailingAddressInput uses the same words in camelCase).
ADDRESS_KEYS = (
    "first_name", "last_name", "company", "address1", "address2", "city",
    "province", "province_code", "country", "country_code", "zip", "phone",
)


@dataclass(frozen=True)
class OrderLineData:
    """One line item of an order."""

    line_id: int
    product_id: int | None
    variant_id: int | None
    title: str
    variant_title: str | None
    sku: str | None
    quantity: int
    # Price of one unit before any discount, shop currency.
    unit_price: Decimal
    # The line's total after every discount allocated to it (line and order level, codes
    # included): unit_price * quantity - sum(discount allocations). Exact.
    discounted_total: Decimal
    # discounted_total / quantity: exact when that division terminates within 4 decimal places,
    # otherwise rounded half-even to 4 places (the precision the money columns store). Use
    # ``value_of(n)`` for n units so that returning every unit gives back discounted_total exactly.
    discounted_unit_value: Decimal
    fulfilled_quantity: int = 0
    refunded_quantity: int = 0
    # None when the source payload does not carry product tags (REST/webhook bodies never do).
    product_tags: tuple[str, ...] | None = None
    image_url: str | None = None

    def value_of(self, units: int) -> Decimal:
        """The discounted value of ``units`` of this line: exact for the whole line."""
        if units == self.quantity:
            return self.discounted_total
        return self.discounted_unit_value * units


@dataclass(frozen=True)
class OrderData:
    """One Shopify order, as a return needs it."""

    shopify_order_id: int
    name: str
    email: str | None
    created_at: datetime
    updated_at: datetime
    currency: str
    total_price: Decimal
    subtotal_price: Decimal
    total_discounts: Decimal
    cancelled_at: datetime | None = None
    customer_id: int | None = None
    customer_first_name: str | None = None
    customer_last_name: str | None = None
    # Dict with ADDRESS_KEYS (values may be None), or None when the order has no shipping address.
    shipping_address: dict[str, Any] | None = field(default=None, hash=False)
    # ISO 3166-1 alpha-2, from the shipping address, falling back to the billing address.
    shipping_country_code: str | None = None
    discount_codes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # Lower-case Shopify words: "paid", "partially_refunded", ... (GraphQL enums lower-cased).
    financial_status: str | None = None
    # Lower-case GraphQL OrderDisplayFulfillmentStatus words: "unfulfilled", "fulfilled",
    # "partially_fulfilled", "restocked", ... (REST null -> "unfulfilled", "partial" ->
    # "partially_fulfilled").
    fulfillment_status: str | None = None
    lines: tuple[OrderLineData, ...] = ()
    # The order's parcels in their stored form (app.shopify.parcels), or None when the source
    # did not carry them.
    fulfillments: list | None = field(default=None, hash=False)

    @property
    def customer_name(self) -> str | None:
        """First and last name joined, or None when Shopify gave neither."""
        parts = [p for p in (self.customer_first_name, self.customer_last_name) if p]
        return " ".join(parts) or None

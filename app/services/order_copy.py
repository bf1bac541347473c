"""New orders as PostgreSQL COPY text: the values an order and its lines are stored with, in the
COPY statements' column order, and their text-format fields (``order_batches`` writes them)."""
from __future__ import annotations

import json
import logging
from datetime import datetime
from decimal import Decimal

from sqlalchemy.dialects import postgresql

from app.domain.order_data import OrderData
from app.models.types import MONEY_SCALE, Money
from app.services.order_fit import copy_widths, fit_order, fits_columns, storable_copy_text
from app.shopify import parcels
from app.shopify.errors import ShopifyDataError
from app.shopify.lean_mapping import NULL, copy_text, graphql_order_values
from app.shopify.mapping import order_from_graphql

log = logging.getLogger(__name__)

_MONEY_PLACES = -MONEY_SCALE
_money_bind = Money().process_bind_param
_PG_DIALECT = postgresql.dialect()
# stored_at right after the ids: both are the caller's, put before the fields mapped ahead.
ORDER_COPY = ("COPY orders (id, account_id, stored_at, shopify_order_id, name, email,"
              " customer_shopify_id, customer_name, shipping_address, shipping_country, currency,"
              " total_price, subtotal_price, total_discounts, discount_codes, tags,"
              " financial_status, fulfillment_status, created_at, updated_at, cancelled_at,"
              " fulfillments, fulfillments_known)"
              " FROM STDIN")
LINE_COPY = ("COPY order_lines (order_id, shopify_line_id, product_id, variant_id, title,"
             " variant_title, sku, product_tags, quantity, unit_price, discounted_unit_price,"
             " fulfilled_quantity, refunded_quantity, image_url) FROM STDIN")


def _money(value):
    """What the ``Money`` column type would bind: the Decimal itself, checked the same way."""
    if type(value) is Decimal and value.is_finite():
        exponent = value.as_tuple().exponent
        if exponent >= _MONEY_PLACES:
            return value
    return _money_bind(value, _PG_DIALECT)


def _json_list(values) -> str:
    """A JSON array of the values, as the ``JSONType`` column would store ``list(values)``."""
    return json.dumps(list(values)) if values else "[]"


def _aware(value: datetime | None) -> datetime | None:
    """What ``UTCDateTime`` accepts: aware datetimes only."""
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware UTC")
    return value


def order_values(data: OrderData) -> tuple[tuple, list[tuple]]:
    """The values ``orders._apply`` would set on a new Order and its lines, in COPY column order
    (without the ids, ``account_id`` and ``stored_at``): ``(order values, [line values, …])``.
    ``lean_mapping.graphql_order_values`` produces the same from a node; test_lean_rows.py checks it."""
    email = data.email.strip().lower() if data.email else None
    address = data.shipping_address
    return (
        (data.shopify_order_id, data.name, email, data.customer_id, data.customer_name,
         json.dumps(dict(address)) if address else None, data.shipping_country_code,
         data.currency, _money(data.total_price), _money(data.subtotal_price),
         _money(data.total_discounts), _json_list(data.discount_codes), _json_list(data.tags),
         data.financial_status, data.fulfillment_status, _aware(data.created_at),
         _aware(data.updated_at), _aware(data.cancelled_at), *parcel_values(data.fulfillments)),
        [(line.line_id, line.product_id, line.variant_id, line.title, line.variant_title,
          line.sku or None, _json_list(line.product_tags or ()), line.quantity,
          _money(line.unit_price), _money(line.discounted_unit_value), line.fulfilled_quantity,
          line.refunded_quantity, line.image_url or None)
         for line in data.lines],
    )


def parcel_values(fulfillments: list | None) -> tuple[str | None, str]:
    """The ``fulfillments`` JSON and ``fulfillments_known`` (COPY's "t"/"f") of an order."""
    if fulfillments is None:
        return None, "f"
    return json.dumps(fulfillments), "t" if parcels.known(fulfillments) else "f"


def copy_fields(values: tuple) -> tuple:
    """``order_values``' values (of an order or a line) as text-format COPY fields, as
    ``lean_mapping.graphql_order_values`` writes them."""
    return tuple(map(_field, values))


def _field(value) -> str:
    if value is None:
        return NULL
    kind = type(value)
    if kind is str:
        return copy_text(value)
    if kind is datetime:
        return value.isoformat()
    if kind is int or kind is Decimal:  # Decimal: checked by _money, plain digits or exponent
        return str(value)
    raise TypeError(f"no COPY text for {kind.__name__}")


def copy_rows(fields: tuple[tuple, list[tuple]]) -> tuple[str, list[str]]:
    """An order's COPY fields joined into its row (after the id, account and stored_at) and
    its lines' rows (after the order id), each ending its line."""
    order, lines = fields
    return "\t".join(order) + "\n", ["\t".join(line) + "\n" for line in lines]


def node_rows(node: dict) -> tuple[str, list[str]] | None:
    """A node's COPY rows (``copy_rows``): the lean way where it applies and its values can be
    written as they are, else the full way (``order_values`` of the fitted order); None when it
    cannot be read (a warning is logged)."""
    fields = graphql_order_values(node)
    if fields is not None and _fits(fields):
        rows = copy_rows(fields)
        if storable_copy_text(rows[0]) and storable_copy_text("".join(rows[1])):
            return rows
    data = readable_order(node)
    if data is None:
        return None
    try:
        order, lines = order_values(fit_order(data))
    except (ValueError, TypeError) as error:  # a value no column takes: this order only
        log.error("skipped order %s, whose values cannot be stored: %s", data.shopify_order_id, error)
        return None
    return copy_rows((copy_fields(order), [copy_fields(line) for line in lines]))


# The bounded columns among the COPY fields (order fields follow the id, the account and
# stored_at; line fields the order id), for the check that the lean way's fields fit.
_ORDER_WIDTHS = copy_widths(ORDER_COPY, "orders", skip=3)
_LINE_WIDTHS = copy_widths(LINE_COPY, "order_lines", skip=1)


def _fits(fields: tuple[tuple, list[tuple]]) -> bool:
    order, lines = fields
    return fits_columns(order, _ORDER_WIDTHS) and all(fits_columns(line, _LINE_WIDTHS) for line in lines)


def readable_order(node: dict, warn: bool = True) -> OrderData | None:
    """The node mapped in full (``order_from_graphql``); None when it cannot be read (a warning
    is logged unless ``warn`` is off)."""
    try:
        return order_from_graphql(node)
    except ShopifyDataError as error:
        if warn:
            log.warning("skipped an order that could not be read: %s", error)
        return None

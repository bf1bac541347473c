"""The rows a new order and its lines are stored as: their columns, named once, and how their
values are spelled in PostgreSQL's text-format COPY.

Pure (no Flask, models or database), so that the Shopify adapter's lean mapping, which writes
COPY fields straight from a bulk-export node, and the storage layer (``services.order_copy``,
which builds the COPY statements from these names and checks them against the tables) read
the same names and the same spelling.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal

# The columns of a new order's row after the three its writer supplies (id, account_id,
# stored_at), and of a line's after its order_id, in the order every producer of values gives
# them: ``order_copy.order_values`` (from an OrderData) and ``lean_mapping.graphql_order_values``
# (from a bulk-export node).
ORDER_FIELDS = (
    "shopify_order_id", "name", "email", "customer_shopify_id", "customer_name", "shipping_address",
    "shipping_country", "currency", "total_price", "subtotal_price", "total_discounts",
    "discount_codes", "tags", "financial_status", "fulfillment_status", "created_at", "updated_at",
    "cancelled_at", "fulfillments", "fulfillments_known",
)
LINE_FIELDS = (
    "shopify_line_id", "product_id", "variant_id", "title", "variant_title", "sku", "product_tags",
    "quantity", "unit_price", "discounted_unit_price", "fulfilled_quantity", "refunded_quantity",
    "image_url",
)

NULL = "\\N"
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]").search
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str) -> str:
    """A string as a field of a text-format COPY row (backslash, tab, newline, CR escaped)."""
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL(value) else value


def copy_fields(values: tuple) -> tuple[str, ...]:
    """Stored values (of an order or a line, in ``ORDER_FIELDS`` or ``LINE_FIELDS`` order) as
    text-format COPY fields: JSON values as the JSON columns store them, booleans as t/f."""
    return tuple(map(_field, values))


def _field(value) -> str:
    if value is None:
        return NULL
    kind = type(value)
    if kind is str:
        return copy_text(value)
    if kind is datetime:
        return value.isoformat()
    if kind is bool:
        return "t" if value else "f"
    if kind is int or kind is Decimal:  # a Decimal checked by the money binding: digits or exponent
        return str(value)
    if kind is dict or kind is list:
        return copy_text(json.dumps(value))
    raise TypeError(f"no COPY text for {kind.__name__}")


def copy_rows(fields: tuple[tuple, list[tuple]]) -> tuple[str, list[str]]:
    """An order's COPY fields joined into its row (what follows the writer's own columns) and
    its lines' rows (what follows the order id), each ending its line."""
    order, lines = fields
    return "\t".join(order) + "\n", ["\t".join(line) + "\n" for line in lines]

"""Every Shopify text of an order made to fit the column it is written to, by design.

Shopify sets no length on most of its strings (a line title, a customer's name, a SKU can be as
long as a merchant or an app makes them), while our columns are ``String(n)``. PostgreSQL refuses
a value longer than its column and SQLite stores it whole, so such a value broke a delivery on
one configuration only. ``fit_order`` is applied where an ``OrderData`` enters the order store
(``orders.upsert_order``, ``order_batches.upsert_orders``): each text is cut to its column's
width, read from the table definition (``Column.type.length``), so a column made wider or
narrower needs no change here (an email address, which would be another's when cut, is dropped
instead); NUL and lone surrogates are made storable (``app.text``) in JSON values too. Both
configurations then store the very same values.
"""
from __future__ import annotations

import functools
import re
from dataclasses import replace

from app.domain.order_data import OrderData, OrderLineData
from app.models import Order, OrderLine
from app.text import clean_json, clean_text, fit_text

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]").search


@functools.cache
def width(table_column: str) -> int | None:
    """The width of ``"table.column"`` in its table definition (None: unbounded text)."""
    table, column = table_column.split(".")
    model = {"orders": Order, "order_lines": OrderLine}[table]
    return getattr(model.__table__.c[column].type, "length", None)


def _fit(value: str | None, column: str) -> str | None:
    return fit_text(value, width(column))


def _whole_or_none(value: str | None, column: str) -> str | None:
    """A value that is wrong when cut (an email address): whole when it fits, else None."""
    fitted = _fit(value, column)
    return fitted if fitted == value else None


def _texts(values) -> tuple[str, ...]:
    return tuple(clean_text(value) for value in values)


def fit_order(data: OrderData) -> OrderData:
    """The order with every text storable and within its column (the same object when it
    already was: the common case costs no copy)."""
    name_width = width("orders.customer_name")
    first, last = data.customer_first_name, data.customer_last_name
    joined = data.customer_name
    if joined is not None and (len(joined) > name_width or clean_text(joined) != joined):
        # The stored name is the two parts joined: cut the whole, kept in the first part.
        first, last = _fit(joined, "orders.customer_name"), None
    fitted = replace(
        data, name=_fit(data.name, "orders.name"), email=_whole_or_none(data.email, "orders.email"),
        customer_first_name=first, customer_last_name=last,
        currency=_fit(data.currency, "orders.currency"),
        shipping_country_code=_fit(data.shipping_country_code, "orders.shipping_country"),
        financial_status=_fit(data.financial_status, "orders.financial_status"),
        fulfillment_status=_fit(data.fulfillment_status, "orders.fulfillment_status"),
        shipping_address=clean_json(data.shipping_address), discount_codes=_texts(data.discount_codes),
        tags=_texts(data.tags), fulfillments=clean_json(data.fulfillments),
        lines=tuple(map(_fit_line, data.lines)))
    return data if fitted == data else fitted


def _fit_line(line: OrderLineData) -> OrderLineData:
    fitted = replace(
        line, title=_fit(line.title, "order_lines.title"),
        variant_title=_fit(line.variant_title, "order_lines.variant_title"),
        sku=_fit(line.sku, "order_lines.sku"), image_url=_fit(line.image_url, "order_lines.image_url"),
        product_tags=_texts(line.product_tags) if line.product_tags is not None else None)
    return line if fitted == line else fitted


def copy_widths(table: str, names: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """``(position, width)`` of each bounded column among ``names`` (columns of ``table``, in the
    order a row's COPY fields give them)."""
    return tuple((position, limit) for position, name in enumerate(names)
                 if (limit := width(f"{table}.{name}")) is not None)


def fits_columns(fields: tuple[str, ...], widths: tuple[tuple[int, int], ...]) -> bool:
    """Whether each of these text-format COPY fields is within its column's width (escapes
    counted too, so a field near its width is sent the full way, which makes it fit)."""
    for position, limit in widths:
        if len(fields[position]) > limit:
            return False
    return True


def storable_copy_text(text: str) -> bool:
    """Whether COPY text holds neither NUL nor a lone surrogate (neither database stores them).
    On the import's hot path: ``in`` and ``isascii`` (a flag of the string) spare most texts the
    regular expression."""
    return "\x00" not in text and (text.isascii() or _UNSTORABLE(text) is None)

"""New orders written in a batch: the values an order and its lines are stored with
(``order_values``, the one derivation from an OrderData that ``orders.upsert_order`` applies
too) and the one writer of a batch of them (``write_new_orders``): COPY on PostgreSQL, a
multi-row INSERT elsewhere.

The columns are named once, in ``app.order_rows``; the COPY statements are built from those
names and checked at import against the table definitions, so a column added to ``orders`` or
``order_lines`` that no producer of values writes (nor is left to its default here) stops the
app from starting instead of being left empty by one path only.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql

from app.domain.order_data import OrderData
from app.extensions import db
from app.models import Order, OrderLine
from app.models.types import MONEY_SCALE, Money
from app.order_rows import LINE_FIELDS, ORDER_FIELDS, copy_fields, copy_rows
from app.services.units_sold import count_new_orders
from app.services.order_fit import copy_widths, fit_order, fits_columns, storable_copy_text
from app.shopify import parcels
from app.shopify.errors import ShopifyDataError
from app.shopify.lean_mapping import graphql_order_values
from app.shopify.mapping import order_from_graphql

log = logging.getLogger(__name__)

# What the writer puts before the fields: the id first, then the account and stored_at.
ORDER_COLUMNS = ("id", "account_id", "stored_at", *ORDER_FIELDS)
LINE_COLUMNS = ("order_id", *LINE_FIELDS)
# Columns a new row leaves to the database: a line's serial id, and what later events set.
_LEFT_TO_DEFAULTS = {"orders": frozenset({"redacted_at"}),
                     "order_lines": frozenset({"id", "returnable_quantity"})}


def copy_statement(table: Table, columns: tuple[str, ...]) -> str:
    """``COPY <table> (<columns>) FROM STDIN``, once the columns are checked to be the table's
    own, each once, and every other column one left to its default (``_LEFT_TO_DEFAULTS``)."""
    names = {column.name for column in table.columns}
    missing = names - set(columns) - _LEFT_TO_DEFAULTS[table.name]
    unknown = set(columns) - names
    if missing or unknown or len(set(columns)) != len(columns):
        raise RuntimeError(f"the new rows of {table.name} do not match its definition: not written "
                           f"{sorted(missing)}, not in the table {sorted(unknown)}, named twice "
                           f"{sorted({c for c in columns if columns.count(c) > 1})}")
    return f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"


ORDER_COPY = copy_statement(Order.__table__, ORDER_COLUMNS)
LINE_COPY = copy_statement(OrderLine.__table__, LINE_COLUMNS)
# The bounded columns among a row's fields, for the check that the lean way's fields fit.
_ORDER_WIDTHS = copy_widths("orders", ORDER_FIELDS)
_LINE_WIDTHS = copy_widths("order_lines", LINE_FIELDS)
_COPY_CHUNK = 500  # rows sent at once: the server parses while the next are joined

_MONEY_PLACES = -MONEY_SCALE
_money_bind = Money().process_bind_param
_PG_DIALECT = postgresql.dialect()


def _money(value):
    """What the ``Money`` column type would bind: the Decimal itself, checked the same way."""
    if type(value) is Decimal and value.is_finite():
        exponent = value.as_tuple().exponent
        if exponent >= _MONEY_PLACES:
            return value
    return _money_bind(value, _PG_DIALECT)


def _aware(value: datetime | None) -> datetime | None:
    """What ``UTCDateTime`` accepts: aware datetimes only."""
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware UTC")
    return value


def order_values(data: OrderData) -> tuple[tuple, list[tuple]]:
    """The values a new order and its lines are stored with, in ``ORDER_FIELDS`` and
    ``LINE_FIELDS`` order: ``(order values, [line values, …])``. JSON columns get their objects,
    money its Decimal (refused as its column would refuse it). ``orders.upsert_order`` applies
    the same values to a stored order; ``lean_mapping.graphql_order_values`` writes them as COPY
    fields from a node (test_lean_rows.py checks it)."""
    email = data.email.strip().lower() if data.email else None
    address = data.shipping_address
    fulfillments = data.fulfillments
    return (
        (data.shopify_order_id, data.name, email, data.customer_id, data.customer_name,
         dict(address) if address else None, data.shipping_country_code,
         data.currency, _money(data.total_price), _money(data.subtotal_price),
         _money(data.total_discounts), list(data.discount_codes), list(data.tags),
         data.financial_status, data.fulfillment_status, _aware(data.created_at),
         _aware(data.updated_at), _aware(data.cancelled_at), fulfillments, parcels.known(fulfillments)),
        [(line.line_id, line.product_id, line.variant_id, line.title, line.variant_title,
          line.sku or None, list(line.product_tags or ()), line.quantity,
          _money(line.unit_price), _money(line.discounted_unit_value), line.fulfilled_quantity,
          line.refunded_quantity, line.image_url or None)
         for line in data.lines],
    )


def node_rows(node: dict) -> tuple[str, list[str]] | None:
    """A node's COPY rows (``order_rows.copy_rows``): the lean way where it applies and its
    values can be written as they are, else the full way (``order_values`` of the fitted order);
    None when it cannot be read (a warning is logged)."""
    fields = graphql_order_values(node)
    if fields is not None and _fits(fields):
        rows = copy_rows(fields)
        if storable_copy_text(rows[0]) and storable_copy_text("".join(rows[1])):
            return rows
    data = readable_order(node)
    if data is None:
        return None
    try:
        return value_rows(fit_order(data))
    except (ValueError, TypeError) as error:  # a value no column takes: this order only
        log.error("skipped order %s, whose values cannot be stored: %s", data.shopify_order_id, error)
        return None


def value_rows(data: OrderData) -> tuple[str, list[str]]:
    """The COPY rows of an order that fits its columns (``order_fit.fit_order``)."""
    order, lines = order_values(data)
    return copy_rows((copy_fields(order), [copy_fields(line) for line in lines]))


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


class NumberedRows:
    """New orders' COPY rows numbered with their ids: iterating gives the orders' text in
    chunks (each row: id, account, stored_at, fields) as ``entries`` are consumed, at most one
    per id, while ``lines`` and ``count`` fill up; ``line_chunks`` then gives the lines' text."""

    def __init__(self, account_id: int, ids: Iterable[int], entries: Iterable[tuple[str, list[str]]]):
        self._head = f"\t{account_id}\t{datetime.now(timezone.utc).isoformat()}\t"
        self._ids, self._entries = ids, entries
        self.lines: list[str] = []
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        head, parts, add_line = self._head, [], self.lines.append
        # The ids are drawn for as many entries as there may be: some may be left over.
        for order_id, (row, lines) in zip(self._ids, self._entries, strict=False):
            parts.append(f"{order_id}{head}{row}")
            for line in lines:
                add_line(f"{order_id}\t{line}")
            self.count += 1
            if len(parts) >= _COPY_CHUNK:
                yield "".join(parts)
                parts.clear()
        if parts:
            yield "".join(parts)

    def line_chunks(self) -> Iterator[str]:
        """The lines' text in chunks (once the orders have been iterated)."""
        for start in range(0, len(self.lines), _COPY_CHUNK):
            yield "".join(self.lines[start:start + _COPY_CHUNK])


def draw_order_ids(count: int) -> list[int]:
    """PostgreSQL: ``count`` fresh order ids from the sequence, on the session's connection."""
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('orders', 'id'))"
                    " FROM generate_series(1, %s)", (count,))
        return [row[0] for row in cur.fetchall()]


def write_new_orders(account_id: int, new: Sequence[OrderData]) -> None:
    """The one writer of a batch of new orders (fitted to their columns): COPY on PostgreSQL,
    one multi-row INSERT for the orders and one for their lines elsewhere. The caller holds the
    SAVEPOINT that a unique violation rolls back."""
    if db.session.get_bind().dialect.name == "postgresql":
        copy_new_orders(account_id, len(new), map(value_rows, new))
        return
    stored_at = datetime.now(timezone.utc)
    values = [order_values(data) for data in new]
    ids = db.session.execute(
        insert(Order).returning(Order.id, sort_by_parameter_order=True),
        [{"account_id": account_id, "stored_at": stored_at, **dict(zip(ORDER_FIELDS, order, strict=True))}
         for order, _lines in values]).scalars().all()
    lines = [{"order_id": order_id, **dict(zip(LINE_FIELDS, line, strict=True))}
             for order_id, (_order, order_lines) in zip(ids, values, strict=True) for line in order_lines]
    if lines:
        db.session.execute(insert(OrderLine), lines)
    count_new_orders(account_id, ids)


def copy_new_orders(account_id: int, count: int, entries: Iterable[tuple[str, list[str]]]) -> int:
    """PostgreSQL: at most ``count`` orders' COPY rows (``order_rows.copy_rows``) numbered and
    loaded; returns how many. ``entries`` is consumed while the orders' COPY is under way, so
    the server stores rows while the next ones are being prepared."""
    ids = draw_order_ids(count)
    rows = NumberedRows(account_id, ids, entries)
    load_copy_text(rows, rows.line_chunks())
    count_new_orders(account_id, ids[:rows.count])  # ids are given in order, one per order written
    return rows.count


def load_copy_text(orders: Iterable[str], lines: Iterable[str]) -> None:
    """PostgreSQL: orders' and then lines' COPY text (``NumberedRows``) loaded on the session's
    connection; the lines' COPY is skipped when there are none."""
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(ORDER_COPY) as copy:
            for chunk in orders:
                copy.write(chunk)
        chunks = iter(lines)
        first = next(chunks, None)
        if first is not None:
            with cur.copy(LINE_COPY) as copy:
                copy.write(first)
                for chunk in chunks:
                    copy.write(chunk)


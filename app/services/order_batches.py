"""Writing orders in batches: `upsert_orders` is `upsert_order` for many orders at once, with
the same outcome per order; on PostgreSQL new orders go in with COPY (the import's hot path)."""
from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterable, Iterator, Sequence

import psycopg
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.domain.order_data import OrderData
from app.extensions import db
from app.models import Order, OrderLine
from app.services import orders as order_store
from app.services.batch_refusals import REFUSED, BatchCounts, lost
from app.services.order_fit import copy_widths, fit_order, fits_columns, storable_copy_text
from app.services.orders import CREATED, STALE, UPDATED, upsert_order
from app.shopify.errors import ShopifyDataError
from app.shopify import parcels
from app.shopify.lean_mapping import NULL, copy_text, graphql_order_values
from app.shopify.mapping import order_from_graphql
from app.models.types import MONEY_SCALE, Money

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# A batch that meets an order stored meanwhile (by a webhook job) is written one by one instead:
# SQLAlchemy's for the INSERT path, psycopg's own for the COPY path (raw driver connection).
_INTEGRITY_ERRORS = (IntegrityError, psycopg.IntegrityError)

_ORDER_COLUMNS = [c.key for c in Order.__table__.columns if c.key != "id"]
_LINE_COLUMNS = [c.key for c in OrderLine.__table__.columns if c.key not in ("id", "order_id")]


def upsert_orders(account_id: int, batch: Sequence[OrderData]) -> Counter:
    """``upsert_order`` for many orders at once, with the same outcome per order (created,
    updated, or stale when the stored copy is newer); returns the counts. The caller commits.

    New orders are inserted with multi-row INSERTs; values come from the same ``_apply`` that
    ``upsert_order`` uses, so both paths store identical rows. An order the database refuses
    does not hold its batch back: the batch is written again order by order, and each order that
    still fails is left out, counted as SKIPPED and named in ``counts.skipped`` (its name and error).
    """
    counts = BatchCounts()
    try:
        with db.session.begin_nested():
            counts.update(_upsert_orders(account_id, batch))
            return counts
    except REFUSED as error:
        if lost(error):
            raise
        if len(batch) == 1:
            counts.skip(batch[0], error)
            return counts
    for data in batch:
        try:
            with db.session.begin_nested():
                counts.update(_upsert_orders(account_id, [data]))
        except REFUSED as error:
            if lost(error):
                raise
            counts.skip(data, error)
    return counts


def _upsert_orders(account_id: int, batch: Sequence[OrderData]) -> Counter:
    counts: Counter = Counter()
    latest: dict[int, OrderData] = {}
    for data in map(fit_order, batch):
        seen = latest.get(data.shopify_order_id)
        if seen is not None:
            counts[STALE] += 1  # a duplicate within the batch: one of the two is redundant
            if data.updated_at < seen.updated_at:
                continue
        latest[data.shopify_order_id] = data
    if not latest:
        return counts
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Usually none of them is stored yet (a store's first import): try that first, without
        # the look-up (which the planner runs badly while a fresh table's statistics still say
        # "empty"); a unique violation rolls back just this attempt and the look-up decides.
        try:
            with db.session.begin_nested():
                _copy_new(account_id, list(latest.values()))
        except _INTEGRITY_ERRORS:
            pass
        else:
            counts[CREATED] += len(latest)
            return counts
    stored = _stored(account_id, list(latest))
    new = [data for oid, data in latest.items() if oid not in stored]
    changed = [oid for oid, updated_at in stored.items()
               if updated_at is None or not latest[oid].updated_at < updated_at]
    counts[STALE] += len(stored) - len(changed)
    if new:
        try:
            with db.session.begin_nested():
                if postgres:
                    _copy_new(account_id, new)
                else:
                    _insert_new(account_id, new)
        except _INTEGRITY_ERRORS:
            # Someone (a webhook job) stored some of them meanwhile: one by one, as they would.
            for data in new:
                counts[upsert_order(account_id, data)] += 1
        else:
            counts[CREATED] += len(new)
    if changed:
        query = (select(Order).where(Order.account_id == account_id,
                                     Order.shopify_order_id.in_(changed))
                 .options(selectinload(Order.lines)))
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Order)
        for order in db.session.scalars(query):
            data = latest[order.shopify_order_id]
            if order.updated_at is not None and data.updated_at < order.updated_at:
                counts[STALE] += 1  # changed under our feet by a newer webhook
                continue
            order_store._apply(order, data)
            counts[UPDATED] += 1
    db.session.flush()
    return counts


def _stored(account_id: int, shopify_order_ids: list[int]) -> dict:
    """``updated_at`` of the orders among these that are stored already, by Shopify id."""
    return {
        row.shopify_order_id: row.updated_at
        for row in db.session.execute(
            select(Order.shopify_order_id, Order.updated_at)
            .where(Order.account_id == account_id, Order.shopify_order_id.in_(shopify_order_ids)))
    }


_MONEY_PLACES = -MONEY_SCALE
_money_bind = Money().process_bind_param
_PG_DIALECT = postgresql.dialect()
# stored_at right after the ids: both are the caller's, put before the fields mapped ahead.
_ORDER_COPY = ("COPY orders (id, account_id, stored_at, shopify_order_id, name, email,"
               " customer_shopify_id, customer_name, shipping_address, shipping_country, currency,"
               " total_price, subtotal_price, total_discounts, discount_codes, tags,"
               " financial_status, fulfillment_status, created_at, updated_at, cancelled_at,"
               " fulfillments, fulfillments_known)"
               " FROM STDIN")
_LINE_COPY = ("COPY order_lines (order_id, shopify_line_id, product_id, variant_id, title,"
              " variant_title, sku, product_tags, quantity, unit_price, discounted_unit_price,"
              " fulfilled_quantity, refunded_quantity, image_url) FROM STDIN")
_COPY_CHUNK = 500  # rows sent at once: the server parses while the next are joined


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


def _copy_rows(fields: tuple[tuple, list[tuple]]) -> tuple[str, list[str]]:
    """An order's COPY fields joined into its row (after the id, account and stored_at) and
    its lines' rows (after the order id), each ending its line."""
    order, lines = fields
    return "\t".join(order) + "\n", ["\t".join(line) + "\n" for line in lines]


def _copy_new(account_id: int, new: list[OrderData]) -> None:
    """PostgreSQL: the new orders and their lines loaded with COPY (see ``_copy_values``)."""
    _copy_values(account_id, len(new),
                 (_copy_rows((copy_fields(order), [copy_fields(line) for line in lines]))
                  for order, lines in map(order_values, new)))


def _copy_values(account_id: int, count: int, entries: Iterable[tuple[str, list[str]]]) -> int:
    """PostgreSQL: at most ``count`` orders and their lines (``_copy_rows``) loaded with COPY
    on the session's connection (the caller's SAVEPOINT rolls the batch back on a unique
    violation); returns how many orders. ``entries`` is consumed while the orders' COPY is
    under way, so the server stores rows while the next ones are being prepared."""
    head = copy_head(account_id)
    ids = draw_order_ids(count)
    raw = db.session.connection().connection.driver_connection
    written, parts, line_parts = 0, [], []
    with raw.cursor() as cur:
        with cur.copy(_ORDER_COPY) as copy:
            add_line = line_parts.append
            # ``count`` ids are drawn for at most ``count`` entries: the ids may be left over.
            for order_id, (row, lines) in zip(ids, entries, strict=False):
                parts.append(f"{order_id}{head}{row}")
                for line in lines:
                    add_line(f"{order_id}\t{line}")
                written += 1
                if len(parts) >= _COPY_CHUNK:
                    copy.write("".join(parts))
                    parts.clear()
            if parts:
                copy.write("".join(parts))
        if line_parts:
            with cur.copy(_LINE_COPY) as copy:
                for start in range(0, len(line_parts), _COPY_CHUNK):
                    copy.write("".join(line_parts[start:start + _COPY_CHUNK]))
    return written


def draw_order_ids(count: int) -> list[int]:
    """``count`` fresh order ids from the sequence, on the session's connection."""
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('orders', 'id'))"
                    " FROM generate_series(1, %s)", (count,))
        return [row[0] for row in cur.fetchall()]


def copy_head(account_id: int) -> str:
    """What follows the id in each order row of ``_ORDER_COPY``: the account and stored_at."""
    return f"\t{account_id}\t{_utcnow().isoformat()}\t"


def _copy_text(orders: str, lines: str, count: int) -> int:
    """PostgreSQL: orders and lines already written as COPY text (ids and all) loaded."""
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(_ORDER_COPY) as copy:
            copy.write(orders)
        if lines:
            with cur.copy(_LINE_COPY) as copy:
                copy.write(lines)
    return count


def upsert_graphql_orders(account_id: int, nodes: Sequence[dict]) -> tuple[Counter, int]:
    """``upsert_orders`` for GraphQL order nodes (the bulk import's batches): returns the counts
    and how many nodes could not be read (skipped with a warning, as unusable orders are).

    On PostgreSQL a batch of new orders goes from node to COPY text without OrderData objects
    (``lean_mapping.graphql_order_values``, the same values), written already when the batch is
    an ``import_ahead.PreparedBatch``; a batch that meets a stored order, and every batch on
    SQLite, is mapped in full and written by ``upsert_orders``.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        unreadable: list = []
        copy_data = getattr(nodes, "copy_data", None)  # made ahead (import_ahead.PreparedBatch)
        if copy_data is not None and nodes.account_id != account_id:
            copy_data = None
        if copy_data is not None:
            unreadable = [None] * nodes.unreadable
        try:
            with db.session.begin_nested():
                if copy_data is not None:
                    created = _copy_text(*copy_data)
                else:
                    created = _copy_values(account_id, len(nodes), _node_values(nodes, unreadable))
        except REFUSED as error:
            if lost(error):
                raise  # some are stored already (or a duplicate, or a refused value): the full way decides
        else:
            return Counter({CREATED: created} if created else {}), len(unreadable)
        batch = [data for data in (_readable(node, warn=False) for node in nodes) if data is not None]
    else:
        batch = [data for data in map(_readable, nodes) if data is not None]
    return (upsert_orders(account_id, batch) if batch else Counter()), len(nodes) - len(batch)


def _node_values(nodes: Sequence[dict], unreadable: list) -> Iterator[tuple[str, list[str]]]:
    """The COPY rows (``_copy_rows``) of each readable node, the lean way where it applies."""
    for node in nodes:
        rows = node_rows(node)
        if rows is None:
            unreadable.append(node)
        else:
            yield rows


def node_rows(node: dict) -> tuple[str, list[str]] | None:
    """A node's COPY rows (``_copy_rows``): the lean way where it applies and its values can be
    written as they are, else the full way (``order_values`` of the fitted order); None when it
    cannot be read (a warning is logged)."""
    fields = graphql_order_values(node)
    if fields is not None and _fits(fields):
        rows = _copy_rows(fields)
        if storable_copy_text(rows[0]) and storable_copy_text("".join(rows[1])):
            return rows
    data = _readable(node)
    if data is None:
        return None
    try:
        order, lines = order_values(fit_order(data))
    except (ValueError, TypeError) as error:  # a value no column takes: this order only
        log.error("skipped order %s, whose values cannot be stored: %s", data.shopify_order_id, error)
        return None
    return _copy_rows((copy_fields(order), [copy_fields(line) for line in lines]))


# The bounded columns among the COPY fields (order fields follow the id, the account and
# stored_at; line fields the order id), for the check that the lean way's fields fit.
_ORDER_WIDTHS = copy_widths(_ORDER_COPY, "orders", skip=3)
_LINE_WIDTHS = copy_widths(_LINE_COPY, "order_lines", skip=1)


def _fits(fields: tuple[tuple, list[tuple]]) -> bool:
    order, lines = fields
    return fits_columns(order, _ORDER_WIDTHS) and all(fits_columns(line, _LINE_WIDTHS) for line in lines)


def _readable(node: dict, warn: bool = True) -> OrderData | None:
    try:
        return order_from_graphql(node)
    except ShopifyDataError as error:
        if warn:
            log.warning("skipped an order that could not be read: %s", error)
        return None


def _insert_new(account_id: int, new: list[OrderData]) -> None:
    now = _utcnow()
    order_rows, line_rows = [], []
    for data in new:
        order = Order(account_id=account_id, shopify_order_id=data.shopify_order_id)
        order_store._apply(order, data)  # a transient object, never added to the session
        row = {key: getattr(order, key) for key in _ORDER_COLUMNS}
        row["stored_at"] = now
        order_rows.append(row)
        line_rows.append([{key: getattr(line, key) for key in _LINE_COLUMNS} for line in order.lines])
    ids = db.session.execute(
        insert(Order).returning(Order.id, sort_by_parameter_order=True), order_rows).scalars().all()
    lines = []
    for order_id, rows in zip(ids, line_rows, strict=True):
        for row in rows:
            row["order_id"] = order_id
            lines.append(row)
    if lines:
        db.session.execute(insert(OrderLine), lines)



"""Writing orders in batches: `upsert_orders` is `upsert_order` for many orders at once, with
the same outcome per order; on PostgreSQL new orders go in with COPY (the import's hot path)."""
from __future__ import annotations

import json
import logging
import marshal
import queue
import sys
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from collections.abc import Sequence as SequenceABC
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
from app.services.orders import CREATED, STALE, UPDATED, upsert_order
from app.shopify.errors import ShopifyDataError
from app.shopify.bulk import reread_bulk_object
from app.shopify.lean_mapping import graphql_order_values
from app.shopify.mapping import order_from_graphql
from app.types import MONEY_SCALE, Money

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
    ``upsert_order`` uses, so both paths store identical rows.
    """
    counts: Counter = Counter()
    latest: dict[int, OrderData] = {}
    for data in batch:
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
_ORDER_COPY = ("COPY orders (id, account_id, shopify_order_id, name, email, customer_shopify_id,"
               " customer_name, shipping_address, shipping_country, currency, total_price,"
               " subtotal_price, total_discounts, discount_codes, tags, financial_status,"
               " fulfillment_status, created_at, updated_at, cancelled_at, stored_at) FROM STDIN")
_LINE_COPY = ("COPY order_lines (order_id, shopify_line_id, product_id, variant_id, title,"
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
         _aware(data.updated_at), _aware(data.cancelled_at)),
        [(line.line_id, line.product_id, line.variant_id, line.title, line.variant_title,
          line.sku or None, _json_list(line.product_tags or ()), line.quantity,
          _money(line.unit_price), _money(line.discounted_unit_value), line.fulfilled_quantity,
          line.refunded_quantity, line.image_url or None)
         for line in data.lines],
    )


def _copy_new(account_id: int, new: list[OrderData]) -> None:
    """PostgreSQL: the new orders and their lines loaded with COPY (see ``_copy_values``)."""
    _copy_values(account_id, len(new), map(order_values, new))


def _copy_values(account_id: int, count: int, entries: Iterable[tuple[tuple, list[tuple]]]) -> int:
    """PostgreSQL: at most ``count`` orders and their lines (``order_values``) loaded with COPY
    on the session's connection (the caller's SAVEPOINT rolls the batch back on a unique
    violation); returns how many orders. ``entries`` is consumed while the orders' COPY is
    under way, so the server stores rows while the next ones are being prepared."""
    head = (account_id,)
    tail = (_utcnow(),)
    raw = db.session.connection().connection.driver_connection
    written, line_rows = 0, []
    with raw.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('orders', 'id'))"
                    " FROM generate_series(1, %s)", (count,))
        ids = [row[0] for row in cur.fetchall()]
        with cur.copy(_ORDER_COPY) as copy:
            write = copy.write_row
            add_lines = line_rows.extend
            for order_id, (values, lines) in zip(ids, entries):
                write((order_id, *head, *values, *tail))
                add_lines([(order_id, *line) for line in lines])
                written += 1
        if line_rows:
            with cur.copy(_LINE_COPY) as copy:
                write = copy.write_row
                for row in line_rows:
                    write(row)
    return written


def upsert_graphql_orders(account_id: int, nodes: Sequence[dict]) -> tuple[Counter, int]:
    """``upsert_orders`` for GraphQL order nodes (the bulk import's batches): returns the counts
    and how many nodes could not be read (skipped with a warning, as unusable orders are).

    On PostgreSQL a batch of new orders goes from node to COPY without OrderData objects
    (``lean_mapping.graphql_order_values``, the same values); a batch that meets a stored order, and
    every batch on SQLite, is mapped in full and written by ``upsert_orders``.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        unreadable: list = []
        entries = getattr(nodes, "values", None)
        if entries is None:
            entries = _node_values(nodes, unreadable)
        else:  # mapped ahead by ``batches_ahead``'s thread
            unreadable = [None] * nodes.unreadable
        try:
            with db.session.begin_nested():
                created = _copy_values(account_id, len(nodes), entries)
        except _INTEGRITY_ERRORS:
            pass  # some are stored already (or a duplicate in the batch): the full way decides
        else:
            return Counter({CREATED: created} if created else {}), len(unreadable)
        batch = [data for data in (_readable(node, warn=False) for node in nodes) if data is not None]
    else:
        batch = [data for data in map(_readable, nodes) if data is not None]
    return (upsert_orders(account_id, batch) if batch else Counter()), len(nodes) - len(batch)


def _node_values(nodes: Sequence[dict], unreadable: list) -> Iterator[tuple[tuple, list[tuple]]]:
    """``order_values`` of each readable node, the lean way where it applies."""
    for node in nodes:
        values = graphql_order_values(node)
        if values is None:
            data = _readable(node)
            if data is None:
                unreadable.append(node)
                continue
            values = order_values(data)
        yield values


class PreparedBatch(SequenceABC):
    """A batch of order nodes, read as a sequence of nodes, mapped as they are added (``add``):
    ``values`` holds their ``order_values`` (the readable ones; the lean way where it applies)
    and ``unreadable`` how many could not be read. The nodes themselves are kept packed with
    ``marshal`` (a fifth of their size as dicts), for the full way, should the batch meet a
    stored order. With ``lean`` false (SQLite) nothing is mapped ahead: the full way maps."""

    def __init__(self, lean: bool = True):
        self.values: list | None = [] if lean else None
        self.unreadable = 0
        self._items: list = []  # marshalled nodes when lean, else the nodes

    def add(self, node: dict) -> None:
        """Take one node (mapping it now when lean)."""
        if self.values is None:
            self._items.append(node)
            return
        # Kept compact: the lines it was read from when it has them, else marshalled (first:
        # the mappers are not meant to alter a node, but this does not rely on it).
        lines = getattr(node, "lines", None)
        self._items.append(_pack(node) if lines is None else lines)
        values = graphql_order_values(node)
        if values is None:
            data = _readable(node)
            if data is None:
                self.unreadable += 1
                return
            values = order_values(data)
        self.values.append(values)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        item = self._items[index]
        if self.values is None:
            return item
        return _unpack(item) if type(item) is bytes else reread_bulk_object(item)


_pack, _unpack = marshal.dumps, marshal.loads
_END = object()
# While the reader thread works, the writing thread waits on PostgreSQL a dozen times a batch;
# each time it is ready again it must win the GIL back, which CPython hands over only every
# switch interval (5 ms by default; more than a second over a 50,000-order import).
_SWITCH_INTERVAL = 0.0005


@contextmanager
def batches_ahead(nodes: Iterable[dict], size: int, *, skip: int = 0, lean: bool = True):
    """Batches of ``size`` nodes (after the first ``skip``) as ``PreparedBatch``es, read and
    mapped by a thread one batch ahead of the caller, who writes them: PostgreSQL stores a batch
    in its own process while Python parses and maps the next (the import's two halves overlap).

    The first node is read before the thread starts, so the whole bulk file is downloaded and
    checked (``iter_bulk_objects``'s first pass) in the caller's thread. An error in the thread
    is raised to the caller at the batch it would have come with. At most two batches (mapped,
    their nodes packed) are in memory besides the caller's. Leaving the block stops the thread (and closes ``nodes``)."""
    iterator = iter(nodes)
    first = next(iterator, _END)
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def read() -> None:
        try:
            if first is _END:
                return
            batch, index = PreparedBatch(lean), 0
            for node in _chain(first, iterator):
                index += 1
                if index <= skip:
                    continue
                batch.add(node)
                del node  # mapped and packed: the dicts go now, not with the next node
                if len(batch) >= size:
                    handoff.put(batch)
                    batch = PreparedBatch(lean)
                    if stop.is_set():
                        return
            if len(batch):
                handoff.put(batch)
        except BaseException as error:  # noqa: BLE001 - handed to the caller, raised there
            handoff.put(error)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            handoff.put(_END)

    def batches():
        while (item := handoff.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=read, name="import-reader", daemon=True)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, _SWITCH_INTERVAL))
    thread.start()
    try:
        yield batches()
    finally:
        stop.set()
        while thread.is_alive():  # unblock a put() so that the thread sees ``stop``
            try:
                handoff.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()
        sys.setswitchinterval(interval)


def _chain(first, rest: Iterator) -> Iterator:
    yield first
    yield from rest


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
    for order_id, rows in zip(ids, line_rows):
        for row in rows:
            row["order_id"] = order_id
            lines.append(row)
    if lines:
        db.session.execute(insert(OrderLine), lines)



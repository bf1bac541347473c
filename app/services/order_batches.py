"""Writing orders in batches: `upsert_orders` is `upsert_order` for many orders at once, with
the same outcome per order. New orders go through the one batch writer
(``order_copy.write_new_orders``: COPY on PostgreSQL, the import's hot path); stored ones are
updated as ``upsert_order`` updates them."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Iterator, Sequence

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.domain.order_data import OrderData
from app.extensions import db
from app.models import Order
from app.services.batch_refusals import REFUSED, BatchCounts, lost
from app.services.order_copy import copy_new_orders, load_copy_text, node_rows, readable_order, write_new_orders
from app.services.order_fit import fit_order
from app.services.orders import CREATED, STALE, UPDATED, counted_update, upsert_order
from app.services.units_sold import count_new_orders

log = logging.getLogger(__name__)


# A batch that meets an order stored meanwhile (by a webhook job) is written one by one instead:
# SQLAlchemy's for the INSERT path, psycopg's own for the COPY path (raw driver connection).
_INTEGRITY_ERRORS = (IntegrityError, psycopg.IntegrityError)


def upsert_orders(account_id: int, batch: Sequence[OrderData]) -> Counter:
    """``upsert_order`` for many orders at once, with the same outcome per order (created,
    updated, or stale when the stored copy is newer); returns the counts. The caller commits.

    New orders are written by ``order_copy.write_new_orders``, with the values
    (``order_copy.order_values``) that ``upsert_order`` stores, so both paths store identical
    rows. An order the database refuses does not hold its batch back: the batch is written again
    order by order, and each order that still fails is left out, counted as SKIPPED and named in
    ``counts.skipped`` (its name and error).
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
                write_new_orders(account_id, list(latest.values()))
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
                write_new_orders(account_id, new)
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
            counted_update(order, data)
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
                    orders, lines, created = copy_data
                    load_copy_text((orders,), (lines,) if lines else ())
                    count_new_orders(account_id, nodes.ids)
                else:
                    created = copy_new_orders(account_id, len(nodes), _node_values(nodes, unreadable))
        except REFUSED as error:
            if lost(error):
                raise  # some are stored already (or a duplicate, or a refused value): the full way decides
        else:
            return Counter({CREATED: created} if created else {}), len(unreadable)
        batch = [data for data in (readable_order(node, warn=False) for node in nodes) if data is not None]
    else:
        batch = [data for data in map(readable_order, nodes) if data is not None]
    return (upsert_orders(account_id, batch) if batch else Counter()), len(nodes) - len(batch)


def _node_values(nodes: Sequence[dict], unreadable: list) -> Iterator[tuple[str, list[str]]]:
    """The COPY rows (``copy_rows``) of each readable node, the lean way where it applies."""
    for node in nodes:
        rows = node_rows(node)
        if rows is None:
            unreadable.append(node)
        else:
            yield rows

"""Confirming orders stored from webhook bodies against the Admin API, many per query.

A webhook body is stored at once (app/services/delivery_batches.py) and its order put on this
list. The confirmer reads the listed orders back with one ``nodes(ids:)`` query per batch,
compares what is stored with Shopify's copy and corrects it (`upsert_order`: Shopify's copy wins
unless ours is newer by ``updatedAt``).

Shopify limits GraphQL calls per app and shop by calculated cost, with a leaky bucket: the
requested cost of a query must be in the bucket when it is sent, the unused part comes back,
and the bucket refills at ``restoreRate`` points per second (Standard plan: 100);
every response reports ``throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}``
(https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits). So a batch is sized by its
requested cost (one order's selection per id, ``ORDER_CONFIRM_COST``, under the 1,000-point
single-query limit) and sent only once the bucket, as last reported, holds it: never THROTTLED.
One confirmer per shop spends the bucket at a time (`ConfirmLease`), and it leaves the bucket's
last status on the lease for the next one.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import Account, ConfirmLease, Order, OrderConfirmation
from app.services.orders import upsert_order
from app.services.shopify_access import NotConnected, client_for, mark_disconnected
from app.shopify.client import ShopifyClient, ThrottleStatus
from app.shopify.documents import load_document
from app.shopify.errors import RevokedTokenError, ShopifyDataError, ShopifyError
from app.shopify.mapping import order_from_graphql
from app.shopify.operations import _complete_line_items, order_gid

log = logging.getLogger(__name__)

# Lines read with each order; an order with more gets the rest page by page.
CONFIRM_LINE_ITEMS = 5
# Requested cost of one order in ``orders_confirm`` (1 + OrderFields 19 + lineItems 2 + 5 × 9;
# tests/unit/shopify/test_queries.py checks it against Shopify's schema).
ORDER_CONFIRM_COST = 67
MAX_SINGLE_QUERY_COST = 1000
# As many orders as fit one query: 14 × 67 = 938 points.
CONFIRM_BATCH = MAX_SINGLE_QUERY_COST // ORDER_CONFIRM_COST


@dataclass
class ConfirmResult:
    """What one confirmer run did."""

    confirmed: int = 0
    corrected: int = 0
    missing: int = 0
    points: float = 0.0
    queries: int = 0
    throttled: int = 0
    more: bool = False  # orders still wait (the run's time was up)
    failed: str | None = None  # Shopify failed the run; its orders wait for the next one


def request_confirmations(account_id: int, shopify_order_ids: list[int]) -> None:
    """Put orders on the shop's list to confirm, in one statement (again: a newer request replaces
    an older one, so a confirmation already under way does not swallow it). The caller commits."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    now = datetime.now(timezone.utc)
    rows = [{"account_id": account_id, "shopify_order_id": order_id, "requested_at": now}
            for order_id in sorted(set(shopify_order_ids))]  # one row each: ON CONFLICT takes a row once
    if not rows:
        return
    statement = insert(OrderConfirmation).values(rows)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["account_id", "shopify_order_id"], set_={"requested_at": statement.excluded.requested_at}))


def pending_accounts() -> list[int]:
    """Accounts with orders waiting to be confirmed."""
    return list(db.session.scalars(
        select(OrderConfirmation.account_id).distinct().order_by(OrderConfirmation.account_id)))


def confirm_all_pending(holder: str, seconds: float | None = None) -> int:
    """One pass over every shop with orders to confirm (a worker's confirmer thread, or a test's
    drain); returns how many orders were confirmed. A shop another confirmer holds is skipped."""
    confirmed = 0
    for account_id in pending_accounts():
        result = confirm_pending(account_id, holder, seconds)
        confirmed += result.confirmed if result is not None else 0
    return confirmed


def take_lease(account_id: int, holder: str) -> ConfirmLease | None:
    """The shop's confirm lease for `holder` (committed), or None while another holds it."""
    now = datetime.now(timezone.utc)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(ConfirmLease).values(account_id=account_id).on_conflict_do_nothing())
    taken = db.session.execute(
        update(ConfirmLease)
        .where(ConfirmLease.account_id == account_id,
               or_(ConfirmLease.holder.is_(None), ConfirmLease.holder == holder, ConfirmLease.expires_at < now))
        .values(holder=holder, expires_at=now + timedelta(seconds=current_app.config["CONFIRM_LEASE_SECONDS"]))
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return db.session.get(ConfirmLease, account_id, populate_existing=True) if taken else None


def confirm_pending(account_id: int, holder: str, seconds: float | None = None) -> ConfirmResult | None:
    """Confirm the shop's listed orders, batch by batch, for at most `seconds`; None when another
    confirmer holds the shop's lease (it will confirm these too)."""
    seconds = current_app.config["CONFIRM_JOB_SECONDS"] if seconds is None else seconds
    account = db.session.get(Account, account_id)
    if account is None:
        return ConfirmResult()
    lease = take_lease(account_id, holder)
    if lease is None:
        return None
    result = ConfirmResult()
    try:
        client = client_for(account)
    except NotConnected:
        # Nothing to read them from; reconciliation brings the orders up to date on reconnection.
        db.session.execute(delete(OrderConfirmation).where(OrderConfirmation.account_id == account_id))
        _release(lease, None, holder)
        return result
    _seed_bucket(client, lease)
    started = time.monotonic()
    if client.throttle is None:
        client.run("bucket_status")  # free, and it shows the bucket before points are spent
    try:
        while True:
            if time.monotonic() - started >= seconds:
                result.more = db.session.scalar(
                    select(OrderConfirmation.id).where(OrderConfirmation.account_id == account_id).limit(1)) is not None
                break
            size = batch_size(client.throttle, client.monotonic())
            rows = db.session.execute(
                select(OrderConfirmation.id, OrderConfirmation.shopify_order_id, OrderConfirmation.requested_at)
                .where(OrderConfirmation.account_id == account_id)
                .order_by(OrderConfirmation.id).limit(size)).all()
            if not rows:
                break
            _confirm_batch(client, account_id, rows, result)
            _keep_lease(lease, client)
            db.session.commit()
    except RevokedTokenError:
        db.session.rollback()
        mark_disconnected(account, "Shopify no longer accepts this store's access token. Reconnect the store.")
        db.session.execute(delete(OrderConfirmation).where(OrderConfirmation.account_id == account_id))
        db.session.commit()
    except ShopifyError as error:
        # Shopify is unwell: the orders stay listed for the next pass.
        log.warning("confirming the orders of account %s stopped: %s", account_id, error)
        result.failed = str(error)
    finally:
        result.throttled += client.throttled
        db.session.rollback()
        _release(db.session.get(ConfirmLease, account_id, populate_existing=True), client, holder)
    return result


def batch_size(status: ThrottleStatus | None, now: float) -> int:
    """How many orders the next query asks for: as many as the bucket holds now (its last
    reported ``currentlyAvailable``, refilled since at ``restoreRate``), never more than the bucket
    can ever hold or one query may cost, and at least one (the client then waits for its points).
    Without a reported bucket, one order."""
    if status is None:
        return 1
    ceiling = min(CONFIRM_BATCH, int(status.maximum_available // ORDER_CONFIRM_COST))
    return max(1, min(ceiling, int(status.available_at(now) // ORDER_CONFIRM_COST)))


def _confirm_batch(client: ShopifyClient, account_id: int, rows, result: ConfirmResult) -> None:
    """One ``nodes(ids:)`` query for the rows' orders; each order compared, corrected, taken off."""
    ids = [order_gid(row.shopify_order_id) for row in rows]
    data = client.execute(load_document("orders_confirm"), {"ids": ids, "lineItemsFirst": CONFIRM_LINE_ITEMS},
                          cost=len(ids) * ORDER_CONFIRM_COST)
    _count_cost(client, result)
    found = set()
    for node in data.get("nodes") or ():
        if not isinstance(node, dict) or not node.get("id"):
            continue
        try:
            if ((node.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage"):
                node = _complete_line_items(client, node)
                _count_cost(client, result)
            fetched = order_from_graphql(node)
        except ShopifyDataError as error:
            log.warning("order %s of account %s could not be read: %s", node.get("id"), account_id, error)
            continue
        found.add(fetched.shopify_order_id)
        before = _snapshot(account_id, fetched.shopify_order_id)
        upsert_order(account_id, fetched)
        db.session.flush()
        if before is not None and before != _snapshot(account_id, fetched.shopify_order_id):
            result.corrected += 1
            log.info("order %s of account %s corrected from the Admin API", fetched.shopify_order_id, account_id)
        result.confirmed += 1
    result.missing += sum(1 for row in rows if row.shopify_order_id not in found)
    for row in rows:
        # Only the request this batch answered: one made since (a newer webhook) stays listed.
        db.session.execute(delete(OrderConfirmation).where(
            OrderConfirmation.id == row.id, OrderConfirmation.requested_at <= row.requested_at))


def _count_cost(client: ShopifyClient, result: ConfirmResult) -> None:
    cost = client.last_cost or {}
    result.queries += 1
    actual = cost.get("actualQueryCost")
    result.points += float(actual if isinstance(actual, (int, float)) else cost.get("requestedQueryCost") or 0)


# The stored fields a confirmation compares (an order's own, then each line's).
_ORDER_FIELDS = ("name", "email", "customer_shopify_id", "customer_name", "shipping_address", "shipping_country",
                 "currency", "total_price", "subtotal_price", "total_discounts", "discount_codes", "tags",
                 "financial_status", "fulfillment_status", "created_at", "updated_at", "cancelled_at")
_LINE_FIELDS = ("shopify_line_id", "product_id", "variant_id", "title", "variant_title", "sku", "quantity",
                "unit_price", "discounted_unit_price", "fulfilled_quantity", "refunded_quantity")


def _snapshot(account_id: int, shopify_order_id: int) -> tuple | None:
    order = db.session.scalar(select(Order).where(Order.account_id == account_id,
                                                  Order.shopify_order_id == shopify_order_id))
    if order is None:
        return None
    lines = sorted(tuple(getattr(line, f) for f in _LINE_FIELDS) for line in order.lines)
    return tuple(getattr(order, f) for f in _ORDER_FIELDS), tuple(lines)


def _seed_bucket(client: ShopifyClient, lease: ConfirmLease) -> None:
    """Start pacing from the bucket the last confirmer saw, refilled since at its restore rate."""
    if client.throttle is not None or lease.bucket_seen_at is None or not lease.bucket_restore_rate:
        return
    elapsed = max(0.0, (datetime.now(timezone.utc) - lease.bucket_seen_at).total_seconds())
    available = min(lease.bucket_maximum, lease.bucket_available + elapsed * lease.bucket_restore_rate)
    client.throttle = ThrottleStatus(maximum_available=lease.bucket_maximum, currently_available=available,
                                     restore_rate=lease.bucket_restore_rate, observed_at=client.monotonic())


def _keep_lease(lease: ConfirmLease, client: ShopifyClient | None) -> None:
    """Renew the lease and note the bucket's last reported state (the caller commits)."""
    lease.expires_at = datetime.now(timezone.utc) + timedelta(seconds=current_app.config["CONFIRM_LEASE_SECONDS"])
    status = client.throttle if client is not None else None
    if status is not None:
        lease.bucket_available = status.available_at(client.monotonic())
        lease.bucket_maximum = status.maximum_available
        lease.bucket_restore_rate = status.restore_rate
        lease.bucket_seen_at = datetime.now(timezone.utc)


def _release(lease: ConfirmLease | None, client: ShopifyClient | None, holder: str) -> None:
    if lease is None or lease.holder != holder:
        return  # expired and taken by another confirmer meanwhile: theirs now
    _keep_lease(lease, client)
    lease.holder = None
    lease.expires_at = None
    db.session.commit()

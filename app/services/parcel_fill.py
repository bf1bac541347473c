"""Filling in the parcels of stored orders: orders stored before their parcels were read (or by
a read that gave only dates, when one line may have gone out in several parcels) get them from
the Admin API, so return windows can count from delivery.

Safe to run twice and alongside webhooks: it only picks orders still missing something, and
each answer is merged into what is stored (``parcels.merge``), never over newer facts.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Account, Order
from app.services.reconcile import with_store_client
from app.shopify import parcels
from app.shopify.operations import PARCEL_DATES_BATCH, fetch_order_parcels, fetch_parcel_dates

# Orders whose units per parcel are read one call each, per run (most orders have one parcel).
DETAILS_PER_RUN = 200


def _shipped():
    # Orders Shopify shows as not shipped at all have no parcel to read yet; a later fulfilment
    # brings its parcel with the order's webhook.
    return or_(Order.fulfillment_status.is_(None), Order.fulfillment_status != "unfulfilled")


def missing(account_id: int) -> dict:
    """How many orders of the account lack parcels, and how many lack their units."""
    base = select(Order.id).where(Order.account_id == account_id, _shipped(), Order.fulfillments_known.is_(False))
    undated = db.session.scalars(base.where(Order.fulfillments.is_(None))).all()
    total = db.session.scalars(base).all()
    return {"without_parcels": len(undated), "without_units": len(total) - len(undated)}


def fill_account(account_id: int, details_limit: int = DETAILS_PER_RUN) -> dict:
    """Read the missing parcels of one account's stored orders; returns counts."""
    account = db.session.get(Account, account_id)
    if account is None or not account.is_connected:
        return {"skipped": "not connected"}
    done = {"dated": 0, "detailed": 0, "gone": 0}

    def fill(client) -> None:
        _fill_dates(client, account_id, done)
        _fill_details(client, account_id, details_limit, done)

    return with_store_client(account, fill) or done


def _fill_dates(client, account_id: int, done: dict) -> None:
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Order.id, Order.shopify_order_id)
            .where(Order.account_id == account_id, Order.id > last_id, Order.fulfillments.is_(None), _shipped())
            .order_by(Order.id).limit(PARCEL_DATES_BATCH)).all()
        if not rows:
            return
        last_id = rows[-1].id
        found = fetch_parcel_dates(client, [row.shopify_order_id for row in rows])
        for order in db.session.scalars(select(Order).where(Order.id.in_([row.id for row in rows]))):
            if order.fulfillments is not None:
                continue  # a webhook or an order read stored them meanwhile
            if order.shopify_order_id in found:
                order.fulfillments = found[order.shopify_order_id]
                done["dated"] += 1
            else:
                # Shopify no longer shows it (older than it lets this app read): nothing to ask
                # again; its window stays counted from the order date.
                order.fulfillments = []
                done["gone"] += 1
            order.fulfillments_known = parcels.known(order.fulfillments)
        db.session.commit()


def _fill_details(client, account_id: int, limit: int, done: dict) -> None:
    ids = db.session.scalars(
        select(Order.id).where(Order.account_id == account_id, Order.fulfillments.is_not(None),
                               Order.fulfillments_known.is_(False), _shipped())
        .order_by(Order.id).limit(limit)).all()
    for order_id in ids:
        order = db.session.get(Order, order_id)
        detailed = fetch_order_parcels(client, order.shopify_order_id)
        order.fulfillments = parcels.merge(order.fulfillments, detailed or [], complete=detailed is not None)
        # Shopify no longer showing the order: its parcels stay as they are, counted as read.
        order.fulfillments_known = True if detailed is None else parcels.known(order.fulfillments)
        done["detailed"] += 1
        db.session.commit()

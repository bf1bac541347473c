"""Reconciliation: ask Shopify for orders updated since the last sweep, so an order whose webhook
never came (or came while we were down) is stored anyway (DESIGN §5, webhook intake)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import Account, Order
from app.services import imports
from app.services.shopify_access import NotConnected, mark_disconnected
from app.services.webhook_health import GRACE, record_missed
from app.services.webhook_subscriptions import check_webhooks_if_due
from app.shopify import errors as E
from app.shopify.operations import iter_orders

log = logging.getLogger(__name__)

# Each sweep re-reads a little of the last one: Shopify's search index trails writes by seconds,
# and clocks differ.
OVERLAP = timedelta(minutes=5)
# An account never swept starts this far back (the initial import covers what came before).
FIRST_SWEEP = timedelta(days=1)
BATCH_SIZE = 100


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def connected_account_ids() -> list[int]:
    """Accounts with a live store connection (disconnected ones are skipped)."""
    return list(db.session.scalars(
        select(Account.id).where(Account.shop_domain.is_not(None),
                                 Account.access_token_encrypted.is_not(None),
                                 Account.disconnected_at.is_(None)).order_by(Account.id)))


def with_store_client(account: Account, work) -> dict | None:
    """Run ``work(client)`` with the store's Admin API client; None when it ran, else why not:
    the store is not connected (skipped), or Shopify refused its token (the store is then marked
    disconnected)."""
    try:
        work(imports.store_client(account))
    except NotConnected as error:
        return {"skipped": str(error)}
    except E.RevokedTokenError:
        db.session.rollback()
        mark_disconnected(account, imports.REVOKED_REASON)
        db.session.commit()
        return {"disconnected": imports.REVOKED_REASON}
    return None


def reconcile_account(account_id: int, now: datetime | None = None) -> dict:
    """Upsert every order updated since ``reconciled_until`` − OVERLAP, then advance it.
    Returns counts; a revoked token disconnects the account instead."""
    account = db.session.get(Account, account_id)
    if account is None or not account.is_connected:
        return {"skipped": "not connected"}
    started = now or _utcnow()
    since = (account.reconciled_until or started - FIRST_SWEEP) - OVERLAP
    counts = {"created": 0, "updated": 0, "stale": 0}
    missed = 0

    def sweep(client) -> None:
        nonlocal missed
        for batch in imports.chunks(iter_orders(client, updated_at_min=since), BATCH_SIZE):
            missed += _not_brought_by_webhook(account, batch, started)
            for outcome, number in imports.upsert_orders(account.id, batch).items():
                counts[outcome] = counts.get(outcome, 0) + number
            db.session.commit()
        check_webhooks_if_due(account, client)

    stopped = with_store_client(account, sweep)
    if stopped:
        return stopped
    if missed:
        record_missed(account.id, missed, started)
        counts["missed"] = missed
    # Never move backwards (a slow sweep finishing after a newer one).
    if account.reconciled_until is None or started > account.reconciled_until:
        account.reconciled_until = started
    db.session.commit()
    return counts


def _not_brought_by_webhook(account: Account, batch, started: datetime) -> int:
    """How many orders of the batch are new here although their orders/create webhook should have
    come: placed after the store was connected (its subscriptions made) and over GRACE ago (a
    webhook still on its way is not missing)."""
    due = {data.shopify_order_id for data in batch
           if account.connected_at and account.connected_at + GRACE < data.created_at < started - GRACE}
    if not due:
        return 0
    stored = set(db.session.scalars(select(Order.shopify_order_id).where(
        Order.account_id == account.id, Order.shopify_order_id.in_(due))))
    return len(due - stored)

"""Reconciliation: orders whose webhook never came are caught; revoked tokens disconnect."""
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Order
from app.services import reconcile
from app.queue.schedule import PERIODIC
from tests.support.connect import SHOP, connected_account, make_shop, order_count, subscriptions
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.shop(orders=0)  # the `shop` fixture: a sandbox shop without orders


def test_an_order_whose_webhook_never_came_is_caught_and_the_sweep_moves_on(app, shop):
    account = connected_account(shop, reconciled_until=datetime.now(timezone.utc) - timedelta(minutes=10))
    assert subscriptions(shop) == []  # nobody is told about this order
    shop.sandbox.clock.set(time.time())
    placed = shop.store.place_order(SHOP, email="Late.Webhook@Example.com", seed=11)
    assert order_count(account.id) == 0
    before = datetime.now(timezone.utc)
    result = reconcile.reconcile_account(account.id)
    assert result["created"] == 1
    order = db.session.scalar(select(Order).where(Order.account_id == account.id))
    assert order.shopify_order_id == placed.id and order.email == "late.webhook@example.com"
    db.session.expire_all()
    assert db.session.get(Account, account.id).reconciled_until >= before

    # A change made later (tags) is caught by the next sweep; nothing is duplicated.
    shop.sandbox.clock.advance(60)
    shop.store.update_order(SHOP, placed.id, tags="vip", emit=False)
    result = reconcile.reconcile_account(account.id)
    assert result["updated"] == 1 and order_count(account.id) == 1
    db.session.expire_all()
    assert db.session.scalar(select(Order.tags).where(Order.account_id == account.id)) == ["vip"]


def test_the_sweep_asks_for_changes_since_its_last_run_minus_an_overlap(app, shop, monkeypatch):
    until = datetime.now(timezone.utc) - timedelta(hours=2)
    account = connected_account(shop, reconciled_until=until)
    seen = {}

    def spy(client, **kwargs):
        seen.update(kwargs)
        return iter(())

    monkeypatch.setattr(reconcile, "iter_orders", spy)
    now = datetime.now(timezone.utc)
    reconcile.reconcile_account(account.id, now=now)
    assert seen == {"updated_at_min": until - reconcile.OVERLAP}
    db.session.expire_all()
    assert db.session.get(Account, account.id).reconciled_until == now
    # An account never swept starts a day back.
    fresh = connected_account(make_shop(shop.sandbox, domain="fresh-shop.myshopify.com", orders=0))
    reconcile.reconcile_account(fresh.id, now=now)
    assert seen["updated_at_min"] == now - reconcile.FIRST_SWEEP - reconcile.OVERLAP


def test_a_revoked_token_disconnects_the_account(app, shop):
    account = connected_account(shop, reconciled_until=datetime.now(timezone.utc))
    shop.store.uninstall_app(SHOP, shop.client_id)
    result = reconcile.reconcile_account(account.id)
    assert "disconnected" in result
    db.session.expire_all()
    account = db.session.get(Account, account.id)
    assert account.disconnected_at is not None and not account.is_connected
    assert "no longer accepts" in account.disconnect_reason
    assert account.id not in reconcile.connected_account_ids()
    assert reconcile.reconcile_account(account.id) == {"skipped": "not connected"}


def test_disconnected_and_unconnected_accounts_are_skipped(app, shop):
    live = connected_account(shop)
    gone = connected_account(make_shop(shop.sandbox, domain="gone-shop.myshopify.com", orders=0),
                             disconnected_at=datetime.now(timezone.utc))

    from tests.factories import make_account

    never = make_account(shop_domain=None)
    db.session.commit()
    ids = reconcile.connected_account_ids()
    assert live.id in ids and gone.id not in ids and never.id not in ids


def test_the_periodic_job_fans_out_one_sweep_per_connected_account(app, shop, drain_jobs, monkeypatch):
    from app.queue import backends as queue_backends
    from jobs.reconcile import reconcile_all_accounts_job

    monkeypatch.setattr(queue_backends, "has_request_context", lambda: False)
    account = connected_account(shop, reconciled_until=datetime.now(timezone.utc) - timedelta(minutes=1))
    shop.sandbox.clock.set(time.time())
    shop.store.place_order(SHOP, seed=12)
    assert reconcile_all_accounts_job() >= 1
    drain_jobs()
    assert order_count(account.id) == 1
    assert any(p.job == "jobs.reconcile.reconcile_all_accounts_job" and p.cron == "*/10 * * * *" for p in PERIODIC)

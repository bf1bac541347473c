"""Webhook trouble is visible: deliveries refused for a bad signature from a known shop, webhook
subscriptions Shopify removed, orders placed since the last delivery, orders the reconciliation
found that no webhook brought, and deliveries nobody could process — each on the store page and
the overview, with what to do."""
import html
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Account
from app.services import intake, reconcile
from app.services.webhook_subscriptions import sync_webhooks
from tests.factories import make_account, make_delivery, make_order
from tests.fixtures.auth import log_in
from tests.support.connect import connected_account, subscriptions
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.shopify_webhooks import SECRET, post_webhook

SHOP = "acme-outdoor.myshopify.com"
TWO_DAYS_AGO = datetime.now(timezone.utc) - timedelta(days=2)

# The `account` fixture here and in test_webhook_freshness: a store connected two days ago, its webhooks
# fine then; an admin logged in.
CONNECTED_TWO_DAYS_AGO = pytest.mark.account(shop_domain=SHOP, webhook_secret=SECRET, access_token="shpat_x",
                                             connected_at=TWO_DAYS_AGO, webhooks_ok_at=TWO_DAYS_AGO,
                                             users=["admin"], logged_in="admin")
pytestmark = [pytest.mark.shop(orders=0),  # the `shop` fixture: a sandbox shop without orders
              CONNECTED_TWO_DAYS_AGO]


def text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def webhooks_section(client) -> str:
    page = client.get("/dashboard/connect").get_data(as_text=True)
    return text(page.split('id="webhooks"')[1].split("</section>")[0])


def attention(client) -> str:
    page = client.get("/dashboard/").get_data(as_text=True)
    return text(page.split('id="needs-attention"')[1].split("</section>")[0]) if 'id="needs-attention"' in page else ""


def test_deliveries_refused_for_a_bad_signature_from_a_known_shop_say_what_to_do(account, client, monkeypatch):
    monkeypatch.setattr(intake, "REFUSAL_WRITE_SECONDS", 0)
    assert "No sign of trouble" in webhooks_section(client)
    for _ in range(2):
        assert post_webhook(client, {"id": 1}, SHOP, secret="shpss_another_apps_secret").status_code == 401
    # A shop nobody connected is refused the same way, and noted nowhere.
    assert post_webhook(client, {"id": 1}, "stranger.myshopify.com", secret="x").status_code == 401
    section = webhooks_section(client)
    assert f"Boomerang refused 2 deliveries from {SHOP} because their signatures do not match" in section
    assert "Connect the store again (Store page) with the app's current API secret key" in section
    assert "No sign of trouble" not in section
    assert "Boomerang refused 2 deliveries" in attention(client)
    assert db.session.scalar(db.select(Account.webhooks_refused_count).where(Account.shop_domain != SHOP)) in (0, None)


def test_refusals_are_written_at_most_every_few_seconds_per_shop_and_none_is_lost(account, client, monkeypatch):
    monkeypatch.setattr(intake, "REFUSAL_WRITE_SECONDS", 3600)
    monkeypatch.setattr(intake, "_refusals", {})
    writes = []
    original = intake.record_refused
    monkeypatch.setattr(intake, "record_refused", lambda *args, **kw: (writes.append(args), original(*args, **kw)))
    for _ in range(5):
        post_webhook(client, {"id": 1}, SHOP, secret="wrong")
    assert len(writes) == 1  # a flood of forged deliveries is one write
    monkeypatch.setattr(intake, "REFUSAL_WRITE_SECONDS", 0)
    post_webhook(client, {"id": 1}, SHOP, secret="wrong")
    db.session.expire_all()
    assert db.session.get(Account, account.id).webhooks_refused_count == 6


def test_a_reconnect_clears_old_refusals_and_a_day_old_one_is_history(account, client):
    account.webhooks_refused_at, account.webhooks_refused_count = datetime.now(timezone.utc) - timedelta(days=3), 4
    db.session.commit()
    assert "Boomerang refused" not in webhooks_section(client)
    account.webhooks_refused_at = account.connected_at - timedelta(minutes=1)
    db.session.commit()
    assert "Boomerang refused" not in webhooks_section(client)


def test_deliveries_whose_attempts_all_failed_are_counted_as_dead(account, client):
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    for n, (received, attempts) in enumerate(((old, 5), (datetime.now(timezone.utc), 5),
                                              (datetime.now(timezone.utc), 1))):
        make_delivery(account, event_id=f"e-{n}", received_at=received, attempts=attempts)
    make_delivery(account, pending=False, event_id="done", received_at=old)
    db.session.commit()
    page = client.get("/dashboard/").get_data(as_text=True)
    assert re.search(r'<a class="stat stat-alert" href="/dashboard/deliveries/dead"><span class="stat-value">2</span> '
                     r'<span class="stat-label">dead deliveries</span></a>', page)
    assert "2 deliveries from Shopify could not be processed in 5 attempts" in attention(client)
    assert "2 dead deliveries" in webhooks_section(client)
    assert "waited over an hour" not in webhooks_section(client)


def test_deliveries_nobody_tried_for_an_hour_say_the_workers_do_not_run(account, client):
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    for n, received in enumerate((old, old, datetime.now(timezone.utc))):
        make_delivery(account, event_id=f"e-{n}", received_at=received)
    db.session.commit()
    section = webhooks_section(client)
    assert "2 deliveries have waited over an hour without being processed" in section
    assert "Check that the worker processes and Redis run" in section and "dead deliver" not in section


def test_orders_placed_since_the_last_delivery_show_that_webhooks_stopped(account, client):
    now = datetime.now(timezone.utc)
    make_delivery(account, pending=False, event_id="e", received_at=now - timedelta(hours=5))
    make_order(account, created_at=now - timedelta(hours=6), updated_at=now)    # came with that webhook
    make_order(account, created_at=now - timedelta(hours=3), updated_at=now)    # came with none
    make_order(account, created_at=now - timedelta(hours=1), updated_at=now)    # nor this one
    make_order(account, created_at=now - timedelta(minutes=1), updated_at=now)  # its webhook may be on its way
    db.session.commit()
    section = webhooks_section(client)
    assert "The last delivery arrived" in section
    assert re.search(r"No webhook has arrived since .+, but 2 orders were placed since\.", section)
    assert "check that Shopify can reach this server's webhook address" in section
    assert "2 orders were placed since" in attention(client)


def test_staff_see_the_trouble_and_are_sent_to_an_admin(app, client):
    account = make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET),
                           access_token_encrypted=encrypt_secret("shpat_x"),
                           connected_at=datetime.now(timezone.utc) - timedelta(days=2),
                           webhooks_error="Shopify refused the request (access denied).")
    log_in(client, account, role="staff")
    section = attention(client)
    assert "could not check the store's webhook subscriptions: Shopify refused the request" in section
    assert "Ask an admin of this account to look at the Store page." in section
    glance = client.get("/dashboard/").get_data(as_text=True).split('aria-label="At a glance"')[1]
    assert "/dashboard/connect" not in glance


# --- signals recorded by the reconciliation (sandbox) ---------------------------------------------------

def admin_of(client, account):
    log_in(client, account, "admin")


def test_orders_the_reconciliation_found_that_no_webhook_brought_are_reported(app, client, shop):
    connected = datetime.now(timezone.utc) - timedelta(hours=2)
    account = connected_account(shop, connected_at=connected, reconciled_until=connected)
    shop.sandbox.clock.set(time.time())
    shop.store.place_order(shop.domain, email="a@example.com", seed=1, created_at=time.time() - 3600)
    shop.store.place_order(shop.domain, email="b@example.com", seed=2, created_at=time.time() - 1800)
    shop.store.place_order(shop.domain, email="c@example.com", seed=3, created_at=time.time() - 60)  # just now
    result = reconcile.reconcile_account(account.id)
    assert result["created"] == 3 and result["missed"] == 2
    admin_of(client, account)
    section = webhooks_section(client)
    assert re.search(r"The sync found 2 orders that no webhook brought \(the last sweep at .+\)\.", section)
    assert "The sync found 2 orders that no webhook brought" in attention(client)
    # The next sweep finds them stored: nothing more is counted.
    assert "missed" not in reconcile.reconcile_account(account.id)


def test_an_order_from_before_the_connection_is_not_a_missed_webhook(app, shop):
    account = connected_account(shop, connected_at=datetime.now(timezone.utc) - timedelta(minutes=5),
                                reconciled_until=datetime.now(timezone.utc) - timedelta(hours=3))
    shop.sandbox.clock.set(time.time())
    shop.store.place_order(shop.domain, email="a@example.com", seed=1, created_at=time.time() - 7200)
    result = reconcile.reconcile_account(account.id)
    assert result["created"] == 1 and "missed" not in result


def test_a_subscription_shopify_removed_is_made_again_by_the_hourly_check_and_reported(app, client, shop):
    account = connected_account(shop, connected_at=datetime.now(timezone.utc) - timedelta(hours=3))
    sync_webhooks(account.id)
    assert {s.topic for s in subscriptions(shop)} >= {"orders/create", "orders/updated"}
    # Shopify deletes a subscription after 8 failed deliveries in a row.
    gone = next(s for s in subscriptions(shop) if s.topic == "orders/create")
    del shop.store.state["subs"][gone.id]
    reconcile.reconcile_account(account.id)   # checked less than an hour ago: not yet
    assert "orders/create" not in {s.topic for s in subscriptions(shop)}
    db.session.get(Account, account.id).webhooks_ok_at = datetime.now(timezone.utc) - timedelta(hours=2)
    db.session.commit()
    reconcile.reconcile_account(account.id)
    assert [s.topic for s in subscriptions(shop)].count("orders/create") == 1
    admin_of(client, account)
    section = webhooks_section(client)
    assert re.search(r"Shopify had removed the subscription for orders/create; Boomerang made it again at .+\.",
                     section)

    assert "Shopify removes a subscription after 8 deliveries in a row fail" in section


def test_the_first_subscriptions_of_a_connection_are_not_reported_as_removed(app, client, shop):
    account = connected_account(shop)
    sync_webhooks(account.id)
    db.session.expire_all()
    assert db.session.get(Account, account.id).webhooks_recreated_at is None

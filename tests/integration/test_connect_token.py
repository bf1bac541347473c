"""Connecting a store with a legacy admin token through the dashboard, against the sandbox: what is
checked live, what is refused next to which field, and what reconnecting keeps."""
import time

import pytest
from sqlalchemy import select

from app.crypto import decrypt_secret
from app.extensions import db
from app.services.webhook_subscriptions import RETURN_TOPICS, WEBHOOK_TOPICS
from app.models import Account, ImportRun
from tests.factories import make_account
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.connect import (SEEDED, SHOP, assert_nothing_saved, closed_port, connect_with_token, login_admin,
                                   make_shop, order_count, refused_next_to, subscriptions, use_virtual_time)


# What a store's custom app granted before Boomerang recorded returns in Shopify.
SCOPES_BEFORE_RETURNS = ["read_orders", "write_orders", "read_all_orders", "read_products", "read_customers",
                         "read_inventory", "write_inventory", "read_locations", "write_gift_cards",
                         "write_draft_orders"]


def test_connect_with_a_legacy_token_checks_live_saves_encrypted_subscribes_and_imports(
        app, client, sandbox, monkeypatch, drain_jobs):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, scopes=SCOPES_BEFORE_RETURNS)
    account, _ = login_admin(client, shop_domain=None)
    response = connect_with_token(client, shop)
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/connect"
    drain_jobs()
    db.session.expire_all()
    account = db.session.get(Account, account.id)
    assert account.is_connected and account.shop_domain == SHOP
    assert account.connection_method == "legacy_token"
    assert account.access_token_encrypted != shop.token
    assert decrypt_secret(account.access_token_encrypted) == shop.token
    assert decrypt_secret(account.webhook_secret_encrypted) == shop.client_secret
    assert shop.client_secret not in (account.webhook_secret_encrypted or "")
    assert account.access_token_expires_at is None
    assert account.shop_name == "Acme Outfitters" and account.shop_plan == "Basic"
    assert account.currency == "USD" and "read_all_orders" in account.granted_scopes
    assert account.protected_data_readable is True
    assert account.api_origin == shop.origin

    page = client.get("/dashboard/connect").get_data(as_text=True)
    assert "Connected to Acme Outfitters" in page
    for text in ("Basic", "USD", "read_orders", "read_all_orders"):
        assert text in page
    # A connection made before returns were recorded in Shopify lacks their scopes: each gap is
    # named with its use (and returns topics are not subscribed without read_returns).
    assert "read_returns</code> — see returns made in Shopify" in page
    assert "write_returns</code> — record every return in Shopify" in page
    assert "write_customers</code> — give a credit note" in page
    assert "Customer details (name, email, address) are readable" in page

    topics = sorted((s.topic, s.uri) for s in subscriptions(shop))
    assert topics == [(t, "http://localhost/webhooks/shopify")
                      for t in ("app/uninstalled", "orders/create", "orders/updated", "products/create",
                                "products/delete", "products/update")]
    assert db.session.get(Account, account.id).webhooks_ok_at is not None
    # The rules' product facts were read too, by a job of their own.
    from app.models import Product
    assert db.session.query(Product).filter_by(account_id=account.id).count() == len(
        shop.store.get_shop(shop.domain).products)

    run = db.session.scalar(select(ImportRun).where(ImportRun.account_id == account.id))
    assert run.status == "completed" and run.method == "bulk"
    assert run.total == run.imported == SEEDED == order_count(account.id)


@pytest.mark.parametrize("domain", [
    "", "   ", "not a domain", "evil.com", "acme.myshopify.com.evil.com", "https://acme.myshopify.co",
    "<script>alert(1)</script>", "a" * 300, "acme_outfitters.myshopify.com", "-acme.myshopify.com",
    "acme..myshopify.com", "acme.myshopify.com\x00", "acme.myshopify.com:443",
])
def test_a_bad_store_address_is_refused_next_to_the_field_and_nothing_is_saved(app, client, shop, domain):
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    response = connect_with_token(client, shop, **{"legacy-shop_domain": domain})
    page = refused_next_to(response, "legacy-shop_domain")
    assert "<script>alert(1)</script>" not in page
    assert_nothing_saved(account.id)


@pytest.mark.parametrize("token, message", [
    ("", "Paste the Admin API access token"),
    ("abc", "starts with shpat_"),
    ("shpss_0123456789abcdef0123", "API secret key"),
    ("shpat_" + "0" * 32, "did not accept this access token"),      # well-formed, unknown
    ("shpat_abc def 0123456789abcdef", "starts with shpat_"),
    ("shpat_" + "a" * 600, "too long"),
])
def test_a_bad_token_is_refused_next_to_the_field(app, client, shop, token, message):
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    response = connect_with_token(client, shop, **{"legacy-access_token": token})
    page = refused_next_to(response, "legacy-access_token")
    assert message in page
    assert_nothing_saved(account.id)


@pytest.mark.parametrize("secret, message", [
    ("", "Enter the API secret key"),
    ("has spaces in it 0123456789", "does not look like an API secret key"),
    ("short", "does not look like an API secret key"),
    ("shpat_0123456789abcdef0123456789", "That is an access token"),
    ("<b>" + "x" * 20, "does not look like"),
])
def test_a_bad_api_secret_key_is_refused_next_to_the_field(app, client, shop, secret, message):
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    response = connect_with_token(client, shop, **{"legacy-api_secret": secret})
    page = refused_next_to(response, "legacy-api_secret")
    assert message in page
    assert_nothing_saved(account.id)


def test_a_token_of_another_store_is_refused(app, client, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox)
    other = make_shop(sandbox, domain="other-shop.myshopify.com", orders=0)
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    response = connect_with_token(client, shop, **{"legacy-access_token": other.token})
    assert response.status_code == 422
    assert "did not accept this access token" in response.get_data(as_text=True)
    assert_nothing_saved(account.id)


@pytest.mark.parametrize("origin_kind", ["closed port", "no such shop there", "not http"])
def test_an_unreachable_or_wrong_api_origin_is_refused(app, client, shop, origin_kind):
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    origin = {"closed port": f"http://127.0.0.1:{closed_port()}/store/{SHOP}",
              "no such shop there": shop.sandbox.api_origin("nobody.myshopify.com"),
              "not http": "ftp://127.0.0.1/store"}[origin_kind]
    started = time.monotonic()
    response = connect_with_token(client, shop, **{"legacy-api_origin": origin})
    assert time.monotonic() - started < 10  # a person is waiting: short timeouts, few retries
    page = refused_next_to(response, "legacy-api_origin")
    expected = {"closed port": "Could not reach", "no such shop there": "",
                "not http": "Enter a full address"}[origin_kind]
    assert expected in page
    assert "<details class=\"advanced\" open>" in page  # the field with the error is visible
    assert_nothing_saved(account.id)


def test_an_api_origin_is_refused_where_the_deployment_does_not_allow_it(app, client, shop, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_API_ORIGIN_ALLOWED", False)
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    response = connect_with_token(client, shop)
    assert response.status_code == 422
    assert "does not allow another API origin" in response.get_data(as_text=True)
    assert "Advanced" not in client.get("/dashboard/connect").get_data(as_text=True)
    assert_nothing_saved(account.id)


def test_missing_read_orders_is_refused_and_other_missing_scopes_are_named(app, client, sandbox, monkeypatch,
                                                                           drain_jobs):
    use_virtual_time(monkeypatch, sandbox)
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    for scopes, named in ((["read_products"], "read_orders permission"),
                          (["read_orders", "write_gift_cards"], "read_products permission"),
                          (["write_gift_cards"], "read_orders and read_products permissions")):
        sandbox.store.reset()
        shop = make_shop(sandbox, scopes=scopes)
        response = connect_with_token(client, shop)
        assert response.status_code == 422
        assert named in response.get_data(as_text=True)
        assert_nothing_saved(account.id)

    sandbox.store.reset()
    shop = make_shop(sandbox, scopes=["read_orders", "read_products", "write_gift_cards"])
    assert connect_with_token(client, shop).status_code == 303
    drain_jobs()
    page = client.get("/dashboard/connect").get_data(as_text=True)
    assert 'id="missing-scopes"' in page
    for scope, purpose in [("read_all_orders", "see orders older than 60 days"),
                           ("write_orders", "issue refunds"),
                           ("write_returns", "record every return in Shopify and issue its refund"),
                           ("write_draft_orders", "create separate exchange orders (only in that exchange mode)")]:
        assert f"<code>{scope}</code> — {purpose}" in page
    assert "<code>write_gift_cards</code> —" not in page.split('id="missing-scopes"')[1].split("</div>")[0]


def test_without_read_all_orders_the_return_window_and_the_import_are_capped(app, client, sandbox, monkeypatch,
                                                                             drain_jobs):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, scopes=["read_orders", "write_orders", "read_products"])
    account, _ = login_admin(client, shop_domain=None, return_window_days=60, initial_import_days=90)
    response = connect_with_token(client, shop)
    assert response.status_code == 303
    drain_jobs()
    db.session.expire_all()
    account = db.session.get(Account, account.id)
    assert account.return_window_days == 46
    run = db.session.scalar(select(ImportRun).where(ImportRun.account_id == account.id))
    assert "last 60 days instead of 90" in run.window_note
    assert run.status == "completed" and run.imported == SEEDED
    page = client.get("/dashboard/connect").get_data(as_text=True)
    assert "Return window lowered from 60 to 46 days" in page
    assert 'id="window-cap"' in page and "60 − 14 = 46 days" in page
    assert "last 60 days instead of 90" in page


def test_a_short_return_window_is_not_raised_by_the_cap(app, client, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, scopes=["read_orders", "read_products"], orders=0)
    account, _ = login_admin(client, shop_domain=None, return_window_days=30)
    assert connect_with_token(client, shop).status_code == 303
    db.session.expire_all()
    assert db.session.get(Account, account.id).return_window_days == 30


def test_hidden_customer_data_is_detected_and_explained(app, client, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, protected_data=False)
    account, _ = login_admin(client, shop_domain=None)
    assert connect_with_token(client, shop).status_code == 303
    db.session.expire_all()
    assert db.session.get(Account, account.id).protected_data_readable is False
    page = client.get("/dashboard/connect").get_data(as_text=True)
    assert 'id="protected-data"' in page
    assert "Protected customer data access" in page and "Email" in page


def test_a_store_connected_to_another_account_is_refused(app, client, shop):
    other = make_account(shop_domain=SHOP)
    db.session.commit()
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    response = connect_with_token(client, shop)
    assert response.status_code == 422
    assert "already connected to another Boomerang account" in response.get_data(as_text=True)
    assert_nothing_saved(account.id)
    assert db.session.get(Account, other.id).shop_domain == SHOP


def test_reconnecting_replaces_credentials_keeps_the_old_secret_and_does_not_duplicate_webhooks(
        app, client, shop, drain_jobs):
    account, _ = login_admin(client, shop_domain=None)
    assert connect_with_token(client, shop).status_code == 303
    drain_jobs()
    first = {s.id for s in subscriptions(shop)}
    assert len(first) == len(WEBHOOK_TOPICS + RETURN_TOPICS)  # the store granted read_returns
    # A subscription of ours at an old address, and the store got disconnected meanwhile.
    sub = next(iter(subscriptions(shop)))
    old = type(sub)(**{**sub.__getstate__(), "id": 999_999, "uri": "https://old.example.com/webhooks/shopify"})
    shop.store.state["subs"][old.id] = old
    db.session.expire_all()
    acc = db.session.get(Account, account.id)
    acc.disconnected_at, acc.disconnect_reason = acc.connected_at, "The app was uninstalled."
    db.session.commit()
    old_secret_cipher = acc.webhook_secret_encrypted

    new_token = shop.store.issue_admin_token(SHOP, shop.client_id).token
    app_obj = shop.store.get_app(shop.client_id)
    app_obj.client_secret = "shpss_rotatedsecret00000000000"
    response = connect_with_token(client, shop, **{"legacy-access_token": new_token,
                                                   "legacy-api_secret": app_obj.client_secret})
    assert response.status_code == 303
    drain_jobs()
    db.session.expire_all()
    acc = db.session.get(Account, account.id)
    assert decrypt_secret(acc.access_token_encrypted) == new_token
    assert decrypt_secret(acc.webhook_secret_encrypted) == "shpss_rotatedsecret00000000000"
    assert acc.previous_webhook_secret_encrypted == old_secret_cipher
    assert decrypt_secret(acc.previous_webhook_secret_encrypted) == shop.client_secret
    assert acc.disconnected_at is None and acc.disconnect_reason is None and acc.is_connected
    subs = subscriptions(shop)
    assert sorted(s.topic for s in subs) == sorted(WEBHOOK_TOPICS + RETURN_TOPICS)
    assert {s.id for s in subs} == first                   # kept, not created again
    assert all(s.uri == "http://localhost/webhooks/shopify" for s in subs)
    assert order_count(account.id) == SEEDED               # the second import changed nothing


# --- client credentials -----------------------------------------------------------------------------

"""Connecting a store through the dashboard (and the CLI), all three ways, against the sandbox.

The helpers at the top are shared by the import, reconciliation and browser tests.
"""
import socket
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from sqlalchemy import func, select

from app.crypto import decrypt_secret
from app.extensions import db
from app.services.webhook_subscriptions import FULFILLMENT_TOPICS, RETURN_TOPICS, WEBHOOK_TOPICS
from app.models import Account, ImportRun, Order
from app.services import imports
from tests.factories import PASSWORD, make_account, make_user
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)

SHOP = "acme-outfitters.myshopify.com"
SEEDED = 40
OAUTH_CLIENT_ID = "boomerang-oauth-client"
OAUTH_SECRET = "shpss_oauthdeploymentsecret0001"


# --- shared helpers ---------------------------------------------------------------------------------

def make_shop(sandbox, domain=SHOP, orders=SEEDED, scopes=None, plan="basic", protected_data=True,
              client_id=None, client_secret=None, name="Acme Outfitters", currency="USD"):
    """A sandbox shop with ``orders`` orders over the last 30 days (of real time) and an installed
    app; returns its domain, API origin, app credentials and a legacy admin token."""
    sandbox.clock.set(time.time())  # the sandbox's virtual clock starts in the past
    store = sandbox.store
    store.create_shop(domain, name=name, currency=currency, plan=plan, protected_data=protected_data)
    if orders:
        store.seed(domain, orders=orders, days=30, seed=3)
    app = store.create_app(domain, client_id=client_id, client_secret=client_secret, scopes=scopes)
    token = store.issue_admin_token(domain, app.client_id).token
    return SimpleNamespace(domain=domain, origin=sandbox.api_origin(domain), client_id=app.client_id,
                           client_secret=app.client_secret, token=token, store=store, sandbox=sandbox)


def use_virtual_time(monkeypatch, sandbox) -> None:
    """Clients made by the services sleep and measure time on the sandbox's virtual clock, so
    throttling and bulk operations cost no real time."""
    monkeypatch.setattr(imports, "client_options",
                        lambda: {"sleep": sandbox.clock.sleep, "monotonic": sandbox.clock.now})


def login_admin(client, **account_fields):
    """A committed account with an admin logged in through the form; returns (account, user)."""
    account = make_account(**account_fields)
    user = make_user(account, role="admin")
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (302, 303)
    return account, user


def connect_with_token(client, shop, **overrides):
    data = {"legacy-shop_domain": shop.domain, "legacy-access_token": shop.token,
            "legacy-api_secret": shop.client_secret, "legacy-api_origin": shop.origin}
    data.update(overrides)
    return client.post("/dashboard/connect/token", data=data)


def sandbox_order_count(shop) -> int:
    return len(shop.store.get_shop(shop.domain).orders)


def order_count(account_id) -> int:
    return db.session.scalar(select(func.count()).select_from(Order).where(Order.account_id == account_id))


def subscriptions(shop):
    return [s for s in shop.store.state["subs"].values() if s.shop == shop.domain]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture
def shop(sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    return make_shop(sandbox)


def _assert_nothing_saved(account_id, domain_before="untouched.myshopify.com"):
    db.session.expire_all()
    account = db.session.get(Account, account_id)
    assert account.access_token_encrypted is None
    assert account.webhook_secret_encrypted is None
    assert account.connection_method is None
    assert account.shop_domain == domain_before
    assert db.session.scalar(select(func.count()).select_from(ImportRun)
                             .where(ImportRun.account_id == account_id)) == 0


# --- the legacy token -------------------------------------------------------------------------------

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
                      for t in ("app/uninstalled", "orders/create", "orders/updated")]
    assert db.session.get(Account, account.id).webhooks_ok_at is not None

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
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="legacy-shop_domain-error"' in page
    assert "<script>alert(1)</script>" not in page
    _assert_nothing_saved(account.id)


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
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="legacy-access_token-error"' in page
    assert message in page
    _assert_nothing_saved(account.id)


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
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="legacy-api_secret-error"' in page and message in page
    _assert_nothing_saved(account.id)


def test_a_token_of_another_store_is_refused(app, client, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox)
    other = make_shop(sandbox, domain="other-shop.myshopify.com", orders=0)
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    response = connect_with_token(client, shop, **{"legacy-access_token": other.token})
    assert response.status_code == 422
    assert "did not accept this access token" in response.get_data(as_text=True)
    _assert_nothing_saved(account.id)


@pytest.mark.parametrize("origin_kind", ["closed port", "no such shop there", "not http"])
def test_an_unreachable_or_wrong_api_origin_is_refused(app, client, shop, origin_kind):
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    origin = {"closed port": f"http://127.0.0.1:{closed_port()}/store/{SHOP}",
              "no such shop there": shop.sandbox.api_origin("nobody.myshopify.com"),
              "not http": "ftp://127.0.0.1/store"}[origin_kind]
    started = time.monotonic()
    response = connect_with_token(client, shop, **{"legacy-api_origin": origin})
    assert time.monotonic() - started < 10  # a person is waiting: short timeouts, few retries
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="legacy-api_origin-error"' in page
    expected = {"closed port": "Could not reach", "no such shop there": "",
                "not http": "Enter a full address"}[origin_kind]
    assert expected in page
    assert "<details class=\"advanced\" open>" in page  # the field with the error is visible
    _assert_nothing_saved(account.id)


def test_an_api_origin_is_refused_where_the_deployment_does_not_allow_it(app, client, shop, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_API_ORIGIN_ALLOWED", False)
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    response = connect_with_token(client, shop)
    assert response.status_code == 422
    assert "does not allow another API origin" in response.get_data(as_text=True)
    assert "Advanced" not in client.get("/dashboard/connect").get_data(as_text=True)
    _assert_nothing_saved(account.id)


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
        _assert_nothing_saved(account.id)

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
    _assert_nothing_saved(account.id)
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

def connect_with_client_credentials(client, shop, **overrides):
    data = {"cc-shop_domain": shop.domain, "cc-client_id": shop.client_id,
            "cc-client_secret": shop.client_secret, "cc-api_origin": shop.origin}
    data.update(overrides)
    return client.post("/dashboard/connect/client-credentials", data=data)


def test_connect_with_client_credentials_gets_a_24_hour_token(app, client, shop, drain_jobs):
    account, _ = login_admin(client, shop_domain=None)
    response = connect_with_client_credentials(client, shop)
    assert response.status_code == 303
    drain_jobs()
    db.session.expire_all()
    account = db.session.get(Account, account.id)
    assert account.connection_method == "client_credentials"
    assert account.client_id == shop.client_id
    assert decrypt_secret(account.client_secret_encrypted) == shop.client_secret
    assert decrypt_secret(account.webhook_secret_encrypted) == shop.client_secret
    assert decrypt_secret(account.access_token_encrypted).startswith("shpat_")
    lifetime = account.access_token_expires_at - account.connected_at
    assert 23 * 3600 < lifetime.total_seconds() <= 24 * 3600
    assert order_count(account.id) == SEEDED
    assert "Dev Dashboard app (client credentials)" in client.get("/dashboard/connect").get_data(as_text=True)


@pytest.mark.parametrize("overrides, field, message", [
    ({"cc-client_secret": "shpss_wrongwrongwrongwrong00"}, "client_secret", "refused this client ID and secret"),
    ({"cc-client_id": "unknown-client-id-000"}, "client_secret", "refused this client ID and secret"),
    ({"cc-client_id": ""}, "client_id", "client ID"),
    ({"cc-client_id": "has spaces here"}, "client_id", "no spaces"),
    ({"cc-client_secret": ""}, "client_secret", "Enter the client secret"),
    ({"cc-shop_domain": "nobody.myshopify.com", "cc-api_origin": ""}, "shop_domain", "Could not reach"),
])
def test_bad_client_credentials_are_refused_next_to_the_field(app, client, shop, overrides, field, message,
                                                              monkeypatch):
    if overrides.get("cc-api_origin") == "":
        # No API origin means https://nobody.myshopify.com: make that fail fast, offline.
        monkeypatch.setattr("app.shopify.auth.requests.Session.post",
                            lambda *a, **k: (_ for _ in ()).throw(requests.exceptions.ConnectionError("offline")))
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    response = connect_with_client_credentials(client, shop, **overrides)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="cc-{field}-error"' in page and message in page
    _assert_nothing_saved(account.id)


# --- OAuth ------------------------------------------------------------------------------------------

@pytest.fixture
def oauth_shop(app, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    monkeypatch.setitem(app.config, "SHOPIFY_APP_CLIENT_ID", OAUTH_CLIENT_ID)
    monkeypatch.setitem(app.config, "SHOPIFY_APP_CLIENT_SECRET", OAUTH_SECRET)
    return make_shop(sandbox, client_id=OAUTH_CLIENT_ID, client_secret=OAUTH_SECRET)


def _approve_on_sandbox(client, shop):
    """Start the install, follow the link to the sandbox's consent page and approve there;
    returns the callback path + query Shopify sends the retailer back with."""
    response = client.post("/dashboard/connect/oauth", data={"oauth-shop_domain": shop.domain,
                                                             "oauth-api_origin": shop.origin})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Continue to Shopify" in page
    authorize = page.split('class="button primary" href="')[1].split('"')[0].replace("&amp;", "&")
    assert authorize.startswith(shop.origin + "/admin/oauth/authorize?")
    query = parse_qs(urlparse(authorize).query)
    assert query["client_id"] == [OAUTH_CLIENT_ID]
    assert query["redirect_uri"] == ["http://localhost/dashboard/connect/oauth/callback"]
    assert "read_all_orders" in query["scope"][0]
    consent = requests.get(authorize, timeout=5)
    assert consent.status_code == 200 and "Install app" in consent.text
    approved = requests.post(authorize, allow_redirects=False, timeout=5, data={
        "client_id": OAUTH_CLIENT_ID, "redirect_uri": query["redirect_uri"][0],
        "state": query["state"][0], "scope": query["scope"][0], "per_user": "0"})
    assert approved.status_code == 302
    back = urlparse(approved.headers["Location"])
    return f"{back.path}?{back.query}"


def test_oauth_install_through_the_sandbox_consent_page(app, client, oauth_shop, drain_jobs):
    account, _ = login_admin(client, shop_domain=None)
    callback = _approve_on_sandbox(client, oauth_shop)
    response = client.get(callback)
    assert response.status_code == 303, response.get_data(as_text=True)
    drain_jobs()
    db.session.expire_all()
    account = db.session.get(Account, account.id)
    assert account.connection_method == "oauth" and account.is_connected
    assert account.access_token_expires_at is None  # an offline token
    assert decrypt_secret(account.webhook_secret_encrypted) == OAUTH_SECRET
    assert account.client_id == OAUTH_CLIENT_ID
    assert order_count(account.id) == SEEDED
    # The callback is single use.
    again = client.get(callback)
    assert again.status_code == 400
    assert "not started here" in again.get_data(as_text=True)


@pytest.mark.parametrize("tamper", ["hmac", "state", "shop", "code", "no session", "old"])
def test_a_tampered_or_replayed_oauth_callback_is_refused(app, client, oauth_shop, tamper):
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    callback = _approve_on_sandbox(client, oauth_shop)
    path, query = callback.split("?", 1)
    params = {k: v[0] for k, v in parse_qs(query).items()}
    if tamper == "no session":
        with client.session_transaction() as session:
            session.pop("shopify_oauth", None)
    elif tamper == "old":
        from app.shopify.auth import compute_query_hmac

        params["timestamp"] = str(int(time.time()) - 7200)
        params["hmac"] = compute_query_hmac(params, OAUTH_SECRET)
    elif tamper == "shop":
        from app.shopify.auth import compute_query_hmac

        params["shop"] = "someone-else.myshopify.com"
        params["hmac"] = compute_query_hmac(params, OAUTH_SECRET)
    elif tamper == "code":
        from app.shopify.auth import compute_query_hmac

        params["code"] = "0" * 32
        params["hmac"] = compute_query_hmac(params, OAUTH_SECRET)
    else:
        params[tamper] = params[tamper][:-2] + ("00" if not params[tamper].endswith("00") else "11")
    response = client.get(path, query_string=params)
    assert response.status_code == 400
    assert 'id="oauth-error"' in response.get_data(as_text=True)
    _assert_nothing_saved(account.id)


def test_oauth_without_a_configured_app_says_so(app, client, shop):
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    assert "Not available here" in client.get("/dashboard/connect").get_data(as_text=True)
    response = client.post("/dashboard/connect/oauth", data={"oauth-shop_domain": SHOP})
    assert response.status_code == 422
    assert "no Shopify app of its own configured" in response.get_data(as_text=True)


def test_oauth_start_validates_the_store_address(app, client, oauth_shop):
    login_admin(client, shop_domain="untouched.myshopify.com")
    response = client.post("/dashboard/connect/oauth", data={"oauth-shop_domain": "javascript:alert(1)"})
    assert response.status_code == 422
    assert 'id="oauth-shop_domain-error"' in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "shopify_oauth" not in session


# --- who may connect --------------------------------------------------------------------------------

def test_staff_cannot_connect_a_store(app, client, shop):
    account = make_account(shop_domain="untouched.myshopify.com")
    make_user(account, role="admin")
    staff = make_user(account, role="staff")
    db.session.commit()
    client.post("/login", data={"email": staff.email, "password": PASSWORD})
    assert connect_with_token(client, shop).status_code == 403
    assert "Store</a>" not in client.get("/dashboard/").get_data(as_text=True)
    _assert_nothing_saved(account.id)


def test_csrf_protects_the_connect_forms(app, client, shop, monkeypatch):
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = connect_with_token(client, shop)
    assert response.status_code == 400
    _assert_nothing_saved(account.id)


# --- CLI --------------------------------------------------------------------------------------------

@pytest.fixture
def jobs_run_at_once(monkeypatch):
    """pytest-flask keeps a test request context pushed, so in-process jobs enqueued outside a
    real request would wait for a response that never comes: run them at once instead, as they
    run when `flask shop …` is used from a shell."""
    from app.queue import backends as queue_backends

    monkeypatch.setattr(queue_backends, "has_request_context", lambda: False)


def test_cli_connects_with_a_token_and_imports(app, sandbox, monkeypatch, drain_jobs, jobs_run_at_once):
    use_virtual_time(monkeypatch, sandbox)
    # Everything but gift cards granted: the command must name the missing permission.
    shop = make_shop(sandbox, scopes=["read_orders", "write_orders", "read_all_orders", "read_products",
                                      "read_customers", "write_draft_orders"])
    account = make_account(shop_domain=None, slug="cli-shop")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["shop", "connect", "--account-slug", "cli-shop", "--domain", SHOP,
                                 "--token", shop.token, "--secret", shop.client_secret,
                                 "--api-origin", shop.origin])
    assert result.exit_code == 0, result.output
    assert f"Connected 'cli-shop' to Acme Outfitters ({SHOP})" in result.output
    assert "Missing write_gift_cards" in result.output
    drain_jobs()
    db.session.expire_all()
    assert db.session.get(Account, account.id).is_connected
    assert order_count(account.id) == SEEDED
    result = runner.invoke(args=["shop", "import", "--account-slug", "cli-shop"])
    assert result.exit_code == 0 and "Import" in result.output


@pytest.mark.parametrize("args, message", [
    (["--token", "nope"], "--token"),
    (["--domain", "bad domain"], "--domain"),
    (["--account-slug", "no-such-account"], "No account with the slug"),
])
def test_cli_connect_refuses_bad_input_and_saves_nothing(app, shop, args, message):
    account = make_account(shop_domain="untouched.myshopify.com", slug="cli-shop")
    db.session.commit()
    base = {"--account-slug": "cli-shop", "--domain": SHOP, "--token": shop.token,
            "--secret": shop.client_secret, "--api-origin": shop.origin}
    base[args[0]] = args[1]
    argv = ["shop", "connect"] + [item for pair in base.items() for item in pair]
    result = app.test_cli_runner().invoke(args=argv)
    assert result.exit_code != 0
    assert message in result.output
    _assert_nothing_saved(account.id)


# --- the demo wiring ----------------------------------------------------------------------------------

@pytest.fixture
def demo_jobs_in_process(app, monkeypatch, jobs_run_at_once):
    """`make demo` runs its jobs in-process (no Redis): the demo returns are made by running the
    app's jobs as it goes. In the production shape too, this test's jobs run that way."""
    from app.queue.backends import InProcessBackend

    monkeypatch.setitem(app.extensions, "jobs", InProcessBackend(app))


def demo_returns_in_sandbox(sandbox, domain: str, account_id: int) -> dict:
    """{Shopify return name: the sandbox's return} for each Boomerang return of the account,
    checking each is one of Boomerang's own returns in the sandbox."""
    from app.models import ShopifyReturn

    held = {r["name"]: r for r in requests.get(f"{sandbox.url}/_sandbox/shops/{domain}/returns").json()["returns"]}
    ours = db.session.scalars(select(ShopifyReturn).where(ShopifyReturn.account_id == account_id)).all()
    assert ours and all(ref.name in held and not ref.made_in_shopify for ref in ours)
    return {ref.name: held[ref.name] for ref in ours}


def test_the_demo_connects_to_the_sandbox_and_is_safe_to_run_again(app, sandbox, monkeypatch, drain_jobs,
                                                                   demo_jobs_in_process):
    from decimal import Decimal

    from app.demo.orders import OUTFITTERS_ORDERS
    from app.demo.returns import OUTFITTERS_RETURNS
    from app.demo.sandbox import DEMO_ORDERS, DEMO_SCOPES, DEMO_SHOP
    from app.demo.stores import connect_demo
    from app.models import Return, ShopifyReturn

    use_virtual_time(monkeypatch, sandbox)
    sandbox.clock.set(time.time())
    user, facts = connect_demo(sandbox.url)
    drain_jobs()
    db.session.expire_all()
    account = db.session.get(Account, user.account_id)
    assert account.is_connected and account.shop_domain == DEMO_SHOP
    assert account.connection_method == "legacy_token"
    shop_orders = DEMO_ORDERS + len(OUTFITTERS_ORDERS)
    assert facts["orders"] == shop_orders and order_count(account.id) == shop_orders
    # Connected with the returns scopes; what the connect check reads is recorded.
    assert set(DEMO_SCOPES) <= set(account.granted_scopes)
    assert {"read_returns", "write_returns", "write_customers"} <= set(account.granted_scopes)
    assert account.customer_accounts_version == "NEW_CUSTOMER_ACCOUNTS"
    assert account.gift_card_issue_limit == Decimal("2000.00")
    assert account.return_action == "first_scan"

    # The orders to try, one per case, as the sandbox holds them and as Boomerang stored them.
    placed = {o["email"]: o for o in requests.get(
        f"{sandbox.url}/_sandbox/shops/{DEMO_SHOP}/orders?limit=10").json()["orders"]}
    assert [(label, order.email) for label, order in facts["specials"]] == [
        (spec.label, spec.email) for spec in OUTFITTERS_ORDERS]
    manual, pending, failing, guest = (placed[spec.email] for spec in OUTFITTERS_ORDERS)
    assert (manual["gateway"], manual["financial_status"]) == ("manual", "PAID")
    assert (pending["refund_outcome"], failing["refund_outcome"], manual["refund_outcome"]) == \
        ("pending", "failure", "success")
    assert guest["customer_id"] is None and manual["customer_id"] is not None
    assert all(o["fulfillment_status"] == "FULFILLED" for o in (manual, pending, failing, guest))
    stored = {order.email: order for _label, order in facts["specials"]}
    assert stored[guest["email"]].customer_shopify_id is None
    assert {order.name for order in stored.values()} == {o["name"] for o in (manual, pending, failing, guest)}
    tried = {order.id for _label, order in facts["picks"]}
    assert len(tried) == 3 and not tried & {order.id for order in stored.values()}

    # The demo returns, each with its Shopify return (lines and all) in the sandbox.
    returns = facts["returns"]
    assert len(returns) == len(OUTFITTERS_RETURNS)
    assert not {ret.order_id for ret in returns} & (tried | {order.id for order in stored.values()})
    assert [ret.status for ret in returns] == ["OPEN", "CLOSED", "CLOSED", "CLOSED"]
    assert returns[0].tracking_number == "DEMO1001"
    assert [sorted(i.option for i in ret.items) for ret in returns] == [
        ["refund"], ["refund"], ["credit"], ["exchange"]]
    assert all(i.resolution == "ISSUED" for ret in returns[1:] for i in ret.items)
    assert [i.resolution for i in returns[0].items] == ["DECIDED"]  # waiting for the first scan
    in_sandbox = demo_returns_in_sandbox(sandbox, DEMO_SHOP, account.id)
    assert len(in_sandbox) == len(OUTFITTERS_RETURNS)
    for ret in returns:
        held = in_sandbox[db.session.scalar(select(ShopifyReturn.name).where(ShopifyReturn.return_id == ret.id))]
        assert [(ln["title"], ln["quantity"]) for ln in held["lines"]] == [
            (f"{i.title} ({i.variant_title})" if i.variant_title else i.title, i.quantity) for i in ret.items]
        assert held["status"] == ("OPEN" if ret.status == "OPEN" else "CLOSED")
    summary = requests.get(f"{sandbox.url}/_sandbox/shops/{DEMO_SHOP}/issued").json()
    assert summary["return_refunds"] == 2 and summary["store_credit_issued"] != "0.00"
    assert summary["exchange_units_processed"] == 1
    page = requests.get(f"{sandbox.url}/").text
    assert all(name in page for name in in_sandbox)
    first_token = account.access_token_encrypted

    sandbox.store.webhooks.flush(5)
    user, facts = connect_demo(sandbox.url)  # a second `make demo`
    drain_jobs()
    db.session.expire_all()
    account = db.session.get(Account, user.account_id)
    assert account.access_token_encrypted == first_token  # already connected: left alone
    assert order_count(account.id) == shop_orders == len(sandbox.store.get_shop(DEMO_SHOP).orders)
    assert len([s for s in sandbox.store.state["subs"].values() if s.shop == DEMO_SHOP]) == len(
        WEBHOOK_TOPICS + RETURN_TOPICS + FULFILLMENT_TOPICS)
    assert [ret.id for ret in facts["returns"]] == [ret.id for ret in returns]
    assert db.session.scalar(select(func.count()).select_from(Return).where(
        Return.account_id == account.id)) == len(OUTFITTERS_RETURNS)
    assert len(demo_returns_in_sandbox(sandbox, DEMO_SHOP, account.id)) == len(OUTFITTERS_RETURNS)


def test_the_rules_demo_is_on_classic_accounts_with_the_one_app_and_returns(app, sandbox, monkeypatch, drain_jobs,
                                                                              demo_jobs_in_process):
    """Demo Rules Co: classic customer accounts (a credit note is a gift card), an order whose
    discount makes the rules give a credit note, and returns already made. Both demo shops have
    the one Boomerang app installed, and each store verifies webhooks with its one secret."""
    from decimal import Decimal

    from app.crypto import decrypt_secret
    from app.demo.orders import RULES_ORDERS
    from app.demo.returns import RULES_RETURNS
    from app.demo.sandbox import DEMO_SHOP
    from app.demo.stores import RULES_SHOP, connect_demo, connect_rules_demo
    from app.models import Rule

    use_virtual_time(monkeypatch, sandbox)
    sandbox.clock.set(time.time())
    user, _facts = connect_demo(sandbox.url)
    rules_user, facts = connect_rules_demo(sandbox.url)
    drain_jobs()
    db.session.expire_all()
    secrets = set()
    for account_id, domain in ((user.account_id, DEMO_SHOP), (rules_user.account_id, RULES_SHOP)):
        account = db.session.get(Account, account_id)
        apps = requests.get(f"{sandbox.url}/_sandbox/shops/{domain}").json()["apps"]
        assert len(apps) == 1 and decrypt_secret(account.webhook_secret_encrypted) == apps[0]["client_secret"]
        secrets.add((apps[0]["client_id"], apps[0]["client_secret"]))
    assert len(secrets) == 1
    account = db.session.get(Account, rules_user.account_id)
    assert account.option_mode == "rules" and account.customer_accounts_version == "CLASSIC"
    (label, order), = facts["specials"]
    assert order.email == RULES_ORDERS[0].email and order.discount_codes == ["STAFF60"]
    assert order.total_discounts / (order.subtotal_price + order.total_discounts) > Decimal("0.5")

    returns = facts["returns"]
    assert [ret.status for ret in returns] == ["PROCESSED", "PROCESSED"] and len(returns) == len(RULES_RETURNS)
    refund, credit = (ret.items[0] for ret in returns)
    assert (refund.option, refund.resolution) == ("refund", "ISSUED")
    assert db.session.get(Rule, refund.decided_by_rule_id).name == "Faulty items are refunded"
    assert (credit.option, credit.resolution) == ("credit", "ISSUED")
    issued = requests.get(f"{sandbox.url}/_sandbox/shops/{RULES_SHOP}/issued").json()
    assert issued["gift_cards"] == 1 and issued["store_credit_issued"] == "0.00"  # classic: a gift card
    assert len(demo_returns_in_sandbox(sandbox, RULES_SHOP, account.id)) == 2

    sandbox.store.webhooks.flush(5)
    again_user, again = connect_rules_demo(sandbox.url)  # a second `make demo`
    assert [ret.id for ret in again["returns"]] == [ret.id for ret in returns]
    assert requests.get(f"{sandbox.url}/_sandbox/shops/{RULES_SHOP}/issued").json()["gift_cards"] == 1
    assert len([o for o in sandbox.store.get_shop(RULES_SHOP).orders.values()
                if o.email == RULES_ORDERS[0].email]) == 1


def test_make_demo_keeps_the_webhooks_sent_while_it_sets_up_and_hands_them_on_after(app):
    """`make demo` serves while the demo returns are made (Shopify deletes a subscription whose
    deliveries fail eight times in a row), but keeps their webhooks until setup is done: SQLite
    takes one writer at a time. Each is answered 200 at once, then stored in the order it came."""
    import json

    from werkzeug.test import Client

    from app.crypto import encrypt_secret
    from app.demo.gate import SetupGate
    from app.models import WebhookDelivery
    from tests.support.shopify_webhooks import SECRET, signed_headers

    shop = "gate-demo.myshopify.com"
    make_account(shop_domain=shop, slug="gate-demo", webhook_secret_encrypted=encrypt_secret(SECRET))
    db.session.commit()
    gate = SetupGate(app)
    client = Client(gate)

    def send(event_id: str):
        body = json.dumps({"id": 1}).encode()
        return client.post("/webhooks/shopify", data=body,
                           headers=signed_headers(body, shop, "app/uninstalled", event_id=event_id))

    def stored() -> list[str]:
        db.session.expire_all()
        return list(db.session.scalars(select(WebhookDelivery.event_id).where(WebhookDelivery.shop_domain == shop)
                                       .order_by(WebhookDelivery.id)))

    assert [send(event).status_code for event in ("first", "second")] == [200, 200]
    assert stored() == [] and len(gate.kept) == 2
    assert gate.open_and_replay() == 2
    assert stored() == ["first", "second"]
    assert send("third").status_code == 200 and stored() == ["first", "second", "third"]

"""Connecting a store through a Dev Dashboard app (client credentials) or the deployment's own app
(OAuth) against the sandbox, and who may connect a store at all."""
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from app.crypto import decrypt_secret
from app.extensions import db
from app.models import Account
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.connect import (OAUTH_CLIENT_ID, OAUTH_SECRET, SEEDED, SHOP, assert_nothing_saved,
                                   connect_with_token, login_admin, make_shop, order_count, refused_next_to,
                                   use_virtual_time)


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
    page = refused_next_to(response, f"cc-{field}")
    assert message in page
    assert_nothing_saved(account.id)


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
    assert_nothing_saved(account.id)


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
    log_in(client, staff.email)
    assert connect_with_token(client, shop).status_code == 403
    assert "Store</a>" not in client.get("/dashboard/").get_data(as_text=True)
    assert_nothing_saved(account.id)


def test_csrf_protects_the_connect_forms(app, client, shop, monkeypatch):
    account, _ = login_admin(client, shop_domain="untouched.myshopify.com")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = connect_with_token(client, shop)
    assert response.status_code == 400
    assert_nothing_saved(account.id)


# --- CLI --------------------------------------------------------------------------------------------

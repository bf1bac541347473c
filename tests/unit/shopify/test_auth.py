"""Token grants: OAuth (authorize URL, callback HMAC, code exchange, refresh), client credentials,
pasted legacy tokens. Token endpoints are exercised over HTTP against the stub."""
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from app.shopify import auth
from app.shopify import errors as E
from tests.unit.shopify.conftest import SHOP, load_fixture
from tests.unit.shopify.stub import Reply

OAUTH_VECTORS = load_fixture("hmac_vectors.json")["oauth_query_vectors"]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def vector_params(vector) -> dict:
    if "params" in vector:
        return dict(vector["params"])
    return dict(pair.split("=", 1) for pair in vector["message"].split("&"))


@pytest.mark.parametrize("vector", OAUTH_VECTORS, ids=[v["id"] for v in OAUTH_VECTORS])
def test_every_oauth_vector(vector):
    params = vector_params(vector)
    assert auth.query_hmac_message(params) == vector["message"]
    assert auth.compute_query_hmac(params, vector["secret"]) == vector["expected_hex"]
    assert auth.verify_query_hmac({**params, "hmac": vector["expected_hex"]}, vector["secret"])
    assert auth.verify_query_hmac({**params, "hmac": vector["expected_hex"], "signature": "x"},
                                  vector["secret"])


@pytest.mark.parametrize("vector", OAUTH_VECTORS, ids=[v["id"] for v in OAUTH_VECTORS])
def test_oauth_tampering_fails(vector):
    params = {**vector_params(vector), "hmac": vector["expected_hex"]}
    assert not auth.verify_query_hmac({**params, "shop": "evil.myshopify.com"}, vector["secret"])
    assert not auth.verify_query_hmac(params, "other-secret")
    assert not auth.verify_query_hmac({k: v for k, v in params.items() if k != "hmac"}, vector["secret"])


def signed(params, secret="hush"):
    return {**params, "hmac": auth.compute_query_hmac(params, secret)}


def test_verify_callback_checks_everything():
    params = {"shop": SHOP, "code": "abc", "state": "nonce-1", "timestamp": str(int(NOW.timestamp()))}
    assert auth.verify_callback(signed(params), "hush", expected_state="nonce-1", now=NOW) == SHOP
    with pytest.raises(E.ShopifyAuthError, match="state"):
        auth.verify_callback(signed(params), "hush", expected_state="nonce-2", now=NOW)
    with pytest.raises(E.InvalidHMACError):
        auth.verify_callback({**signed(params), "code": "other"}, "hush", expected_state="nonce-1", now=NOW)
    with pytest.raises(E.InvalidShopDomainError):
        auth.verify_callback(signed({**params, "shop": "evil.com"}), "hush", expected_state="nonce-1", now=NOW)
    with pytest.raises(E.ShopifyAuthError, match="too old"):
        auth.verify_callback(signed(params), "hush", expected_state="nonce-1", now=NOW + timedelta(hours=2))


@pytest.mark.parametrize("shop,ok", [
    ("demo.myshopify.com", True), ("a-1.myshopify.com", True), ("Demo.myshopify.com", False),
    ("-demo.myshopify.com", False), ("demo.myshopify.com.evil.com", False), ("evil.com", False),
    ("demo.myshopify.com/", False), ("de mo.myshopify.com", False), ("", False), (None, False),
])
def test_shop_domain_format(shop, ok):
    assert auth.is_valid_shop_domain(shop) is ok


def test_normalize_shop_domain():
    assert auth.normalize_shop_domain(" https://Demo.myshopify.com/admin ") == "demo.myshopify.com"
    assert auth.normalize_shop_domain("demo") == "demo.myshopify.com"
    with pytest.raises(E.InvalidShopDomainError):
        auth.normalize_shop_domain("demo.example.com")


def test_authorize_url_offline_and_online():
    url = auth.authorize_url(SHOP, "key123", ["read_orders", "read_all_orders"],
                             "https://app.example/auth/callback", "nonce")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", SHOP, "/admin/oauth/authorize")
    query = parse_qs(parts.query)
    assert query == {"client_id": ["key123"], "scope": ["read_orders,read_all_orders"],
                     "redirect_uri": ["https://app.example/auth/callback"], "state": ["nonce"]}
    online = parse_qs(urlsplit(auth.authorize_url(SHOP, "k", ["read_orders"], "https://x/cb", "n",
                                                  online=True)).query)
    assert online["grant_options[]"] == ["per-user"]
    sandbox = auth.authorize_url(SHOP, "k", [], "https://x/cb", "n",
                                 origin="http://127.0.0.1:8001/store/demo.myshopify.com")
    assert sandbox.startswith("http://127.0.0.1:8001/store/demo.myshopify.com/admin/oauth/authorize?")
    assert auth.new_state() != auth.new_state()


def test_exchange_code_for_expiring_offline_token(stub):
    stub.add(Reply(200, {"access_token": "shpat_tok", "scope": "read_orders,read_all_orders",
                         "expires_in": 3600, "refresh_token": "shprt_r",
                         "refresh_token_expires_in": 7776000}))
    token = auth.exchange_code(SHOP, "key", "secret", "code-1", expiring=True,
                               origin=f"{stub.url}/store/{SHOP}", now=lambda: NOW)
    request = stub.requests[0]
    assert request.path == f"/store/{SHOP}/admin/oauth/access_token"
    assert request.form == {"client_id": "key", "client_secret": "secret", "code": "code-1", "expiring": "1"}
    assert token.access_token == "shpat_tok" and token.scopes == ("read_orders", "read_all_orders")
    assert token.expires_at == NOW + timedelta(hours=1)
    assert token.refresh_token == "shprt_r"
    assert token.refresh_token_expires_at == NOW + timedelta(days=90)


def test_exchange_code_non_expiring(stub):
    stub.add(Reply(200, {"access_token": "shpat_tok", "scope": "read_orders"}))
    token = auth.exchange_code(SHOP, "key", "secret", "c", origin=f"{stub.url}/store/{SHOP}")
    assert "expiring" not in stub.requests[0].form
    assert token.expires_at is None and not token.needs_renewal(NOW)


def test_refresh_grant(stub):
    stub.add(Reply(200, {"access_token": "shpat_2", "scope": "read_orders", "expires_in": 3600,
                         "refresh_token": "shprt_2", "refresh_token_expires_in": 7776000}))
    token = auth.refresh_access_token(SHOP, "key", "secret", "shprt_1",
                                      origin=f"{stub.url}/store/{SHOP}", now=lambda: NOW)
    assert stub.requests[0].form == {"client_id": "key", "client_secret": "secret",
                                     "grant_type": "refresh_token", "refresh_token": "shprt_1"}
    assert token.refresh_token == "shprt_2"


def test_client_credentials_token_lasts_a_day(stub):
    stub.add(Reply(200, {"access_token": "tok", "scope": "read_orders", "expires_in": 86399}))
    token = auth.client_credentials_token(SHOP, "key", "secret",
                                          origin=f"{stub.url}/store/{SHOP}", now=lambda: NOW)
    assert stub.requests[0].form == {"grant_type": "client_credentials", "client_id": "key",
                                     "client_secret": "secret"}
    assert token.expires_at == NOW + timedelta(seconds=86399)
    assert token.refresh_token is None
    assert not token.needs_renewal(NOW + timedelta(hours=23))
    assert token.needs_renewal(NOW + timedelta(hours=23, minutes=55))


def test_token_refusal_and_html_are_typed(stub):
    origin = f"{stub.url}/store/{SHOP}"
    stub.add(Reply(400, {"error": "invalid_request",
                         "error_description": "The authorization code was not found or was already used"}))
    with pytest.raises(E.ShopifyAuthError, match="already used"):
        auth.exchange_code(SHOP, "key", "secret", "used", origin=origin)
    stub.add(Reply(502, "<html>Bad gateway</html>", {"Content-Type": "text/html"}))
    with pytest.raises(E.NonJSONResponseError):
        auth.client_credentials_token(SHOP, "key", "secret", origin=origin)
    with pytest.raises(E.InvalidShopDomainError):
        auth.client_credentials_token("evil.com", "key", "secret", origin=origin)


def test_pasted_token_shape():
    assert auth.check_pasted_token("  shpat_0123456789abcdef0123456789abcdef \n") == \
        "shpat_0123456789abcdef0123456789abcdef"
    with pytest.raises(E.ShopifyAuthError, match="secret"):
        auth.check_pasted_token("shpss_0123456789abcdef0123456789abcdef")
    for bad in ("", "0123456789abcdef", "shpat_", "shpat_abc def", "Bearer shpat_0123456789abcdef01"):
        with pytest.raises(E.ShopifyAuthError):
            auth.check_pasted_token(bad)

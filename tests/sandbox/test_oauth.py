"""OAuth: consent page, callback HMAC, all grant types, expiry on the clock."""
from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from sandbox.oauth import query_hmac

from tests.fixture_files import shopify_json

from .conftest import SHOP, gql


def verify_callback(secret: str, query: dict) -> bool:
    """What Boomerang does with the callback (written independently of the sandbox)."""
    given = query["hmac"]
    msg = "&".join(f"{k}={v}" for k, v in sorted(query.items()) if k != "hmac")
    return hmac.compare_digest(hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest(),
                               given)


@pytest.mark.parametrize("vec", shopify_json("hmac_vectors.json")["oauth_query_vectors"], ids=lambda v: v["id"])
def test_query_hmac_matches_published_vectors(vec):
    params = vec.get("params") or dict(p.split("=", 1) for p in vec["message"].split("&"))
    assert query_hmac(vec["secret"], params) == vec["expected_hex"]


def authorize(client, app_, redirect="https://boomerang.test/auth/callback", scope=None,
              extra=""):
    page = client.get(f"/store/{SHOP}/admin/oauth/authorize?client_id={app_.client_id}"
                      f"&scope={scope or 'read_orders,write_orders'}&redirect_uri={redirect}"
                      f"&state=nonce123{extra}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Install app" in html and "read_orders" in html
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    resp = client.post(f"/store/{SHOP}/admin/oauth/authorize", data=form)
    assert resp.status_code == 302
    loc = urlparse(resp.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == redirect
    return {k: v[0] for k, v in parse_qs(loc.query).items()}


def test_authorization_code_non_expiring(client, store, shop):
    app_ = shop["app"]
    q = authorize(client, app_)
    assert set(q) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert q["shop"] == SHOP and q["state"] == "nonce123"
    assert verify_callback(app_.client_secret, q)
    assert not verify_callback("wrong-secret", q)
    tampered = dict(q, shop="evil.myshopify.com")
    assert not verify_callback(app_.client_secret, tampered)
    resp = client.post(f"/store/{SHOP}/admin/oauth/access_token",
                       json={"client_id": app_.client_id, "client_secret": app_.client_secret,
                             "code": q["code"]})
    body = resp.get_json()
    assert resp.status_code == 200 and set(body) == {"access_token", "scope"}
    assert body["access_token"].startswith("shpat_") and len(body["access_token"]) == 38
    assert body["scope"] == "read_orders,write_orders"
    assert gql(client, body["access_token"], "{ shop { name } }")[0] == 200
    # Codes are single use.
    again = client.post(f"/store/{SHOP}/admin/oauth/access_token",
                        json={"client_id": app_.client_id, "client_secret": app_.client_secret,
                              "code": q["code"]})
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_authorization_code_expiring_then_refresh(client, store, shop, clock):
    app_ = shop["app"]
    q = authorize(client, app_)
    body = client.post(f"/store/{SHOP}/admin/oauth/access_token",
                       data={"client_id": app_.client_id, "client_secret": app_.client_secret,
                             "code": q["code"], "expiring": "1"}).get_json()
    assert body["expires_in"] == 3600 and body["refresh_token_expires_in"] == 90 * 86400
    assert body["refresh_token"] and body["access_token"].startswith("shpat_")
    token = body["access_token"]
    assert gql(client, token, "{ shop { name } }")[0] == 200
    clock.advance(3601)
    assert gql(client, token, "{ shop { name } }")[0] == 401
    new = client.post(f"/store/{SHOP}/admin/oauth/access_token",
                      json={"client_id": app_.client_id, "client_secret": app_.client_secret,
                            "grant_type": "refresh_token",
                            "refresh_token": body["refresh_token"]}).get_json()
    assert new["access_token"] != token and new["refresh_token"] != body["refresh_token"]
    assert new["expires_in"] == 3600
    assert gql(client, new["access_token"], "{ shop { name } }")[0] == 200
    reuse = client.post(f"/store/{SHOP}/admin/oauth/access_token",
                        json={"client_id": app_.client_id, "client_secret": app_.client_secret,
                              "grant_type": "refresh_token",
                              "refresh_token": body["refresh_token"]})
    assert reuse.status_code == 400


def test_client_credentials_grant_24h(client, store, shop, clock):
    app_ = shop["app"]
    resp = client.post(f"/store/{SHOP}/admin/oauth/access_token",
                       data={"grant_type": "client_credentials", "client_id": app_.client_id,
                             "client_secret": app_.client_secret})
    body = resp.get_json()
    assert resp.status_code == 200 and body["expires_in"] == 86399
    assert "refresh_token" not in body
    assert gql(client, body["access_token"], "{ shop { name } }")[0] == 200
    clock.advance(86399)
    assert gql(client, body["access_token"], "{ shop { name } }")[0] == 401


def test_bad_client_secret_and_unknown_grant(client, shop):
    app_ = shop["app"]
    r = client.post(f"/store/{SHOP}/admin/oauth/access_token",
                    json={"grant_type": "client_credentials", "client_id": app_.client_id,
                          "client_secret": "nope"})
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_client"
    r = client.post(f"/store/{SHOP}/admin/oauth/access_token",
                    json={"grant_type": "password", "client_id": app_.client_id,
                          "client_secret": app_.client_secret})
    assert r.status_code == 400
    r = client.post(f"/store/{SHOP}/admin/oauth/access_token", data=b"\x00garbage",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 401


def test_authorize_page_rejects_unknown_app(client, shop):
    r = client.get(f"/store/{SHOP}/admin/oauth/authorize?client_id=nope&redirect_uri=https://x.test/cb")
    assert r.status_code == 400 and "unknown client_id" in r.get_data(as_text=True)


def test_per_user_grant_gives_online_token(client, shop):
    q = authorize(client, shop["app"], extra="&grant_options[]=per-user")
    body = client.post(f"/store/{SHOP}/admin/oauth/access_token",
                       json={"client_id": "cid", "client_secret": shop["app"].client_secret,
                             "code": q["code"]}).get_json()
    assert body["access_token"].startswith("shpua_") and body["associated_user"]["email"]


def test_uninstall_revokes_tokens(client, store, shop):
    store.uninstall_app(SHOP, "cid")
    assert gql(client, shop["token"], "{ shop { name } }")[0] == 401


def test_oauth_round_trip_over_http(sandbox):
    st = sandbox.store
    st.create_shop(SHOP)
    app_ = st.create_app(SHOP, client_id="live", client_secret="shpss_live")
    origin = sandbox.api_origin(SHOP)
    s = requests.Session()
    page = s.get(f"{origin}/admin/oauth/authorize", params={
        "client_id": "live", "scope": "read_orders", "redirect_uri": "http://127.0.0.1:1/cb",
        "state": "xyz"}, timeout=5)
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    resp = s.post(f"{origin}/admin/oauth/authorize", data=form, allow_redirects=False, timeout=5)
    q = {k: v[0] for k, v in parse_qs(urlparse(resp.headers["Location"]).query).items()}
    assert verify_callback(app_.client_secret, q)
    tok = s.post(f"{origin}/admin/oauth/access_token", json={
        "client_id": "live", "client_secret": "shpss_live", "code": q["code"]}, timeout=5).json()
    r = s.post(sandbox.graphql_url(SHOP), json={"query": "{ shop { name } }"},
               headers={"X-Shopify-Access-Token": tok["access_token"]}, timeout=5)
    assert r.json()["data"]["shop"]["name"] == "Demo"

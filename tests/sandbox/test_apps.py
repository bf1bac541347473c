"""Apps and installations as on Shopify: an app is one client id and one client secret, installed
on many shops; each shop's webhooks are signed with that one secret; registering the app again
never changes its secret; uninstalling it from one shop leaves its other installations alone."""
from __future__ import annotations

import base64
import hashlib
import hmac
import pickle

import requests

from sandbox import create_app
from sandbox.models import App

from .test_webhooks import SUBSCRIBE

SHOPS = ("north.myshopify.com", "south.myshopify.com")


def control(sandbox, method, path, body=None):
    return requests.request(method, f"{sandbox.url}/_sandbox{path}", json=body, timeout=5)


def install(sandbox, shop, **body):
    """Register (or install) the app on ``shop`` through the control API: (status, JSON)."""
    r = control(sandbox, "POST", f"/shops/{shop}/apps", {"client_id": "boomerang", **body})
    return r.status_code, r.json()


def token_for(sandbox, shop, client_id="boomerang"):
    r = control(sandbox, "POST", f"/shops/{shop}/apps/{client_id}/admin-token")
    assert r.status_code == 201, r.text
    return r.json()["access_token"]


def subscribe(sandbox, shop, token, uri):
    r = requests.post(sandbox.graphql_url(shop), json={"query": SUBSCRIBE, "variables": {
        "topic": "ORDERS_CREATE", "uri": uri}}, headers={"X-Shopify-Access-Token": token}, timeout=5)
    assert r.json()["data"]["webhookSubscriptionCreate"]["userErrors"] == [], r.text


def signed_with(secret: str, request: dict) -> bool:
    digest = base64.b64encode(hmac.new(secret.encode(), request["body"], hashlib.sha256).digest()).decode()
    return hmac.compare_digest(digest, request["headers"]["X-Shopify-Hmac-Sha256"])


def two_shops(sandbox):
    for shop in SHOPS:
        assert control(sandbox, "POST", "/shops", {"domain": shop}).status_code == 201


def test_one_app_installed_on_two_shops_signs_both_shops_webhooks_with_its_one_secret(sandbox, receiver):
    two_shops(sandbox)
    status, first = install(sandbox, SHOPS[0], client_secret="shpss_theonesecret")
    assert status == 201
    status, second = install(sandbox, SHOPS[1])  # the same app, installed on a second shop
    assert status == 201 and second["client_secret"] == "shpss_theonesecret"
    for shop in SHOPS:
        subscribe(sandbox, shop, token_for(sandbox, shop), receiver.url)
        control(sandbox, "POST", f"/shops/{shop}/orders", {"email": f"buyer@{shop}"})
    assert control(sandbox, "POST", "/webhooks/flush").json()["drained"]

    shops = sorted(r["headers"]["X-Shopify-Shop-Domain"] for r in receiver.requests)
    assert shops == sorted(SHOPS)
    assert all(signed_with("shpss_theonesecret", r) for r in receiver.requests)
    app = control(sandbox, "GET", "/apps/boomerang").json()
    assert app["client_secret"] == "shpss_theonesecret"
    assert sorted(i["shop"] for i in app["installations"] if i["installed"]) == sorted(SHOPS)
    for shop in SHOPS:  # each shop lists the app once, with the same secret
        listed = control(sandbox, "GET", f"/shops/{shop}").json()["apps"]
        assert [(a["client_id"], a["client_secret"]) for a in listed] == [("boomerang", "shpss_theonesecret")]


def test_registering_the_app_again_with_another_secret_is_refused_and_changes_nothing(sandbox, receiver):
    two_shops(sandbox)
    install(sandbox, SHOPS[0], client_secret="shpss_original")
    status, answer = install(sandbox, SHOPS[1], client_secret="shpss_impostor")
    assert status == 409 and "secret" in answer["error"]
    status, _ = install(sandbox, SHOPS[0], client_secret="shpss_impostor")
    assert status == 409
    assert control(sandbox, "GET", "/apps/boomerang").json()["client_secret"] == "shpss_original"
    assert control(sandbox, "GET", f"/shops/{SHOPS[1]}").json()["apps"] == []

    subscribe(sandbox, SHOPS[0], token_for(sandbox, SHOPS[0]), receiver.url)
    control(sandbox, "POST", f"/shops/{SHOPS[0]}/orders", {})
    assert control(sandbox, "POST", "/webhooks/flush").json()["drained"]
    assert receiver.requests and signed_with("shpss_original", receiver.requests[0])
    # Registering it again with its own secret (or none) is installing it, not changing it.
    assert install(sandbox, SHOPS[1], client_secret="shpss_original")[0] == 201


def test_a_token_is_for_its_shop_and_uninstalling_leaves_the_other_installation(sandbox, receiver):
    two_shops(sandbox)
    install(sandbox, SHOPS[0])
    install(sandbox, SHOPS[1])
    north, south = (token_for(sandbox, shop) for shop in SHOPS)
    shop_name = {"query": "{ shop { myshopifyDomain } }"}
    wrong_shop = requests.post(sandbox.graphql_url(SHOPS[1]), json=shop_name,
                               headers={"X-Shopify-Access-Token": north}, timeout=5)
    assert wrong_shop.status_code == 401
    subscribe(sandbox, SHOPS[1], south, receiver.url)

    assert control(sandbox, "POST", f"/shops/{SHOPS[0]}/apps/boomerang/uninstall").status_code == 200
    gone = requests.post(sandbox.graphql_url(SHOPS[0]), json=shop_name,
                         headers={"X-Shopify-Access-Token": north}, timeout=5)
    kept = requests.post(sandbox.graphql_url(SHOPS[1]), json=shop_name,
                         headers={"X-Shopify-Access-Token": south}, timeout=5)
    assert gone.status_code == 401
    assert kept.json()["data"]["shop"]["myshopifyDomain"] == SHOPS[1]
    control(sandbox, "POST", f"/shops/{SHOPS[1]}/orders", {})
    assert control(sandbox, "POST", "/webhooks/flush").json()["drained"]
    assert [r["headers"]["X-Shopify-Topic"] for r in receiver.requests] == ["orders/create"]
    installs = {i["shop"]: i["installed"] for i in control(sandbox, "GET", "/apps/boomerang").json()["installations"]}
    assert installs == {SHOPS[0]: False, SHOPS[1]: True}


def test_an_app_unknown_or_not_installed_on_a_shop_gets_no_token(sandbox):
    two_shops(sandbox)
    install(sandbox, SHOPS[0])
    assert control(sandbox, "POST", f"/shops/{SHOPS[1]}/apps/boomerang/admin-token").status_code == 400
    assert control(sandbox, "POST", f"/shops/{SHOPS[0]}/apps/nobody/admin-token").status_code == 404
    assert control(sandbox, "GET", "/apps/nobody").status_code == 404


def test_a_state_file_from_before_installations_keeps_each_app_installed_on_its_shop(tmp_path):
    """State files written when an app belonged to one shop load as that app installed there."""
    path = str(tmp_path / "sandbox.pkl")
    first = create_app({"SANDBOX_STATE_FILE": path})
    store = first.extensions["sandbox"]
    store.create_shop(SHOPS[0])
    store.save()
    first.extensions["sandbox"].close()
    with open(path, "rb") as fh:
        state = pickle.load(fh)
    state.pop("installs", None)
    state["apps"] = {"old": App(client_id="old", client_secret="shpss_old", scopes=["read_orders"],
                                shop=SHOPS[0], name="Old", installed=True, api_version="2026-04")}
    with open(path, "wb") as fh:
        pickle.dump(state, fh)

    again = create_app({"SANDBOX_STATE_FILE": path})
    try:
        client = again.test_client()
        listed = client.get(f"/_sandbox/shops/{SHOPS[0]}").get_json()["apps"]
        assert [(a["client_id"], a["client_secret"], a["installed"]) for a in listed] == [
            ("old", "shpss_old", True)]
        assert client.post(f"/_sandbox/shops/{SHOPS[0]}/apps/old/admin-token").status_code == 201
    finally:
        again.extensions["sandbox"].close()


def test_hostile_app_credentials_are_refused_and_nothing_is_registered(sandbox):
    two_shops(sandbox)
    for bad in ({"client_id": "a\x00b"}, {"client_id": 42}, {"client_id": ["x"]}, {"client_id": "x" * 300},
                {"client_id": "ok", "client_secret": "\ud800"}, {"client_id": "ok", "client_secret": ""},
                {"client_id": "ok", "client_secret": {"a": 1}}):
        r = control(sandbox, "POST", f"/shops/{SHOPS[0]}/apps", bad)
        assert r.status_code == 400 and "error" in r.json(), (bad, r.text)
    assert control(sandbox, "GET", "/apps").json()["apps"] == []
    assert control(sandbox, "GET", "/apps/%00").status_code == 404


def test_installing_the_app_on_a_second_shop_through_oauth_uses_its_one_secret(sandbox):
    """The install page of any shop serves a registered app; the code is good at that shop only."""
    import re
    from urllib.parse import parse_qs, urlparse

    from sandbox.oauth import query_hmac

    two_shops(sandbox)
    install(sandbox, SHOPS[0], client_secret="shpss_theonesecret")
    origin = f"{sandbox.url}/store/{SHOPS[1]}"
    session = requests.Session()

    def approve() -> dict:
        page = session.get(f"{origin}/admin/oauth/authorize", params={
            "client_id": "boomerang", "scope": "read_orders", "redirect_uri": "http://127.0.0.1:1/cb",
            "state": "s1"}, timeout=5)
        assert page.status_code == 200, page.text
        form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
        back = session.post(f"{origin}/admin/oauth/authorize", data=form, allow_redirects=False, timeout=5)
        return {k: v[0] for k, v in parse_qs(urlparse(back.headers["Location"]).query).items()}

    def redeem(shop: str, code: str):
        return session.post(f"{sandbox.url}/store/{shop}/admin/oauth/access_token", json={
            "client_id": "boomerang", "client_secret": "shpss_theonesecret", "code": code}, timeout=5)

    query = approve()
    assert query["shop"] == SHOPS[1] and query["hmac"] == query_hmac("shpss_theonesecret", query)
    assert redeem(SHOPS[0], query["code"]).status_code == 400  # a code is good at its own shop only
    token = redeem(SHOPS[1], approve()["code"]).json()
    assert token["scope"] == "read_orders"
    installs = {i["shop"]: i["scopes"] for i in control(sandbox, "GET", "/apps/boomerang").json()["installations"]}
    assert installs[SHOPS[1]] == ["read_orders"]

"""Shop queries, authentication and malformed input: Shopify-shaped, never a 500."""
from __future__ import annotations

import json

import pytest

from .conftest import SHOP, gql

INVALID = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def test_shop_and_access_scopes(client, shop):
    status, body = gql(client, shop["token"], """{ shop { name myshopifyDomain currencyCode email
        plan { publicDisplayName partnerDevelopment shopifyPlus } }
        currentAppInstallation { accessScopes { handle } } }""")
    assert status == 200
    s = body["data"]["shop"]
    assert s["myshopifyDomain"] == SHOP and s["currencyCode"] == "USD"
    assert s["plan"] == {"publicDisplayName": "Basic", "partnerDevelopment": False,
                         "shopifyPlus": False}
    handles = {h["handle"] for h in body["data"]["currentAppInstallation"]["accessScopes"]}
    assert {"read_orders", "write_orders", "read_all_orders"} <= handles
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 4 and cost["actualQueryCost"] == 4
    assert cost["throttleStatus"]["restoreRate"] == 100.0


@pytest.mark.parametrize("plan,name,plus", [("advanced", "Advanced", False), ("plus", "Plus", True),
                                            ("enterprise", "Plus", True)])
def test_plan_public_display_name(client, store, shop, plan, name, plus):
    store.update_shop(SHOP, plan=plan)
    body = gql(client, shop["token"], "{ shop { plan { publicDisplayName shopifyPlus } } }")[1]
    assert body["data"]["shop"]["plan"] == {"publicDisplayName": name, "shopifyPlus": plus}


def test_deprecated_fields_are_not_served(client, shop):
    for query in ("{ shop { plan { displayName } } }", "{ currentBulkOperation { id } }",
                  "{ webhookSubscriptions(first: 1) { nodes { endpoint { __typename } } } }"):
        assert gql(client, shop["token"], query)[1]["errors"][0]["extensions"]["code"] == \
            "undefinedField"


@pytest.mark.parametrize("token", [None, "", "shpat_wrong", "shpat_" + "0" * 32])
def test_wrong_or_missing_token_is_401_with_shopify_message(client, shop, token):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Shopify-Access-Token"] = token
    resp = client.post(f"/store/{SHOP}/admin/api/2026-04/graphql.json",
                       data=json.dumps({"query": "{ shop { name } }"}), headers=headers)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": INVALID}


def test_token_of_another_shop_is_rejected(client, store, shop):
    store.create_shop("other.myshopify.com")
    status, body = gql(client, shop["token"], "{ shop { name } }", shop="other.myshopify.com")
    assert status == 401 and body == {"errors": INVALID}


def test_unknown_shop_and_bad_version_are_404(client, shop):
    assert gql(client, shop["token"], "{ shop { name } }", shop="nope.myshopify.com")[0] == 404
    assert gql(client, shop["token"], "{ shop { name } }", version="latest-ish")[0] == 404
    assert gql(client, shop["token"], "{ shop { name } }", version="2026-04")[0] == 200
    assert gql(client, shop["token"], "{ shop { name } }", version="2025-04")[0] == 200  # older


def test_unknown_field_is_undefined_field_error(client, shop):
    status, body = gql(client, shop["token"], "{ shop { name nope } }")
    assert status == 200
    err = body["errors"][0]
    assert err["message"] == "Field 'nope' doesn't exist on type 'Shop'"
    assert err["extensions"]["code"] == "undefinedField"
    assert "data" not in body and "cost" in body["extensions"]


def test_malformed_graphql_is_a_parse_error(client, shop):
    status, body = gql(client, shop["token"], "query { shop { name ")
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "PARSE_ERROR"
    assert body["errors"][0]["locations"]


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"null", b'{"query": 5}', b'{"query": ""}',
                                 b'{"query": "{ shop { name } }", "variables": [1]}',
                                 b"\xff\xfe\x00", b'"just a string"'])
def test_bad_bodies_are_4xx_json_never_500(client, shop, raw):
    resp = client.post(f"/store/{SHOP}/admin/api/2026-04/graphql.json", data=raw,
                       headers={"X-Shopify-Access-Token": shop["token"],
                                "Content-Type": "application/json"})
    assert 400 <= resp.status_code < 500
    assert "errors" in resp.get_json()


@pytest.mark.parametrize("query", [
    "{ order(id: \"not-a-gid\") { id } }",
    "{ order(id: 5) { id } }",
    "{ orders(first: -1) { nodes { id } } }",
    "{ orders(first: 2, after: \"garbage\") { nodes { id } } }",
    "{ orders(first: 2, query: \"created_at:>banana\") { nodes { id } } }",
    "query Q($n: Int!) { orders(first: $n) { nodes { id } } }",
    "{ node(id: \"gid://shopify/Nope/1\") { id } }",
    "mutation { webhookSubscriptionDelete(id: \"x\") { userErrors { message } } }",
    "{ __schema { queryType { name } } }",
    "query A { shop { name } } query B { shop { id } }",
    "subscription { shop { name } }",
])
def test_odd_queries_get_graphql_errors_not_500(client, shop, query):
    status, body = gql(client, shop["token"], query)
    assert status == 200, body
    assert body.get("errors") or body.get("data") is not None
    for err in body.get("errors", []):
        assert err["message"] and err.get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR"


def test_application_graphql_content_type(client, shop):
    resp = client.post(f"/store/{SHOP}/admin/api/2026-04/graphql.json", data="{ shop { name } }",
                       headers={"X-Shopify-Access-Token": shop["token"],
                                "Content-Type": "application/graphql"})
    assert resp.get_json()["data"]["shop"]["name"] == "Demo"


def test_webhook_subscription_uri_is_accepted(client, shop):
    # (@idempotent is refused here: webhookSubscriptionCreate does not document it; see
    # test_runtime_rules.py.)
    status, body = gql(client, shop["token"], """mutation {
      webhookSubscriptionCreate(topic: ORDERS_CREATE,
        webhookSubscription: {uri: "https://example.test/hooks", format: JSON})
        { webhookSubscription { id topic uri apiVersion { handle } }
          userErrors { field message } } }""")
    assert status == 200, body
    created = body["data"]["webhookSubscriptionCreate"]
    assert created["userErrors"] == []
    assert created["webhookSubscription"]["uri"] == "https://example.test/hooks"
    assert created["webhookSubscription"]["apiVersion"]["handle"] == "2026-04"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10


def test_over_real_http(sandbox):
    import requests
    st = sandbox.store
    st.create_shop(SHOP)
    st.create_app(SHOP, client_id="cid")
    token = st.issue_admin_token(SHOP, "cid").token
    url = sandbox.graphql_url(SHOP)
    r = requests.post(url, json={"query": "{ shop { name } }"},
                      headers={"X-Shopify-Access-Token": token}, timeout=5)
    assert r.status_code == 200 and r.json()["data"]["shop"]["name"] == "Demo"
    r = requests.post(url, data="{oops", headers={"X-Shopify-Access-Token": token,
                                                  "Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 400
    r = requests.post(url, json={"query": "{ shop { name } }"}, timeout=5)
    assert r.status_code == 401 and r.json() == {"errors": INVALID}

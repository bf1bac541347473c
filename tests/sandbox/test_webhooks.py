"""Webhooks: delivery, signature, retries, removal, app/uninstalled, duplicates, ordering,
and key/type compatibility with Shopify's documented orders/create body."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timezone

import requests

from sandbox.rest_payload import order_payload

from tests.fixture_files import shopify_json

from .conftest import SHOP, gql

SUBSCRIBE = """mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic } userErrors { field message } } }"""


# As Shopify writes it: UTC with nanoseconds (a real capture: 2023-03-29T18:00:27.877041743Z).
TRIGGERED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z")


def json_type(v):
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object", type(None): "null"}[type(v)]


def type_mismatches(expected, actual, path="$", nullable=()):
    """Every key of ``expected`` must be in ``actual`` with the same JSON type, recursively.

    A null in the documented example says nothing about the type, so it matches anything.
    """
    out = []
    if expected is None:
        return out
    if actual is None and path.rsplit(".", 1)[-1] in nullable:
        return out
    if json_type(expected) != json_type(actual):
        return [f"{path}: {json_type(expected)} != {json_type(actual)}"]
    if isinstance(expected, dict):
        for k, v in expected.items():
            if k not in actual:
                out.append(f"{path}.{k}: missing")
            else:
                out += type_mismatches(v, actual[k], f"{path}.{k}", nullable)
    elif isinstance(expected, list) and expected and actual:
        for i, item in enumerate(actual):
            out += type_mismatches(expected[0], item, f"{path}[{i}]", nullable)
    return out


def fixture_body():
    return shopify_json("webhook_orders_create_docs_2026-04.metadata.json")["response"]


def test_orders_create_body_has_every_documented_key_with_same_types(store, shop):
    expected = fixture_body()
    s = store.get_shop(SHOP)
    for seed in range(100):  # a buyer who gave a company name (optional on Shopify)
        o = store.place_order(SHOP, seed=seed, discount_code="SPRING20", tags=["a", "b"])
        if s.customers[o.customer_id].address.company:
            break
    # Uncancelled: only the cancellation fields may be null.
    body = json.loads(json.dumps(order_payload(store, s, o)))
    assert type_mismatches(expected, body, nullable=("cancel_reason", "cancelled_at")) == []
    store.update_order(SHOP, o.id, cancel=True, emit=False)
    body = json.loads(json.dumps(order_payload(store, s, o)))
    assert type_mismatches(expected, body) == []
    assert body["tags"] == "a, b" and body["discount_codes"][0]["code"] == "SPRING20"


def test_type_check_catches_a_wrong_type():
    expected = fixture_body()
    broken = json.loads(json.dumps(expected))
    broken["line_items"][0]["price"] = 89.99
    del broken["customer"]["email"]
    problems = type_mismatches(expected, broken)
    assert any("price" in p for p in problems) and any("email: missing" in p for p in problems)


def subscribe(sandbox, token, topic, uri):
    r = requests.post(sandbox.graphql_url(SHOP), json={"query": SUBSCRIBE,
                      "variables": {"topic": topic, "uri": uri}},
                      headers={"X-Shopify-Access-Token": token}, timeout=5).json()
    assert r["data"]["webhookSubscriptionCreate"]["userErrors"] == [], r
    return r["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["id"]


def setup_shop(sandbox):
    st = sandbox.store
    st.create_shop(SHOP)
    app_ = st.create_app(SHOP, client_id="cid", client_secret="shpss_topsecret")
    return app_, st.issue_admin_token(SHOP, "cid").token


def test_a_subscription_lists_its_callback_address_as_uri(sandbox):
    _app, token = setup_shop(sandbox)
    sub_id = subscribe(sandbox, token, "ORDERS_CREATE", "https://app.example/webhooks/shopify")
    listed = requests.post(sandbox.graphql_url(SHOP), json={"query":
                           "{ webhookSubscriptions(first: 10) { nodes { id topic uri } } }"},
                           headers={"X-Shopify-Access-Token": token}, timeout=5).json()
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [
        {"id": sub_id, "topic": "ORDERS_CREATE", "uri": "https://app.example/webhooks/shopify"}]


def test_order_placed_is_delivered_signed_over_http(sandbox, receiver):
    app_, token = setup_shop(sandbox)
    subscribe(sandbox, token, "ORDERS_CREATE", receiver.url)
    subscribe(sandbox, token, "ORDERS_UPDATED", receiver.url)
    placed = requests.post(f"{sandbox.url}/_sandbox/shops/{SHOP}/orders",
                           json={"email": "a@b.test"}, timeout=5).json()
    requests.patch(f"{sandbox.url}/_sandbox/shops/{SHOP}/orders/{placed['id']}",
                   json={"tags": "vip"}, timeout=5)
    assert requests.post(f"{sandbox.url}/_sandbox/webhooks/flush", timeout=15).json()["drained"]
    assert [r["headers"]["X-Shopify-Topic"] for r in receiver.requests] == [
        "orders/create", "orders/updated"]
    for r in receiver.requests:
        h = r["headers"]
        digest = base64.b64encode(hmac.new(b"shpss_topsecret", r["body"], hashlib.sha256)
                                  .digest()).decode()
        assert hmac.compare_digest(digest, h["X-Shopify-Hmac-Sha256"])
        assert h["X-Shopify-Shop-Domain"] == SHOP and h["X-Shopify-Api-Version"] == "2026-04"
        assert h["X-Shopify-Webhook-Id"] and h["X-Shopify-Event-Id"]
        assert TRIGGERED.fullmatch(h["X-Shopify-Triggered-At"])
        assert json.loads(r["body"])["id"] == placed["id"]
    assert json.loads(receiver.requests[1]["body"])["tags"] == "vip"
    assert receiver.requests[0]["headers"]["X-Shopify-Event-Id"] != \
        receiver.requests[1]["headers"]["X-Shopify-Event-Id"]


def test_failed_delivery_is_retried_with_the_same_body(sandbox, receiver):
    app_, token = setup_shop(sandbox)
    subscribe(sandbox, token, "ORDERS_CREATE", receiver.url)
    receiver.status = 503
    sandbox.store.place_order(SHOP, seed=1)
    receiver.event.wait(5)
    receiver.status = 200
    assert sandbox.store.webhooks.flush(10)
    assert len(receiver.requests) >= 2
    assert len({r["body"] for r in receiver.requests}) == 1
    assert len({r["headers"]["X-Shopify-Webhook-Id"] for r in receiver.requests}) == 1
    assert len({r["headers"]["X-Shopify-Triggered-At"] for r in receiver.requests}) == 1  # the original's
    d = sandbox.store.state["deliveries"][-1]
    assert d.status == "delivered" and d.attempts >= 2


def test_triggered_at_is_the_wall_clock_when_the_event_happened(sandbox, receiver):
    """Shopify's clock is the one the app shares: moving the virtual clock does not date deliveries."""
    app_, token = setup_shop(sandbox)
    subscribe(sandbox, token, "ORDERS_CREATE", receiver.url)
    sandbox.clock.advance(3 * 86400)
    before = time.time()
    sandbox.store.place_order(SHOP, seed=2)
    assert sandbox.store.webhooks.flush(10)
    stamp = receiver.requests[0]["headers"]["X-Shopify-Triggered-At"]
    assert TRIGGERED.fullmatch(stamp)
    sent = datetime.strptime(stamp[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
    assert before - 1 <= sent <= time.time()


def test_subscription_removed_after_8_consecutive_failures(sandbox, receiver):
    app_, token = setup_shop(sandbox)
    sub_id = subscribe(sandbox, token, "ORDERS_CREATE", receiver.url)
    receiver.status = 500
    sandbox.store.place_order(SHOP, seed=2)
    assert sandbox.store.webhooks.flush(10)
    assert len(receiver.requests) == 8
    listed = requests.post(sandbox.graphql_url(SHOP), json={"query":
                           "{ webhookSubscriptions(first: 10) { nodes { id } } }"},
                           headers={"X-Shopify-Access-Token": token}, timeout=5).json()
    assert sub_id not in [n["id"] for n in listed["data"]["webhookSubscriptions"]["nodes"]]
    assert sandbox.store.state["deliveries"][-1].status == "failed"


def test_redirect_counts_as_failure(sandbox, receiver):
    app_, token = setup_shop(sandbox)
    subscribe(sandbox, token, "ORDERS_CREATE", receiver.url)
    receiver.status = 302
    sandbox.store.place_order(SHOP, seed=2)
    receiver.event.wait(5)
    receiver.status = 200
    assert sandbox.store.webhooks.flush(10)
    assert len(receiver.requests) >= 2


def test_app_uninstalled_is_delivered(sandbox, receiver):
    app_, token = setup_shop(sandbox)
    subscribe(sandbox, token, "APP_UNINSTALLED", receiver.url)
    r = requests.post(f"{sandbox.url}/_sandbox/shops/{SHOP}/apps/cid/uninstall", timeout=5)
    assert r.status_code == 200
    assert sandbox.store.webhooks.flush(10)
    assert receiver.requests[0]["headers"]["X-Shopify-Topic"] == "app/uninstalled"
    assert json.loads(receiver.requests[0]["body"])["myshopify_domain"] == SHOP
    r = requests.post(sandbox.graphql_url(SHOP), json={"query": "{ shop { name } }"},
                      headers={"X-Shopify-Access-Token": token}, timeout=5)
    assert r.status_code == 401


def test_duplicate_fault_sends_the_same_event_twice(sandbox, receiver):
    app_, token = setup_shop(sandbox)
    subscribe(sandbox, token, "ORDERS_CREATE", receiver.url)
    sandbox.store.set_faults(SHOP, duplicate_webhooks=1.0)
    sandbox.store.place_order(SHOP, seed=3)
    assert sandbox.store.webhooks.flush(10)
    assert len(receiver.requests) == 2
    assert len({r["headers"]["X-Shopify-Event-Id"] for r in receiver.requests}) == 1


def test_out_of_order_fault_reverses_updates(sandbox, receiver):
    app_, token = setup_shop(sandbox)
    subscribe(sandbox, token, "ORDERS_UPDATED", receiver.url)
    order = sandbox.store.place_order(SHOP, seed=4)
    sandbox.store.set_faults(SHOP, out_of_order_webhooks=True)
    sandbox.clock.advance(1)
    sandbox.store.update_order(SHOP, order.id, tags="first")
    sandbox.clock.advance(1)
    sandbox.store.update_order(SHOP, order.id, tags="second")
    assert sandbox.store.webhooks.flush(10)
    tags = [json.loads(r["body"])["tags"] for r in receiver.requests]
    assert tags == ["second", "first"]


def test_subscription_validation_and_scope(client, store, shop):
    bad = gql(client, shop["token"], SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": "not a url"})[1]
    assert bad["data"]["webhookSubscriptionCreate"]["userErrors"][0]["message"] == "Address is invalid"
    ok = gql(client, shop["token"], SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": "https://x.test/h"})[1]
    assert ok["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    dup = gql(client, shop["token"], SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": "https://x.test/h"})[1]
    assert dup["data"]["webhookSubscriptionCreate"]["userErrors"]
    tok = store.issue_admin_token(SHOP, "cid", scopes=["read_products"]).token
    denied = gql(client, tok, SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": "https://x.test/2"})[1]
    assert denied["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "read_orders" in denied["errors"][0]["message"]
    sub_id = ok["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["id"]
    deleted = gql(client, shop["token"], 'mutation { webhookSubscriptionDelete(id: "%s") '
                  "{ deletedWebhookSubscriptionId userErrors { message } } }" % sub_id)[1]
    assert deleted["data"]["webhookSubscriptionDelete"]["deletedWebhookSubscriptionId"] == sub_id
    listed = gql(client, shop["token"], "{ webhookSubscriptions(first: 5) { nodes { id } } }")[1]
    assert listed["data"]["webhookSubscriptions"]["nodes"] == []

"""Shopify's runtime rules outside the Returns API, one test each (docs/reference/
shopify-returns.md §3, §6.5, §6.12–6.14): @idempotent, changeFromQuantity, tags, gift cards,
protected customer data."""
from __future__ import annotations

import json

import pytest
import requests

from .conftest import SHOP, gql
from .returns_support import gid, locations, make_order

ADJUST = """mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { delta quantityAfterChange } }
    userErrors { field code message } } }"""
REFUND = """mutation($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) { refund { id } userErrors { message } } }"""


def adjust_input(store, client, delta=1, **change):
    s = store.get_shop(SHOP)
    variant = next(v for v in s.variants.values() if v.inventory > 0)
    loc = locations(client)[0]
    return variant, {"name": "available", "reason": "restock", "changes": [
        {"delta": delta, "inventoryItemId": gid("InventoryItem", variant.id), "locationId": loc,
         **change}]}


def refund_variables(order, key="k"):
    return {"key": key, "input": {
        "orderId": gid("Order", order.id), "refundLineItems": [
            {"lineItemId": gid("LineItem", order.lines[0].id), "quantity": 1,
             "restockType": "NO_RESTOCK"}],
        "transactions": [{"orderId": gid("Order", order.id), "kind": "REFUND",
                          "gateway": order.gateway, "amount": "20.00",
                          "parentId": gid("OrderTransaction", order.id * 8 + 1)}]}}


# ---- @idempotent ---------------------------------------------------------------------------------

def test_idempotent_is_mandatory_on_inventory_adjust_quantities_from_2026_04(client, store, shop):
    variant, adjust = adjust_input(store, client, changeFromQuantity=None)
    plain = ADJUST.replace(" @idempotent(key: $key)", "").replace(", $key: String!", "")
    before = variant.inventory
    _s, body = gql(client, shop["token"], plain, {"input": adjust}, version="2026-04")
    assert body["data"]["inventoryAdjustQuantities"] is None
    assert body["errors"][0]["message"] == ("The @idempotent directive is required for this "
                                            "mutation but was not provided.")
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert variant.inventory == before
    # Before 2026-04 it was optional (and changeFromQuantity too).
    _s, body = gql(client, shop["token"], plain, {"input": adjust}, version="2026-01")
    assert body["data"]["inventoryAdjustQuantities"]["userErrors"] == []


@pytest.mark.parametrize("mutation", [
    'returnCreate(returnInput: {orderId: "gid://shopify/Order/1", returnLineItems: []})'
    ' @idempotent(key: "k") { userErrors { message } }',
    'returnProcess(input: {returnId: "gid://shopify/Return/1"}) @idempotent(key: "k")'
    ' { userErrors { message } }',
    'returnClose(id: "gid://shopify/Return/1") @idempotent(key: "k") { userErrors { message } }',
    'returnCancel(id: "gid://shopify/Return/1") @idempotent(key: "k") { userErrors { message } }',
    'removeFromReturn(returnId: "gid://shopify/Return/1") @idempotent(key: "k")'
    ' { userErrors { message } }',
    'reverseFulfillmentOrderDispose(dispositionInputs: []) @idempotent(key: "k")'
    ' { userErrors { message } }',
    'giftCardCreate(input: {initialValue: "5"}) @idempotent(key: "k") { userErrors { message } }',
    'tagsAdd(id: "gid://shopify/Order/1", tags: ["x"]) @idempotent(key: "k")'
    ' { userErrors { message } }',
])
def test_idempotent_is_refused_on_mutations_that_do_not_document_it(client, store, shop,
                                                                     mutation):
    _s, body = gql(client, shop["token"], "mutation { " + mutation + " }")
    field = mutation.split("(", 1)[0]
    assert body["data"][field] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "not supported" in body["errors"][0]["message"]
    assert not store.get_shop(SHOP).issuing or not store.get_shop(SHOP).issuing["gift_cards"]


def test_a_blank_idempotency_key_is_refused(client, store, shop):
    _v, adjust = adjust_input(store, client, changeFromQuantity=None)
    _s, body = gql(client, shop["token"], ADJUST, {"input": adjust, "key": "  "})
    assert body["data"]["inventoryAdjustQuantities"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_key_reused_with_other_variables_is_a_parameter_mismatch(client, store, shop):
    _v, adjust = adjust_input(store, client, changeFromQuantity=None)
    gql(client, shop["token"], ADJUST, {"input": adjust, "key": "same"})
    adjust["changes"][0]["delta"] = 5
    _s, body = gql(client, shop["token"], ADJUST, {"input": adjust, "key": "same"})
    (error,) = body["data"]["inventoryAdjustQuantities"]["userErrors"]
    assert error["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"


def test_a_keyed_call_repeated_while_in_progress_is_a_concurrent_request(sandbox):
    st = sandbox.store
    st.create_shop(SHOP)
    st.create_app(SHOP, client_id="cid")
    token = st.issue_admin_token(SHOP, "cid").token
    order = st.place_order(SHOP, quantity=1)
    order.lines[0].price, order.shipping = 2000, 0
    st.set_faults(SHOP, keyed_in_progress_seconds=30)

    def post():
        return requests.post(sandbox.graphql_url(SHOP), timeout=5,
                             data=json.dumps({"query": REFUND,
                                              "variables": refund_variables(order)}),
                             headers={"X-Shopify-Access-Token": token,
                                      "Content-Type": "application/json"})
    first = post()
    assert first.status_code == 502  # applied, and its answer lost
    assert len(order.refunds) == 1
    second = post().json()
    assert second["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_CONCURRENT_REQUEST"
    assert second["data"]["refundCreate"] is None and len(order.refunds) == 1
    st.clear_faults(SHOP)
    sandbox.clock.advance(31)
    third = post().json()
    assert third["data"]["refundCreate"]["refund"]["id"] == gid("Refund", order.refunds[0].id)
    assert len(order.refunds) == 1


def test_a_keyed_inventory_adjustment_in_progress_reports_the_concurrent_code(client, store,
                                                                               shop, clock):
    _v, adjust = adjust_input(store, client, changeFromQuantity=None)
    store.set_faults(SHOP, keyed_in_progress_seconds=10)
    gql(client, shop["token"], ADJUST, {"input": adjust, "key": "busy"})  # answer lost (502)
    _s, body = gql(client, shop["token"], ADJUST, {"input": adjust, "key": "busy"})
    assert body["data"]["inventoryAdjustQuantities"]["userErrors"][0]["code"] == \
        "IDEMPOTENCY_CONCURRENT_REQUEST"


# ---- changeFromQuantity ------------------------------------------------------------------------

def test_change_from_quantity_must_be_given_from_2026_04(client, store, shop):
    variant, adjust = adjust_input(store, client)  # no changeFromQuantity at all
    before = variant.inventory
    _s, body = gql(client, shop["token"], ADJUST, {"input": adjust, "key": "a"},
                   version="2026-04")
    assert body["data"]["inventoryAdjustQuantities"] is None
    assert body["errors"][0]["message"] == ("InventoryChangeInput must include the following "
                                            "argument: changeFromQuantity.")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_FIELD_ARGUMENTS"
    assert variant.inventory == before


def test_a_stale_change_from_quantity_is_refused_and_a_current_one_applies(client, store, shop):
    variant, adjust = adjust_input(store, client, delta=2)
    level = client.get(f"/_sandbox/shops/{SHOP}/locations?variant_id={variant.id}").get_json()[
        "locations"][0]["available"]
    adjust["changes"][0]["changeFromQuantity"] = level - 1
    _s, body = gql(client, shop["token"], ADJUST, {"input": adjust, "key": "stale"})
    (error,) = body["data"]["inventoryAdjustQuantities"]["userErrors"]
    assert error["code"] == "CHANGE_FROM_QUANTITY_STALE"
    adjust["changes"][0]["changeFromQuantity"] = level
    _s, body = gql(client, shop["token"], ADJUST, {"input": adjust, "key": "fresh"})
    assert body["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]["changes"][0][
        "quantityAfterChange"] == level + 2


def test_a_null_change_from_quantity_opts_out_of_the_check(client, store, shop):
    variant, adjust = adjust_input(store, client, changeFromQuantity=None)
    before = variant.inventory
    _s, body = gql(client, shop["token"], ADJUST, {"input": adjust, "key": "null"})
    assert body["data"]["inventoryAdjustQuantities"]["userErrors"] == []
    assert variant.inventory == before + 1


# ---- tags, gift cards, store credit, webhooks ------------------------------------------------------

def test_tags_longer_than_40_characters_are_refused(client, store, shop):
    order = make_order(store, quantity=1)
    long_tag = "x" * 41
    _s, body = gql(client, shop["token"], """mutation($id: ID!, $t: [String!]!) {
        tagsAdd(id: $id, tags: $t) { userErrors { field message } } }""",
                   {"id": gid("Order", order.id), "t": [long_tag]})
    assert body["data"]["tagsAdd"]["userErrors"] == [
        {"field": ["tags"], "message": "Tags is too long (maximum is 40 characters)"}]
    assert long_tag not in order.tags
    variant = sorted(store.get_shop(SHOP).variants)[0]
    _s, body = gql(client, shop["token"], """mutation($i: DraftOrderInput!) {
        draftOrderCreate(input: $i) { draftOrder { id } userErrors { field message } } }""",
                   {"i": {"tags": [long_tag], "lineItems": [
                       {"variantId": gid("ProductVariant", variant), "quantity": 1}]}})
    assert body["data"]["draftOrderCreate"]["userErrors"][0]["field"] == ["tags"]
    _s, body = gql(client, shop["token"], """mutation($id: ID!, $t: [String!]!) {
        tagsAdd(id: $id, tags: $t) { userErrors { message } } }""",
                   {"id": gid("Order", order.id), "t": ["x" * 40]})
    assert body["data"]["tagsAdd"]["userErrors"] == []


def test_a_gift_card_over_the_shops_limit_is_refused(client, store, shop):
    query = """mutation($v: Decimal!) { giftCardCreate(input: {initialValue: $v}) {
        giftCard { id } userErrors { field code message } } }"""
    _s, body = gql(client, shop["token"], query, {"v": "2000.01"})
    (error,) = body["data"]["giftCardCreate"]["userErrors"]
    assert error["code"] == "GIFT_CARD_LIMIT_EXCEEDED" and error["field"] == ["input",
                                                                              "initialValue"]
    _s, body = gql(client, shop["token"], query, {"v": "2000.00"})
    assert body["data"]["giftCardCreate"]["userErrors"] == []
    client.patch(f"/_sandbox/shops/{SHOP}", json={"gift_card_limit": "100"})
    _s, body = gql(client, shop["token"], query, {"v": "100.01"})
    assert body["data"]["giftCardCreate"]["userErrors"][0]["code"] == "GIFT_CARD_LIMIT_EXCEEDED"


def test_a_gift_cards_customer_needs_write_customers(client, store, shop):
    order = make_order(store, quantity=1)
    narrow = store.issue_admin_token(SHOP, "cid", scopes=["write_gift_cards"]).token
    _s, body = gql(client, narrow, """mutation($c: ID!) { giftCardCreate(input: {
        initialValue: "5", customerId: $c}) { giftCard { id } userErrors { message } } }""",
                   {"c": gid("Customer", order.customer_id)})
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "write_customers" in body["errors"][0]["message"]


def test_orders_topics_need_protected_customer_data_approval(client, store, shop):
    patched = client.patch(f"/_sandbox/shops/{SHOP}/apps/cid",
                           json={"protected_customer_data_approved": False})
    assert patched.get_json()["protected_customer_data_approved"] is False
    query = """mutation($t: WebhookSubscriptionTopic!) { webhookSubscriptionCreate(topic: $t,
        webhookSubscription: {uri: "https://app.example/hooks", format: JSON}) {
        webhookSubscription { id } userErrors { field message } } }"""
    body = gql(client, shop["token"], query, {"t": "ORDERS_CREATE"})[1]
    (error,) = body["data"]["webhookSubscriptionCreate"]["userErrors"]
    assert error["message"].startswith("This app is not approved to subscribe to webhook topics "
                                       "containing protected customer data.")
    assert body["data"]["webhookSubscriptionCreate"]["webhookSubscription"] is None
    # Other topics are not affected; approval restores orders/*.
    body = gql(client, shop["token"], query, {"t": "RETURNS_PROCESS"})[1]
    assert body["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    client.patch(f"/_sandbox/shops/{SHOP}/apps/cid", json={"protected_customer_data_approved": True})
    body = gql(client, shop["token"], query, {"t": "ORDERS_CREATE"})[1]
    assert body["data"]["webhookSubscriptionCreate"]["userErrors"] == []

"""Issuing in the sandbox, in raw GraphQL: refunds, gift cards, draft orders, stock, faults."""
from __future__ import annotations

import json

import pytest
import requests

from .conftest import SHOP, gql

SUGGEST = """query($id: ID!, $line: ID!, $qty: Int!) { order(id: $id) {
  suggestedRefund(refundLineItems: [{lineItemId: $line, quantity: $qty}]) {
    amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
    subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } }
    shipping { amountSet { shopMoney { amount } } }
    refundLineItems { quantity lineItem { id } }
    suggestedTransactions { kind gateway amountSet { presentmentMoney { amount } }
      maximumRefundableSet { presentmentMoney { amount } } parentTransaction { id kind } } } } }"""

REFUND = """mutation($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id note totalRefundedSet { shopMoney { amount } } }
    userErrors { field message } } }"""

GIFT = """mutation($input: GiftCardCreateInput!) { giftCardCreate(input: $input) {
  giftCard { id lastCharacters initialValue { amount currencyCode } }
  giftCardCode userErrors { field code message } } }"""

GIFT_SEARCH = """query($q: String!) { giftCards(first: 5, query: $q) { nodes { id lastCharacters } } }"""

DRAFT = """mutation($input: DraftOrderInput!) { draftOrderCreate(input: $input) {
  draftOrder { id name status tags email totalPriceSet { shopMoney { amount } }
    shippingAddress { city countryCodeV2 } }
  userErrors { field message } } }"""

COMPLETE = """mutation($id: ID!) { draftOrderComplete(id: $id) {
  draftOrder { id status order { id name } } userErrors { field message } } }"""

DRAFT_SEARCH = """query($q: String!) { draftOrders(first: 5, query: $q) { nodes { id status } } }"""


@pytest.fixture
def order(store, shop):
    """One USD order, one line of 3 units at 20.00 with 6.00 discount and 3.00 tax, shipped,
    with 5.00 shipping."""
    variant = sorted(store.get_shop(SHOP).variants)[0]
    o = store.place_order(SHOP, variant_ids=[variant], quantity=3)
    o.currency, o.rate, o.shipping, o.financial = "USD", 1.0, 500, "PAID"
    ln = o.lines[0]
    ln.price, ln.discount, ln.tax, ln.fulfilled = 2000, 600, 300, 3
    return o


def refund_input(o, qty, amount, **extra):
    return {"orderId": f"gid://shopify/Order/{o.id}", "note": "RMA-1 item 1",
            "refundLineItems": [{"lineItemId": f"gid://shopify/LineItem/{o.lines[0].id}",
                                 "quantity": qty, "restockType": "NO_RESTOCK"}],
            "transactions": [{"orderId": f"gid://shopify/Order/{o.id}", "kind": "REFUND",
                              "gateway": o.gateway, "amount": amount,
                              "parentId": f"gid://shopify/OrderTransaction/{o.id * 8 + 1}"}],
            **extra}


def suggest(client, token, o, qty):
    status, body = gql(client, token, SUGGEST, {"id": f"gid://shopify/Order/{o.id}",
                                                "line": f"gid://shopify/LineItem/{o.lines[0].id}",
                                                "qty": qty})
    assert status == 200 and "errors" not in body, body
    return body["data"]["order"]["suggestedRefund"]


def test_suggested_refund_is_discounted_unit_value_plus_tax_share_without_shipping(
        client, shop, order):
    s = suggest(client, shop["token"], order, 1)
    # (3 × 20.00 − 6.00) / 3 = 18.00 per unit, tax 3.00 / 3 = 1.00; shipping stays out.
    assert s["subtotalSet"]["shopMoney"]["amount"] == "18.00"
    assert s["totalTaxSet"]["shopMoney"]["amount"] == "1.00"
    assert s["amountSet"]["shopMoney"] == {"amount": "19.00", "currencyCode": "USD"}
    assert s["shipping"]["amountSet"]["shopMoney"]["amount"] == "0.00"
    (tx,) = s["suggestedTransactions"]
    assert tx["kind"] == "SUGGESTED_REFUND" and tx["gateway"] == order.gateway
    assert tx["parentTransaction"] == {"id": f"gid://shopify/OrderTransaction/{order.id * 8 + 1}",
                                       "kind": "SALE"}
    # The whole order (3 × 18 + 3 tax + 5 shipping = 62.00) can still be refunded.
    assert tx["maximumRefundableSet"]["presentmentMoney"]["amount"] == "62.00"
    # More than refundable is clamped to the refundable units.
    assert suggest(client, shop["token"], order, 9)["refundLineItems"][0]["quantity"] == 3


def test_over_refunding_is_refused_by_quantity_and_by_amount(client, shop, store, order):
    tok = shop["token"]
    _s, body = gql(client, tok, REFUND, {"input": refund_input(order, 4, "19.00"), "key": "k1"})
    errors = body["data"]["refundCreate"]["userErrors"]
    assert errors and errors[0]["field"] == ["refundLineItems", "0", "quantity"]
    _s, body = gql(client, tok, REFUND, {"input": refund_input(order, 1, "62.01"), "key": "k2"})
    errors = body["data"]["refundCreate"]["userErrors"]
    assert errors and errors[0]["field"] == ["transactions"]
    assert order.refunds == []  # nothing was recorded by either refusal

    # After refunding two units, only one is left.
    _s, body = gql(client, tok, REFUND, {"input": refund_input(order, 2, "38.00"), "key": "k3"})
    assert body["data"]["refundCreate"]["userErrors"] == []
    _s, body = gql(client, tok, REFUND, {"input": refund_input(order, 2, "19.00"), "key": "k4"})
    assert body["data"]["refundCreate"]["userErrors"][0]["message"].startswith(
        "Quantity cannot refund more items")
    assert suggest(client, tok, order, 1)["amountSet"]["shopMoney"]["amount"] == "19.00"


def test_a_repeated_idempotency_key_returns_the_original_refund(client, shop, store, order):
    tok = shop["token"]
    variables = {"input": refund_input(order, 1, "19.00"), "key": "rma-1-item-1"}
    _s, first = gql(client, tok, REFUND, variables)
    _s, again = gql(client, tok, REFUND, variables)
    assert first["data"]["refundCreate"]["refund"]["id"] == again["data"]["refundCreate"]["refund"]["id"]
    assert len(order.refunds) == 1 and order.refunds[0].amount == 1900
    assert order.refunds[0].note == "RMA-1 item 1"
    # The same key with other arguments is refused, not silently answered with the original.
    other = {"input": refund_input(order, 2, "38.00"), "key": "rma-1-item-1"}
    _s, body = gql(client, tok, REFUND, other)
    assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert len(order.refunds) == 1
    # Keys belong to a shop: another shop's equal key is a different request.
    assert client.get(f"/_sandbox/shops/{SHOP}/issued").get_json()["refunds"] == 1


def test_refund_with_return_restocks_at_the_location(client, shop, store, order):
    s = store.get_shop(SHOP)
    variant = s.variants[order.lines[0].variant_id]
    before = variant.inventory
    locations = client.get(f"/_sandbox/shops/{SHOP}/locations").get_json()["locations"]
    returns = next(loc for loc in locations if not loc["primary"])
    data = refund_input(order, 2, "38.00")
    data["refundLineItems"][0].update(restockType="RETURN", locationId=returns["gid"])
    _s, body = gql(client, shop["token"], REFUND, {"input": data, "key": "r"})
    assert body["data"]["refundCreate"]["userErrors"] == []
    assert variant.inventory == before + 2
    at = client.get(f"/_sandbox/shops/{SHOP}/locations?variant_id={variant.id}").get_json()
    assert next(loc for loc in at["locations"] if not loc["primary"])["available"] == 2


def test_mandatory_idempotency_from_2026_04(client, shop, order):
    plain = REFUND.replace(" @idempotent(key: $key)", "").replace(", $key: String!", "")
    _s, body = gql(client, shop["token"], plain, {"input": refund_input(order, 1, "19.00")},
                   version="2026-07")
    assert body["data"]["refundCreate"] is None and "idempotent" in body["errors"][0]["message"]
    assert order.refunds == []


def test_gift_card_codes_are_unique_per_shop(client, shop, store):
    tok = shop["token"]
    _s, body = gql(client, tok, GIFT, {"input": {"initialValue": "19.00", "code": "BMRGabc12345"}})
    created = body["data"]["giftCardCreate"]
    assert created["userErrors"] == [] and created["giftCardCode"] == "BMRGabc12345"
    assert created["giftCard"]["lastCharacters"] == "2345"
    assert created["giftCard"]["initialValue"] == {"amount": "19.00", "currencyCode": "USD"}
    _s, body = gql(client, tok, GIFT, {"input": {"initialValue": "5", "code": "bmrgABC12345"}})
    assert body["data"]["giftCardCreate"]["userErrors"] == [
        {"field": ["input", "code"], "code": "TAKEN", "message": "Code has already been taken"}]
    _s, body = gql(client, tok, GIFT, {"input": {"initialValue": "0", "code": "short"}})
    codes = {e["code"] for e in body["data"]["giftCardCreate"]["userErrors"]}
    assert codes == {"GREATER_THAN", "TOO_SHORT"}
    # Another shop may use the same code.
    store.create_shop("other.myshopify.com")
    store.create_app("other.myshopify.com", client_id="cid2")
    other = store.issue_admin_token("other.myshopify.com", "cid2").token
    _s, body = gql(client, other, GIFT, {"input": {"initialValue": "5", "code": "BMRGabc12345"}},
                   shop="other.myshopify.com")
    assert body["data"]["giftCardCreate"]["userErrors"] == []


def test_search_lag_hides_a_new_gift_card_and_draft_order(client, shop, store, clock):
    store.set_faults(SHOP, search_lag_seconds=30)
    tok = shop["token"]
    gql(client, tok, GIFT, {"input": {"initialValue": "10", "code": "LAGCODE0001"}})
    variant = sorted(store.get_shop(SHOP).variants)[0]
    gql(client, tok, DRAFT, {"input": {"tags": ["boomerang-x1"], "lineItems": [
        {"variantId": f"gid://shopify/ProductVariant/{variant}", "quantity": 1}]}})
    assert gql(client, tok, GIFT_SEARCH, {"q": "LAGCODE0001"})[1]["data"]["giftCards"]["nodes"] == []
    assert gql(client, tok, DRAFT_SEARCH, {"q": "tag:boomerang-x1"})[1]["data"]["draftOrders"][
        "nodes"] == []
    clock.advance(31)
    (card,) = gql(client, tok, GIFT_SEARCH, {"q": "LAGCODE0001"})[1]["data"]["giftCards"]["nodes"]
    assert card["lastCharacters"] == "0001"
    (draft,) = gql(client, tok, DRAFT_SEARCH, {"q": "tag:boomerang-x1"})[1]["data"][
        "draftOrders"]["nodes"]
    assert draft["status"] == "OPEN"
    # An unknown filter is ignored (as on Shopify), so ``code:`` matches every card.
    gql(client, tok, GIFT, {"input": {"initialValue": "10", "code": "LAGCODE0002"}})
    clock.advance(31)
    assert len(gql(client, tok, GIFT_SEARCH, {"q": "code:LAGCODE0001"})[1]["data"]["giftCards"][
        "nodes"]) == 2


def test_draft_order_at_full_discount_completes_into_an_order_taking_stock(client, shop, store):
    tok = shop["token"]
    s = store.get_shop(SHOP)
    variant = next(v for v in s.variants.values() if v.inventory >= 2)
    before, orders_before = variant.inventory, len(s.orders)
    _s, body = gql(client, tok, DRAFT, {"input": {
        "email": "Pat@Example.com", "tags": ["boomerang-exchange-abc"], "note": "RMA-7",
        "shippingAddress": {"firstName": "Pat", "address1": "1 Main St", "city": "Ottawa",
                            "countryCode": "CA", "provinceCode": "ON", "zip": "K2H 7A8"},
        "lineItems": [{"variantId": f"gid://shopify/ProductVariant/{variant.id}", "quantity": 2,
                       "appliedDiscount": {"valueType": "PERCENTAGE", "value": 100.0,
                                           "title": "Exchange"}}]}})
    draft = body["data"]["draftOrderCreate"]["draftOrder"]
    assert body["data"]["draftOrderCreate"]["userErrors"] == []
    assert draft["totalPriceSet"]["shopMoney"]["amount"] == "0.00" and draft["status"] == "OPEN"
    assert draft["email"] == "pat@example.com" and draft["tags"] == ["boomerang-exchange-abc"]
    assert draft["shippingAddress"] == {"city": "Ottawa", "countryCodeV2": "CA"}
    assert variant.inventory == before  # a draft reserves nothing

    _s, body = gql(client, tok, COMPLETE, {"id": draft["id"]})
    done = body["data"]["draftOrderComplete"]
    assert done["userErrors"] == [] and done["draftOrder"]["status"] == "COMPLETED"
    order = s.orders[int(done["draftOrder"]["order"]["id"].rsplit("/", 1)[1])]
    assert len(s.orders) == orders_before + 1 and done["draftOrder"]["order"]["name"] == f"#{order.number}"
    assert [(ln.variant_id, ln.quantity) for ln in order.lines] == [(variant.id, 2)]
    assert order.email == "pat@example.com" and order.ship_to.city == "Ottawa"
    assert variant.inventory == before - 2

    _s, body = gql(client, tok, COMPLETE, {"id": draft["id"]})
    assert body["data"]["draftOrderComplete"]["userErrors"][0]["field"] == ["id"]
    assert variant.inventory == before - 2 and len(s.orders) == orders_before + 1
    issued = client.get(f"/_sandbox/shops/{SHOP}/issued").get_json()
    assert (issued["draft_orders"], issued["completed_draft_orders"]) == (1, 1)
    assert client.get(f"/control/shops/{SHOP}/issued").get_json() == issued  # the alias
    assert issued["draft_order_list"][0]["order"] == f"#{order.number}"


def test_completing_an_out_of_stock_draft_is_refused(client, shop, store):
    s = store.get_shop(SHOP)
    variant = next(v for v in s.variants.values() if v.inventory > 0)
    _s, body = gql(client, shop["token"], DRAFT, {"input": {"lineItems": [
        {"variantId": f"gid://shopify/ProductVariant/{variant.id}", "quantity": 1}]}})
    draft_id = body["data"]["draftOrderCreate"]["draftOrder"]["id"]
    variant.inventory = 0  # sold out meanwhile
    orders_before = len(s.orders)
    _s, body = gql(client, shop["token"], COMPLETE, {"id": draft_id})
    assert "out of stock" in body["data"]["draftOrderComplete"]["userErrors"][0]["message"]
    assert len(s.orders) == orders_before and variant.inventory == 0


ADJUST = """mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } }
    userErrors { field code message } } }"""


def test_inventory_adjustment_is_idempotent_and_validated(client, shop, store):
    s = store.get_shop(SHOP)
    variant = next(v for v in s.variants.values() if v.inventory > 0)
    before = variant.inventory
    loc = client.get(f"/_sandbox/shops/{SHOP}/locations").get_json()["locations"][0]["gid"]
    change = {"delta": 2, "inventoryItemId": f"gid://shopify/InventoryItem/{variant.id}",
              "locationId": loc, "changeFromQuantity": None}  # must be given from 2026-04
    variables = {"input": {"name": "available", "reason": "restock", "changes": [change]},
                 "key": "restock-1"}
    _s, first = gql(client, shop["token"], ADJUST, variables)
    _s, again = gql(client, shop["token"], ADJUST, variables)
    group = first["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]
    assert group == again["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]
    assert group["changes"] == [{"name": "available", "delta": 2,
                                 "quantityAfterChange": before + 2}]
    assert variant.inventory == before + 2
    bad = {"input": {"name": "available", "reason": "because", "changes": [change]}, "key": "x"}
    _s, body = gql(client, shop["token"], ADJUST, bad)
    assert body["data"]["inventoryAdjustQuantities"]["userErrors"][0]["code"] == "INVALID_REASON"


def test_mutations_cost_ten_points_from_the_bucket(client, shop, store):
    _s, body = gql(client, shop["token"], GIFT, {"input": {"initialValue": "1"}})
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 10 and cost["actualQueryCost"] == 10
    status = cost["throttleStatus"]
    assert status["currentlyAvailable"] == status["maximumAvailable"] - 10


def test_missing_scope_is_access_denied(client, store, shop):
    tok = store.issue_admin_token(SHOP, "cid", scopes=["read_orders"]).token
    _s, body = gql(client, tok, GIFT, {"input": {"initialValue": "1"}})
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert store.get_shop(SHOP).issuing is None or not store.get_shop(SHOP).issuing["gift_cards"]


def test_dropped_response_after_mutation_still_applies_it(sandbox):
    st = sandbox.store
    st.create_shop(SHOP)
    st.create_app(SHOP, client_id="cid")
    token = st.issue_admin_token(SHOP, "cid").token
    st.set_faults(SHOP, drop_response_after_mutation=1.0)
    body = {"query": GIFT, "variables": {"input": {"initialValue": "7", "code": "DROPPED0001"}}}
    r = requests.post(sandbox.graphql_url(SHOP), data=json.dumps(body), timeout=5,
                      headers={"X-Shopify-Access-Token": token,
                               "Content-Type": "application/json"})
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html")
    cards = st.get_shop(SHOP).issuing["gift_cards"]
    assert [c.code for c in cards.values()] == ["DROPPED0001"]  # the effect exists
    # Queries are not affected by this knob.
    r = requests.post(sandbox.graphql_url(SHOP), json={"query": "{ shop { name } }"}, timeout=5,
                      headers={"X-Shopify-Access-Token": token})
    assert r.status_code == 200


def test_the_page_lists_what_was_issued(client, shop, order):
    gql(client, shop["token"], GIFT, {"input": {"initialValue": "12.50", "code": "PAGECODE9876"}})
    gql(client, shop["token"], REFUND, {"input": refund_input(order, 1, "19.00"), "key": "p"})
    page = client.get("/").get_data(as_text=True)
    assert "…9876" in page and "12.50 USD" in page
    assert f"#{order.number}" in page and "RMA-1 item 1" in page and "19.00 USD" in page

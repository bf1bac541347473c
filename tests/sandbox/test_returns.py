"""Shopify's Returns API in the sandbox: the app's documents served, each mutation's happy
path, stock after restocks and exchanges, money, webhooks, control API and page."""
from __future__ import annotations

import json

import pytest
from graphql import parse, validate

from app.shopify.documents import load_document
from sandbox.resolvers import executable_schema

from .conftest import SHOP, gql
from .returns_support import (create_return, data, gid, line_ids, locations, make_order,
                              outcome, process, returnable, rfo_line_ids, sale_refund)

APP_DOCUMENTS = ["returnable_fulfillments", "return_calculate", "return_create", "return_state",
                 "return_request", "return_approve_request", "return_decline_request",
                 "order_returns", "return_outcome", "return_process",
                 "reverse_fulfillment_order_dispose", "return_close", "return_cancel",
                 "remove_from_return", "return_reason_definitions", "variants_stock",
                 "refund_status", "gift_card_notify"]


@pytest.mark.parametrize("name", APP_DOCUMENTS)
def test_the_apps_returns_documents_validate_against_the_served_schema(name):
    assert [e.message for e in validate(executable_schema(), parse(load_document(name)))] == []


def test_the_apps_returns_documents_are_served_with_shopify_shaped_data(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=2, price=3000, discount=600, tax=480)
    variant = store.get_shop(SHOP).variants[order.lines[0].variant_id]
    (fli, line, qty), = returnable(client, tok, order)
    assert qty == 2 and line == gid("LineItem", order.lines[0].id)
    calc = data(client, tok, "return_calculate", {"input": {
        "orderId": gid("Order", order.id),
        "returnLineItems": [{"fulfillmentLineItemId": fli, "quantity": 1}],
        "exchangeLineItems": [{"variantId": gid("ProductVariant", variant.id), "quantity": 1}]}})
    (rl,), (ex,) = calc["returnCalculate"]["returnLineItems"], \
        calc["returnCalculate"]["exchangeLineItems"]
    # (2 × 30.00 − 6.00) / 2 = 27.00 a unit, tax 4.80 / 2 = 2.40.
    assert rl["subtotalSet"]["shopMoney"] == {"amount": "27.00", "currencyCode": "USD"}
    assert rl["totalTaxSet"]["shopMoney"]["amount"] == "2.40"
    assert ex["subtotalSet"]["shopMoney"]["amount"] == f"{variant.price / 100:.2f}"
    reasons = data(client, tok, "return_reason_definitions", {"first": 50})
    handles = [n["handle"] for n in reasons["returnReasonDefinitions"]["nodes"]]
    assert handles[:3] == ["unknown", "changed-my-mind", "item-not-as-described"]
    assert "too-small" in handles
    ret = create_return(client, tok, order, [(fli, 2)],
                        exchanges=[(variant.id, 1, None)], note="RMA-9 item 1")
    assert ret["name"] == f"#{order.number}-R1" and ret["status"] == "OPEN"
    assert ret["returnLineItems"]["nodes"][0]["returnReasonNote"] == "RMA-9 item 1"
    state = data(client, tok, "return_state", {"id": ret["id"]})["return"]
    assert state == ret
    listed = data(client, tok, "order_returns", {"id": gid("Order", order.id), "first": 5})
    assert [n["id"] for n in listed["order"]["returns"]["nodes"]] == [ret["id"]]
    rl_id, = line_ids(ret)
    money = outcome(client, tok, ret, [(rl_id, 2)])
    assert money["__typename"] == "RefundReturnOutcome"
    stock = data(client, tok, "variants_stock", {"ids": [gid("ProductVariant", variant.id)]})
    assert stock["nodes"][0]["inventoryQuantity"] == variant.inventory
    done = process(client, tok, ret, [(rl_id, 2, None)],
                   refund=sale_refund(order, money["amount"]["presentmentMoney"]["amount"]))
    assert done["userErrors"] == []
    ex_done = process(client, tok, ret, [], exchanges=[(ret["exchangeLineItems"]["nodes"][0]["id"],
                                                        1)])
    assert ex_done["return"]["exchangeLineItems"]["nodes"][0]["processedQuantity"] == 1
    (refund,) = done["return"]["refunds"]["nodes"]
    status = data(client, tok, "refund_status", {"id": refund["id"]})["node"]
    assert status["transactions"]["nodes"][0]["status"] == "SUCCESS"
    disposed = data(client, tok, "reverse_fulfillment_order_dispose", {"dispositionInputs": [
        {"reverseFulfillmentOrderLineItemId": rfo_line_ids(ret)[0], "quantity": 2,
         "dispositionType": "NOT_RESTOCKED"}]})["reverseFulfillmentOrderDispose"]
    assert disposed["userErrors"] == []
    assert disposed["reverseFulfillmentOrderLineItems"][0]["dispositions"] == [
        {"quantity": 2, "type": "NOT_RESTOCKED", "location": None}]
    closed = data(client, tok, "return_close", {"id": ret["id"]})["returnClose"]
    assert closed == {"return": {"id": ret["id"], "status": "CLOSED"}, "userErrors": []}
    # A second return on another order: remove a line, then cancel it.
    other = make_order(store, quantity=1, lines=2)
    second = create_return(client, tok, other)
    removed = data(client, tok, "remove_from_return", {
        "returnId": second["id"], "returnLineItems": [
            {"returnLineItemId": line_ids(second)[0], "quantity": 1}]})["removeFromReturn"]
    assert removed["userErrors"] == [] and len(line_ids(removed["return"])) == 1
    canceled = data(client, tok, "return_cancel", {"id": second["id"]})["returnCancel"]
    assert canceled == {"return": {"id": second["id"], "status": "CANCELED"}, "userErrors": []}
    # Gift card notification (a card with a customer).
    card = store.get_shop(SHOP)
    cust = other.customer_id
    made = gql(client, tok, """mutation($c: ID!) { giftCardCreate(input: {initialValue: "5",
        customerId: $c}) { giftCard { id } userErrors { message } } }""",
               {"c": gid("Customer", cust)})[1]["data"]["giftCardCreate"]
    sent = data(client, tok, "gift_card_notify", {"id": made["giftCard"]["id"]})
    assert sent["giftCardSendNotificationToCustomer"] == {
        "giftCard": {"id": made["giftCard"]["id"]}, "userErrors": []}
    summary = client.get(f"/_sandbox/shops/{SHOP}/issued").get_json()
    assert summary["gift_card_notifications"] == 1 and card.issuing["gift_cards"]


def test_returns_are_named_per_order_and_take_their_units(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=3)
    (fli, _line, _q), = returnable(client, tok, order)
    first = create_return(client, tok, order, [(fli, 1)])
    second = create_return(client, tok, order, [(fli, 1)])
    assert (first["name"], second["name"]) == (f"#{order.number}-R1", f"#{order.number}-R2")
    assert returnable(client, tok, order)[0][2] == 1
    assert data(client, tok, "return_cancel", {"id": first["id"]})["returnCancel"][
        "userErrors"] == []
    assert returnable(client, tok, order)[0][2] == 2  # canceled units are returnable again
    third = create_return(client, tok, order, [(fli, 2)])
    assert third["name"] == f"#{order.number}-R3"
    assert returnable(client, tok, order) == []  # nothing left: the fulfillment is left out
    newest_first = data(client, tok, "order_returns", {"id": gid("Order", order.id), "first": 2})
    assert [n["name"] for n in newest_first["order"]["returns"]["nodes"]] == [
        third["name"], second["name"]]
    page = newest_first["order"]["returns"]["pageInfo"]
    assert page["hasNextPage"] is True
    rest = data(client, tok, "order_returns", {"id": gid("Order", order.id), "first": 2,
                                                "after": page["endCursor"]})
    assert [n["name"] for n in rest["order"]["returns"]["nodes"]] == [first["name"]]
    status = gql(client, tok, """query($id: ID!) { order(id: $id) { returnStatus
        open: returns(first: 5, query: "status:open") { nodes { name } } } }""",
                 {"id": gid("Order", order.id)})[1]["data"]["order"]
    assert status["returnStatus"] == "IN_PROGRESS"
    assert [n["name"] for n in status["open"]["nodes"]] == [second["name"], third["name"]]


def test_a_return_of_two_units_shipped_apart_spans_two_fulfillment_line_items(
        client, store, shop):
    tok = shop["token"]
    store.seed(SHOP, 300, 40, seed=9)
    s = store.get_shop(SHOP)
    from sandbox import fulfillments
    order = next(o for o in s.order_list if len(fulfillments.records(s, o)) == 2
                 and not o.refunds and o.cancelled_at is None)
    idx = fulfillments.records(s, order)[1].lines[0][0]
    items = [(f, q) for f, line, q in returnable(client, tok, order)
             if line == gid("LineItem", order.lines[idx].id)]
    assert len(items) == 2 and len({f for f, _q in items}) == 2
    ret = create_return(client, tok, order, [(f, 1) for f, _q in items])
    fl = [n["fulfillmentLineItem"]["id"] for n in ret["returnLineItems"]["nodes"]]
    assert sorted(fl) == sorted(f for f, _q in items)


def test_processing_refunds_restocks_and_reports_it(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=2, price=2500)
    variant = store.get_shop(SHOP).variants[order.lines[0].variant_id]
    before = variant.inventory
    ret = create_return(client, tok, order)
    primary, returns_centre = locations(client)
    rl, = line_ids(ret)
    rfo, = rfo_line_ids(ret)
    done = process(client, tok, ret, [(rl, 2, [
        {"reverseFulfillmentOrderLineItemId": rfo, "quantity": 1, "dispositionType": "RESTOCKED",
         "locationId": returns_centre},
        {"reverseFulfillmentOrderLineItemId": rfo, "quantity": 1,
         "dispositionType": "NOT_RESTOCKED"}])], refund=sale_refund(order, "50.00"),
        notifyCustomer=True, note="RMA-2")
    assert done["userErrors"] == [] and done["return"]["status"] == "OPEN"  # §6.1: stays open
    line = done["return"]["returnLineItems"]["nodes"][0]
    assert line["processedQuantity"] == 2
    assert variant.inventory == before + 1
    at = client.get(f"/_sandbox/shops/{SHOP}/locations?variant_id={variant.id}").get_json()
    assert [loc["available"] for loc in at["locations"]][1] == 1
    (refund,) = done["return"]["refunds"]["nodes"]
    assert refund["totalRefundedSet"]["shopMoney"]["amount"] == "50.00"
    order_view = gql(client, tok, """query($id: ID!) { order(id: $id) { displayFinancialStatus
        totalRefundedSet { shopMoney { amount } } refunds { id }
        lineItems(first: 5) { nodes { refundableQuantity } } } }""",
                     {"id": gid("Order", order.id)})[1]["data"]["order"]
    assert order_view["displayFinancialStatus"] == "REFUNDED"
    assert order_view["refunds"] == [{"id": refund["id"]}]
    assert order_view["lineItems"]["nodes"][0]["refundableQuantity"] == 0
    report = client.get(f"/_sandbox/shops/{SHOP}/returns").get_json()
    (listed,) = report["returns"]
    assert listed["lines"][0]["dispositions"][0]["type"] == "RESTOCKED"
    assert listed["refunds"][0]["transaction_status"] == "SUCCESS"
    assert report["summary"]["dispositions"]["RESTOCKED"] == 1
    assert report["summary"]["dispositions"]["NOT_RESTOCKED"] == 1
    assert report["summary"]["return_process_calls"] == 1
    assert report["summary"]["returns_processed"] == 1


def test_first_scan_processes_now_and_disposes_at_receipt(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=2)
    variant = store.get_shop(SHOP).variants[order.lines[0].variant_id]
    before = variant.inventory
    ret = create_return(client, tok, order)
    rl, = line_ids(ret)
    done = process(client, tok, ret, [(rl, 2, None)], refund=sale_refund(order, "40.00"))
    assert done["userErrors"] == []
    rfo_line = done["return"]["reverseFulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]
    assert rfo_line["dispositions"] == [] and variant.inventory == before
    primary = locations(client)[0]
    disposed = data(client, tok, "reverse_fulfillment_order_dispose", {"dispositionInputs": [
        {"reverseFulfillmentOrderLineItemId": rfo_line["id"], "quantity": 1,
         "dispositionType": "PROCESSING_REQUIRED"}]})["reverseFulfillmentOrderDispose"]
    assert disposed["userErrors"] == []
    # Units waiting in PROCESSING_REQUIRED may still be restocked (and the other unit too).
    disposed = data(client, tok, "reverse_fulfillment_order_dispose", {"dispositionInputs": [
        {"reverseFulfillmentOrderLineItemId": rfo_line["id"], "quantity": 2,
         "dispositionType": "RESTOCKED", "locationId": primary}]})["reverseFulfillmentOrderDispose"]
    assert disposed["userErrors"] == [] and variant.inventory == before + 2
    assert [d["type"] for d in disposed["reverseFulfillmentOrderLineItems"][0]["dispositions"]] \
        == ["PROCESSING_REQUIRED", "RESTOCKED"]


def test_an_even_exchange_is_not_held_and_takes_its_stock(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=1, price=3000)
    s = store.get_shop(SHOP)
    swap = next(v for v in s.variants.values() if v.inventory >= 2 and v.price >= 3000)
    before = swap.inventory
    discount = {"description": "Exchange", "value": {
        "amount": {"amount": f"{(swap.price - 3000) / 100:.2f}", "currencyCode": "USD"}}}
    ret = create_return(client, tok, order, exchanges=[(swap.id, 1, discount)])
    money = outcome(client, tok, ret, [(line_ids(ret)[0], 1)])
    assert money["__typename"] == "RefundReturnOutcome"  # returned value alone
    ex_id = ret["exchangeLineItems"]["nodes"][0]["id"]
    done = process(client, tok, ret, [(line_ids(ret)[0], 1, None)], exchanges=[(ex_id, 1)])
    assert done["userErrors"] == []
    exchange = done["return"]["exchangeLineItems"]["nodes"][0]
    assert exchange["processedQuantity"] == 1 and swap.inventory == before - 1
    added = order.lines[-1]
    assert added.variant_id == swap.id and added.exchange and added.fulfilled == 0
    report = client.get(f"/_sandbox/shops/{SHOP}/orders/{order.id}/returns").get_json()
    assert report["returns"][0]["exchanges"][0]["held"] is False
    # Not held: the exchange ships with the next fulfillment.
    store.update_order(SHOP, order.id, fulfill=True)
    assert added.fulfilled == 1
    lines = gql(client, tok, """query($id: ID!) { order(id: $id) { totalPriceSet { shopMoney {
        amount } } lineItems(first: 5) { nodes { variant { id } } } } }""",
                {"id": gid("Order", order.id)})[1]["data"]["order"]
    assert lines["totalPriceSet"]["shopMoney"]["amount"] == "30.00"  # before returns
    assert lines["lineItems"]["nodes"][-1]["variant"]["id"] == gid("ProductVariant", swap.id)


def test_store_credit_is_credited_to_the_customer(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=1, price=4000)
    ret = create_return(client, tok, order)
    money = outcome(client, tok, ret, [(line_ids(ret)[0], 1)], allocation="STORE_CREDIT")
    (method,) = money["suggestedRefundMethods"]
    assert method["__typename"] == "SuggestedStoreCreditRefund"
    assert money["suggestedTransactions"] == []
    done = process(client, tok, ret, [(line_ids(ret)[0], 1, None)], refund={
        "orderTransactions": [], "refundMethods": [{"storeCreditRefund": {
            "amount": {"amount": "40.00", "currencyCode": "USD"}}}]})
    assert done["userErrors"] == []
    (refund,) = done["return"]["refunds"]["nodes"]
    assert refund["totalRefundedSet"]["shopMoney"]["amount"] == "40.00"
    assert refund["transactions"]["nodes"] == []  # nothing went back to the card
    summary = client.get(f"/_sandbox/shops/{SHOP}/returns").get_json()["summary"]
    assert summary["store_credit_issued"] == "40.00"
    assert store.get_shop(SHOP).issuing["return_counters"]["store_credit"] == {
        order.customer_id: 4000}


def test_suggested_outcome_invoices_an_exchange_worth_more(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=1, price=1000)
    s = store.get_shop(SHOP)
    dearer = next(v for v in s.variants.values() if v.price > 1000 and v.inventory > 0)
    ret = create_return(client, tok, order, exchanges=[(dearer.id, 1, None)])
    got = gql(client, tok, """query($id: ID!, $r: [SuggestedOutcomeReturnLineItemInput!]!,
        $e: [SuggestedOutcomeExchangeLineItemInput!]!) { return(id: $id) {
        suggestedFinancialOutcome(returnLineItems: $r, exchangeLineItems: $e) {
          financialTransfer { __typename ... on InvoiceReturnOutcome { amount { shopMoney {
            amount } } } } } } }""", {
        "id": ret["id"], "r": [{"id": line_ids(ret)[0], "quantity": 1}],
        "e": [{"id": ret["exchangeLineItems"]["nodes"][0]["id"], "quantity": 1}]})[1]
    transfer = got["data"]["return"]["suggestedFinancialOutcome"]["financialTransfer"]
    assert transfer == {"__typename": "InvoiceReturnOutcome", "amount": {"shopMoney": {
        "amount": f"{(dearer.price - 1000) / 100:.2f}"}}}


def test_returns_webhooks_are_delivered(client, store, shop, receiver):
    tok = shop["token"]
    for topic in ("RETURNS_APPROVE", "RETURNS_PROCESS", "RETURNS_CLOSE", "RETURNS_CANCEL",
                  "RETURNS_UPDATE", "REVERSE_FULFILLMENT_ORDERS_DISPOSE", "REFUNDS_CREATE",
                  "ORDER_TRANSACTIONS_CREATE", "ORDERS_UPDATED"):
        made = gql(client, tok, """mutation($t: WebhookSubscriptionTopic!, $u: String!) {
            webhookSubscriptionCreate(topic: $t, webhookSubscription: {uri: $u, format: JSON}) {
            webhookSubscription { topic } userErrors { message } } }""",
                   {"t": topic, "u": receiver.url})[1]["data"]["webhookSubscriptionCreate"]
        assert made["userErrors"] == [] and made["webhookSubscription"]["topic"] == topic
    order = make_order(store, quantity=2)
    ret = create_return(client, tok, order)
    rl, = line_ids(ret)
    data(client, tok, "remove_from_return", {"returnId": ret["id"], "returnLineItems": [
        {"returnLineItemId": rl, "quantity": 1}]})
    process(client, tok, ret, [(rl, 1, [{"reverseFulfillmentOrderLineItemId": rfo_line_ids(ret)[0],
                                         "quantity": 1, "dispositionType": "MISSING"}])],
            refund=sale_refund(order, "20.00"))
    data(client, tok, "return_close", {"id": ret["id"]})
    other = create_return(client, tok, order)  # the removed unit
    data(client, tok, "return_cancel", {"id": other["id"]})
    assert store.webhooks.flush(10)
    topics = [r["headers"]["X-Shopify-Topic"] for r in receiver.requests]
    assert topics == ["returns/approve", "returns/update", "returns/process",
                      "reverse_fulfillment_orders/dispose", "refunds/create",
                      "order_transactions/create", "orders/updated", "returns/close",
                      "returns/approve", "returns/cancel"]
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert bodies[0]["admin_graphql_api_id"] == ret["id"] and bodies[0]["status"] == "open"
    assert bodies[0]["order"]["id"] == order.id and bodies[0]["name"] == ret["name"]
    assert bodies[7] == {"id": int(ret["id"].rsplit("/", 1)[1]), "admin_graphql_api_id": ret["id"],
                         "order_id": order.id, "status": "closed"}
    assert bodies[5]["kind"] == "refund" and bodies[5]["status"] == "success"

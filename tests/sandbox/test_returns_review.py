"""Return requests in the sandbox, as the 2026-04 schema has them: returnRequest makes a
REQUESTED return (no exchange lines, customer notes of at most 300 characters, no reverse
fulfillment order yet); only a REQUESTED return is approved (OPEN) or declined (DECLINED, one of
Shopify's reasons, a note of at most 500 characters); each sends its webhook; a declined request
frees its units."""
from __future__ import annotations

import json

import pytest

from .conftest import gql
from .returns_support import REASON, data, gid, make_order, returnable, run

def request_input(order, fli, qty=1, note="RMA-7 item 1") -> dict:
    return {"orderId": gid("Order", order.id), "returnLineItems": [
        {"fulfillmentLineItemId": fli, "quantity": qty, "returnReasonDefinitionId": REASON, "customerNote": note}]}


def requested(client, tok, order, fli, qty=1) -> dict:
    made = data(client, tok, "return_request", {"input": request_input(order, fli, qty)})["returnRequest"]
    assert made["userErrors"] == [], made
    return made["return"]


def test_a_request_is_requested_then_approved_once_with_its_reverse_order(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=2)
    (fli, _line, qty), = returnable(client, tok, order)
    ret = requested(client, tok, order, fli)
    assert ret["status"] == "REQUESTED" and ret["reverseFulfillmentOrders"]["nodes"] == []
    assert ret["returnLineItems"]["nodes"][0]["customerNote"] == "RMA-7 item 1"
    assert ret["returnLineItems"]["nodes"][0]["returnReasonNote"] == ""
    assert [q for _f, _l, q in returnable(client, tok, order)] == [qty - 1]  # the request holds its unit
    approved = data(client, tok, "return_approve_request", {"input": {"id": ret["id"]}})["returnApproveRequest"]
    assert approved["userErrors"] == [] and approved["return"]["status"] == "OPEN"
    assert len(approved["return"]["reverseFulfillmentOrders"]["nodes"]) == 1
    again = data(client, tok, "return_approve_request", {"input": {"id": ret["id"]}})["returnApproveRequest"]
    assert again["return"] is None and again["userErrors"][0]["code"] == "INVALID_STATE"
    declined = data(client, tok, "return_decline_request", {"input": {
        "id": ret["id"], "declineReason": "OTHER", "declineNote": "late"}})["returnDeclineRequest"]
    assert declined["userErrors"][0]["code"] == "INVALID_STATE"  # an approved return is no request


def test_a_request_is_declined_with_a_reason_and_note_and_frees_its_units(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=2)
    (fli, _line, qty), = returnable(client, tok, order)
    ret = requested(client, tok, order, fli, qty)
    too_long = data(client, tok, "return_decline_request", {"input": {
        "id": ret["id"], "declineReason": "FINAL_SALE", "declineNote": "x" * 501}})["returnDeclineRequest"]
    assert too_long["return"] is None and too_long["userErrors"][0]["field"] == ["input", "declineNote"]
    declined = data(client, tok, "return_decline_request", {"input": {
        "id": ret["id"], "declineReason": "FINAL_SALE", "declineNote": "é" * 500}})["returnDeclineRequest"]
    assert declined == {"return": {"id": ret["id"], "status": "DECLINED"}, "userErrors": []}
    assert [q for _f, _l, q in returnable(client, tok, order)] == [qty]
    approved = data(client, tok, "return_approve_request", {"input": {"id": ret["id"]}})["returnApproveRequest"]
    assert approved["userErrors"][0]["code"] == "INVALID_STATE"  # declined is final


def test_the_schema_refuses_exchange_lines_unknown_reasons_and_long_customer_notes(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=1)
    (fli, _line, _qty), = returnable(client, tok, order)
    with_exchange = {**request_input(order, fli), "exchangeLineItems": [{"variantId": "gid://shopify/ProductVariant/1",
                                                                         "quantity": 1}]}
    body = run(client, tok, "return_request", {"input": with_exchange})
    assert "errors" in body and "exchangeLineItems" in json.dumps(body["errors"])
    long_note = data(client, tok, "return_request", {"input": request_input(order, fli, note="n" * 301)})
    assert long_note["returnRequest"]["userErrors"][0]["field"][-1] == "customerNote"
    ret = requested(client, tok, order, fli)
    body = run(client, tok, "return_decline_request", {"input": {"id": ret["id"], "declineReason": "TOO_UGLY"}})
    assert "errors" in body  # not a ReturnDeclineReason


@pytest.mark.parametrize("topic, mutation", [("RETURNS_REQUEST", None), ("RETURNS_APPROVE", "approve"),
                                             ("RETURNS_DECLINE", "decline")])
def test_each_step_sends_its_webhook(client, store, shop, receiver, topic, mutation):
    tok = shop["token"]
    made = gql(client, tok, """mutation($t: WebhookSubscriptionTopic!, $u: String!) {
        webhookSubscriptionCreate(topic: $t, webhookSubscription: {uri: $u, format: JSON}) {
        webhookSubscription { topic } userErrors { message } } }""",
               {"t": topic, "u": receiver.url})[1]["data"]["webhookSubscriptionCreate"]
    assert made["userErrors"] == []
    order = make_order(store, quantity=1)
    (fli, _line, _qty), = returnable(client, tok, order)
    ret = requested(client, tok, order, fli)
    if mutation == "approve":
        data(client, tok, "return_approve_request", {"input": {"id": ret["id"]}})
    elif mutation == "decline":
        data(client, tok, "return_decline_request", {"input": {"id": ret["id"], "declineReason": "OTHER"}})
    assert store.webhooks.flush(10)
    (sent,) = receiver.requests
    body = json.loads(sent["body"])
    assert sent["headers"]["X-Shopify-Topic"] == topic.lower().replace("_", "/", 1)
    assert body["admin_graphql_api_id"] == ret["id"]
    assert body["status"] == {None: "requested", "approve": "open", "decline": "declined"}[mutation]

"""The control API and the page for returns: the merchant's own returns, shop settings,
payments and guests, what the page shows, and returns kept across a restart."""
from __future__ import annotations

import pytest

from .conftest import SHOP, gql
from .returns_support import (create_return, data, gid, line_ids, make_order, process, rfo_line_ids,
                              run, sale_refund)


def test_the_merchant_can_make_a_return_through_the_control_api(client, store, shop):
    order = make_order(store, quantity=2, lines=2)
    url = f"/_sandbox/shops/{SHOP}/orders/{order.id}/returns"
    made = client.post(url, json={"lines": [{"line_id": order.lines[1].id, "quantity": 2,
                                             "reason": "too-small", "note": "by phone"}]})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["made_by"] == "merchant" and body["status"] == "OPEN"
    assert body["lines"][0]["quantity"] == 2 and body["lines"][0]["reason"] == "too-small"
    # Shopify would refuse the same units again.
    again = client.post(url, json={"lines": [{"line_id": order.lines[1].id, "quantity": 1}]})
    assert again.status_code == 422
    assert again.get_json()["user_errors"][0]["code"] == "INVALID"
    listed = client.get(url).get_json()
    assert [r["name"] for r in listed["returns"]] == [f"#{order.number}-R1"]
    assert sorted(r["quantity"] for r in listed["returnable"]) == [0, 2]
    # The app sees the merchant's return too.
    found = data(client, shop["token"], "order_returns", {"id": gid("Order", order.id),
                                                          "first": 5})
    assert found["order"]["returns"]["nodes"][0]["returnLineItems"]["nodes"][0][
        "returnReasonNote"] == "by phone"
    summary = client.get(f"/_sandbox/shops/{SHOP}/issued").get_json()
    assert summary["returns_created"] == summary["returns_by_merchant"] == 1
    assert summary["return_list"][0]["name"] == f"#{order.number}-R1"


def test_shop_settings_are_served_and_changed_by_the_control_api(client, store, shop):
    tok = shop["token"]
    query = """{ shop { customerAccountsV2 { customerAccountsVersion } }
                 giftCardConfiguration { issueLimit { amount currencyCode } } }"""
    body = gql(client, tok, query)[1]["data"]
    assert body["shop"]["customerAccountsV2"]["customerAccountsVersion"] == \
        "NEW_CUSTOMER_ACCOUNTS"
    assert body["giftCardConfiguration"]["issueLimit"] == {"amount": "2000.00",
                                                           "currencyCode": "USD"}
    patched = client.patch(f"/_sandbox/shops/{SHOP}", json={
        "customer_accounts": "classic", "gift_card_limit": "500", "refund_outcome": "pending"})
    assert patched.get_json()["settings"] == {"customer_accounts": "classic",
                                              "gift_card_limit": "500.00",
                                              "refund_outcome": "pending"}
    body = gql(client, tok, query)[1]["data"]
    assert body["shop"]["customerAccountsV2"]["customerAccountsVersion"] == "CLASSIC"
    assert body["giftCardConfiguration"]["issueLimit"]["amount"] == "500.00"
    assert client.patch(f"/_sandbox/shops/{SHOP}", json={"refund_outcome": "maybe"}) \
        .status_code == 400


@pytest.mark.parametrize("payment,gateway,financial", [
    ("card", "shopify_payments", "PAID"), ("manual", "manual", "PAID"),
    ("cod", "Cash on Delivery (COD)", "PENDING"), ("authorized", "shopify_payments",
                                                   "AUTHORIZED")])
def test_orders_can_be_placed_with_each_payment(client, shop, payment, gateway, financial):
    placed = client.post(f"/_sandbox/shops/{SHOP}/orders", json={"payment": payment})
    body = placed.get_json()
    assert (body["gateway"], body["financial_status"]) == (gateway, financial)


def test_a_guest_order_has_no_customer(client, store, shop):
    placed = client.post(f"/_sandbox/shops/{SHOP}/orders",
                         json={"guest": True, "email": "guest@example.com"}).get_json()
    assert placed["customer_id"] is None and placed["email"] == "guest@example.com"
    body = gql(client, shop["token"], "query($id: ID!) { order(id: $id) { customer { id } } }",
               {"id": placed["gid"]})[1]
    assert body["data"]["order"]["customer"] is None


def test_the_page_shows_returns_and_makes_a_merchant_return(client, store, shop):
    tok = shop["token"]
    order = make_order(store, quantity=2)
    ret = create_return(client, tok, order, note="RMA-PAGE")
    process(client, tok, ret, [(line_ids(ret)[0], 1, [
        {"reverseFulfillmentOrderLineItemId": rfo_line_ids(ret)[0], "quantity": 1,
         "dispositionType": "NOT_RESTOCKED"}])], refund=sale_refund(order, "20.00"))
    page = client.get("/").get_data(as_text=True)
    assert "Shopify returns" in page and ret["name"] in page and "RMA-PAGE" in page
    assert "NOT_RESTOCKED" in page and "20.00" in page and "SUCCESS" in page
    other = make_order(store, quantity=1)
    assert "Create a return as the merchant" in client.get("/").get_data(as_text=True)
    resp = client.post(f"/shops/{SHOP}/returns", data={
        "line": f"{other.id}:{other.lines[0].id}", "quantity": "1"})
    assert resp.status_code == 303
    listed = client.get(f"/_sandbox/shops/{SHOP}/orders/{other.id}/returns").get_json()
    assert listed["returns"][0]["made_by"] == "merchant"
    refused = client.post(f"/shops/{SHOP}/returns", data={
        "line": f"{other.id}:{other.lines[0].id}", "quantity": "1"})
    assert refused.status_code == 303  # back to the page, which says why
    assert "Return line item has an invalid quantity." in \
        client.get(refused.headers["Location"]).get_data(as_text=True)


def test_returns_survive_a_restart(tmp_path, client, store, shop):
    from sandbox import create_app
    tok = shop["token"]
    order = make_order(store, quantity=2)
    ret = create_return(client, tok, order)
    process(client, tok, ret, [(line_ids(ret)[0], 1, None)], refund=sale_refund(order, "20.00"))
    for suffix in (".pkl", ".json"):
        path = str(tmp_path / f"state{suffix}")
        store.state_file = path
        store.save()
        again = create_app({"SANDBOX_STATE_FILE": path})
        st = again.extensions["sandbox"]
        other = again.test_client()
        body = run(other, tok, "return_state", {"id": ret["id"]})
        assert body["data"]["return"]["returnLineItems"]["nodes"][0]["processedQuantity"] == 1
        st.close()
    store.state_file = None

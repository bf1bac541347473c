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
        "customer_accounts": "classic", "gift_card_limit": "500", "refund_outcome": "pending",
        "primary_locale": "fr"})
    assert patched.get_json()["settings"] == {"customer_accounts": "classic",
                                              "gift_card_limit": "500.00",
                                              "refund_outcome": "pending", "primary_locale": "fr"}
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
    assert "1 not restocked" in page and "20.00" in page and "paid" in page
    # Each line is named as a person reads it: the product and its variant.
    line = order.lines[0]
    title = store.get_shop(SHOP).products[line.product_id].title
    assert ret["name"] in page and title in page
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


def test_one_order_has_its_own_refund_outcome_and_the_page_settles_a_pending_refund(client, store, shop):
    """Beside the shop's setting, one order can have refunds that stay pending (or fail): the demo
    holds both kinds. A pending refund is settled by a button on the page."""
    tok = shop["token"]
    pending, failing, plain = (make_order(store, quantity=1) for _ in range(3))
    assert client.patch(f"/_sandbox/shops/{SHOP}/orders/{pending.id}",
                        json={"refund_outcome": "pending"}).get_json()["refund_outcome"] == "pending"
    client.patch(f"/_sandbox/shops/{SHOP}/orders/{failing.id}", json={"refund_outcome": "failure"})
    assert client.patch(f"/_sandbox/shops/{SHOP}/orders/{plain.id}",
                        json={"refund_outcome": "sometimes"}).status_code == 400
    statuses = {}
    for order in (pending, failing, plain):
        ret = create_return(client, tok, order)
        done = process(client, tok, ret, [(line_ids(ret)[0], 1, None)], refund=sale_refund(order, "20.00"))
        assert not done["userErrors"], done
        statuses[order.id] = ret
    refunds = {r["order_id"]: r["refunds"][0] for r in
               client.get(f"/_sandbox/shops/{SHOP}/returns").get_json()["returns"]}
    assert [refunds[o.id]["transaction_status"] for o in (pending, failing, plain)] == \
        ["PENDING", "FAILURE", "SUCCESS"]
    page = client.get("/").get_data(as_text=True)
    assert "refunds stay pending" in page and "refunds fail" in page
    refund_id = refunds[pending.id]["id"]
    assert f"Mark refund {refund_id} paid" in page and f"Mark refund {refund_id} failed" in page
    settled = client.post(f"/shops/{SHOP}/refunds/{refund_id}/settle", data={"status": "success"})
    assert settled.status_code == 303
    assert f"Refund {refund_id} marked paid" in client.get(settled.headers["Location"]).get_data(as_text=True)
    returns = client.get(f"/_sandbox/shops/{SHOP}/returns").get_json()["returns"]
    assert next(r for r in returns if r["order_id"] == pending.id)["refunds"][0]["transaction_status"] == "SUCCESS"
    again = client.post(f"/shops/{SHOP}/refunds/{refund_id}/settle", data={"status": "failure"})
    assert "only a pending refund can be settled" in client.get(again.headers["Location"]).get_data(as_text=True)
    # null gives the order back to the shop's setting
    client.patch(f"/_sandbox/shops/{SHOP}/orders/{failing.id}", json={"refund_outcome": None})
    assert client.get(f"/_sandbox/shops/{SHOP}/orders?limit=5").get_json()["orders"][1]["refund_outcome"] == "success"


def test_a_placed_order_can_take_a_staff_discount_past_half_off(client, shop):
    placed = client.post(f"/_sandbox/shops/{SHOP}/orders", json={"discount_code": "STAFF60",
                                                                 "refund_outcome": "pending"}).get_json()
    assert placed["refund_outcome"] == "pending"
    body = gql(client, shop["token"], """query($id: ID!) { order(id: $id) { discountCodes
        totalDiscountsSet { shopMoney { amount } } subtotalPriceSet { shopMoney { amount } } } }""",
               {"id": placed["gid"]})[1]["data"]["order"]
    assert body["discountCodes"] == ["STAFF60"]
    discount = float(body["totalDiscountsSet"]["shopMoney"]["amount"])
    subtotal = float(body["subtotalPriceSet"]["shopMoney"]["amount"])
    assert discount / (subtotal + discount) > 0.5

"""Fees reach Shopify as its own fields and Shopify takes them from the money: the restocking fee
on each refunded or credited line, the return shipping fee once, none on exchanges; the shopper's
figure is Shopify's own calculation of the same return (returnCalculate)."""
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Return, ReturnItem
from app.services import return_workflow as wf
from app.services.return_fees import return_estimate
from app.services.shopify_access import client_for
from app.shopify.errors import ShopifyError
from app.shopify.returns import gid
from tests.support.shopify_returns import placed_order, returns_account, sandbox_returns, submit

STAFF = "staff@example.com"
FEES = {"restocking_fees": {"Too small": "12.5"}, "return_shipping_fee": Decimal("4.95")}


def shopify_calculation(account, ret) -> dict:
    """Shopify's figures for the return as it was sent (returnCalculate: nothing is created)."""
    items = [db.session.get(ReturnItem, i.id) for i in ret.items]
    lines = [{"fulfillmentLineItemId": gid("FulfillmentLineItem", ln["fli"]), "quantity": ln["qty"],
              "restockingFee": {"percentage": float(i.restocking_fee_percentage)}}
             for i in items if i.option != "exchange" for ln in i.shopify_lines]
    calc = client_for(account).run("return_calculate", {"input": {
        "orderId": gid("Order", ret.shopify_order_id), "returnLineItems": lines,
        "returnShippingFee": {"amount": {"amount": "4.95", "currencyCode": ret.currency}}}})["returnCalculate"]
    money = lambda bag: Decimal(bag["shopMoney"]["amount"])  # noqa: E731
    return {"subtotal": sum(money(ln["subtotalSet"]) for ln in calc["returnLineItems"]),
            "tax": sum(money(ln["totalTaxSet"]) for ln in calc["returnLineItems"]),
            "fees": sum(money(ln["restockingFee"]["amountSet"]) for ln in calc["returnLineItems"])
            + money(calc["returnShippingFee"]["amountSet"])}


@pytest.mark.parametrize("option", ["refund", "credit"])
def test_the_shoppers_fees_are_shopifys_and_shopify_takes_them_from_the_money(app, sandbox, jobs, virtual_clock,
                                                                               option):
    account = returns_account(sandbox, "manual", **FEES)
    order = placed_order(account, sandbox, quantity=2, paid_in="shop")
    ret = submit(account, order, [(0, 2, option, None)])
    jobs.run()
    held = sandbox_returns(sandbox, account)["returns"][0]
    assert held["shipping_fee"] == "4.95"
    assert [ln["restocking_pct"] for ln in held["lines"]] == [12.5] * len(held["lines"])
    shown = return_estimate(ret)
    shopify = shopify_calculation(account, ret)
    assert shown.fees == shopify["fees"] > Decimal("4.95")
    assert shown.value == shopify["subtotal"]

    wf.close_return(ret, STAFF)
    jobs.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "ISSUED"
    # What Shopify issued is the value and its tax, less the fees the shopper was shown.
    assert item.issued_amount == shopify["subtotal"] + shopify["tax"] - shown.fees


def test_an_exchange_line_carries_no_fee_and_an_exchange_only_return_no_shipping_fee(app, sandbox, jobs,
                                                                                      virtual_clock):
    account = returns_account(sandbox, "manual", **FEES)
    order = placed_order(account, sandbox, quantity=1, lines=2, paid_in="shop")
    mixed = submit(account, order, [(0, 1, "exchange", order.products[0].in_stock[0]), (1, 1, "refund", None)])
    jobs.run()
    held = sandbox_returns(sandbox, account)["returns"][0]
    by_line = {ln["line_id"]: ln["restocking_pct"] for ln in held["lines"]}
    exchanged, refunded = mixed.items
    assert by_line[exchanged.shopify_line_id] is None and by_line[refunded.shopify_line_id] == 12.5
    assert held["shipping_fee"] == "4.95"  # the refund pays it

    order = placed_order(account, sandbox, quantity=1, paid_in="shop")
    submit(account, order, [(0, 1, "exchange", order.products[0].in_stock[0])])
    jobs.run()
    newest = max(sandbox_returns(sandbox, account)["returns"], key=lambda r: r["id"])
    assert newest["shipping_fee"] == "0.00" and newest["lines"][0]["restocking_pct"] is None


def test_a_shipping_fee_in_another_currency_than_the_orders_is_refused_by_shopify(app, sandbox, virtual_clock):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox, paid_in="shop")
    with pytest.raises(ShopifyError, match="presentment currency"):
        client_for(account).run("return_calculate", {"input": {
            "orderId": gid("Order", order.shopify_order_id), "returnLineItems": [],
            "returnShippingFee": {"amount": {"amount": "4.95", "currencyCode": "EUR"}}}})


def test_a_buyer_who_paid_in_another_currency_is_not_charged_the_shipping_fee_and_staff_see_why(
        app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", **FEES)
    order = placed_order(account, sandbox, country="FR", paid_in="customer")  # paid in EUR; the shop's fee is in USD
    ret = submit(account, order, [(0, 1, "refund", None)])
    jobs.run()
    held = sandbox_returns(sandbox, account)["returns"][0]
    assert held["shipping_fee"] == "0.00" and held["lines"][0]["restocking_pct"] == 12.5
    ret = db.session.get(Return, ret.id)
    left_out = [e.message for e in ret.events if e.kind == "fee_left_out"]
    assert left_out == ["Return shipping fee not taken: the customer paid in EUR, and the fee is set in USD."]

"""Helpers for the sandbox's returns tests: the app's own documents run through the test client,
orders with known figures, and returns made the way the app makes them."""
from __future__ import annotations

from app.shopify.documents import load_document

from .conftest import SHOP, gql

REASON = "gid://shopify/ReturnReasonDefinition/2"  # changed-my-mind (§6.6)


def run(client, token, name: str, variables=None, **kw):
    """Run the app's document ``name`` (app/shopify/queries) through the sandbox; the body."""
    status, body = gql(client, token, load_document(name), variables, **kw)
    assert status == 200, body
    return body


def data(client, token, name: str, variables=None, **kw) -> dict:
    """``run`` that must succeed without top-level errors; returns ``data``."""
    body = run(client, token, name, variables, **kw)
    assert "errors" not in body, body
    return body["data"]


def gid(kind: str, num) -> str:
    """A Shopify global id."""
    return f"gid://shopify/{kind}/{num}"


def make_order(store, quantity=2, price=2000, discount=0, tax=None, lines=1, payment="card",
               guest=False, fulfill=True, currency=None):
    """A USD card order of ``lines`` lines of ``quantity`` units at ``price`` cents (each line
    ``discount`` cents off and ``tax`` cents of tax), fulfilled in one shipment, no shipping."""
    shop = store.get_shop(SHOP)
    variants = [v for v in sorted(shop.variants) if shop.variants[v].inventory >= 5][:lines]
    order = store.place_order(SHOP, variant_ids=variants, quantity=quantity, payment=payment,
                              guest=guest)
    order.currency, order.rate, order.shipping = currency or shop.currency, 1.0, 0
    for ln in order.lines:
        ln.price, ln.discount, ln.tax = price, discount, tax
    if fulfill:
        store.update_order(SHOP, order.id, fulfill=True, emit=False)
    return order


def returnable(client, token, order) -> list:
    """[(fulfillment line item gid, line gid, returnable quantity)] from the app's document."""
    found = data(client, token, "returnable_fulfillments",
                 {"orderId": gid("Order", order.id), "first": 10})
    return [(n["fulfillmentLineItem"]["id"], n["fulfillmentLineItem"]["lineItem"]["id"],
             n["quantity"])
            for f in found["returnableFulfillments"]["nodes"]
            for n in f["returnableFulfillmentLineItems"]["nodes"]]


def return_input(order, items, exchanges=(), note="RMA-1") -> dict:
    """A ReturnInput: ``items`` [(fulfillment line item gid, quantity)], ``exchanges``
    [(variant id, quantity, appliedDiscount or None)]."""
    return {"orderId": gid("Order", order.id),
            "returnLineItems": [{"fulfillmentLineItemId": fli, "quantity": qty,
                                 "returnReasonNote": note, "returnReasonDefinitionId": REASON}
                                for fli, qty in items],
            "exchangeLineItems": [{"variantId": gid("ProductVariant", vid), "quantity": qty,
                                   **({"appliedDiscount": disc} if disc else {})}
                                  for vid, qty, disc in exchanges]}


def create_return(client, token, order, items=None, exchanges=(), note="RMA-1") -> dict:
    """Create a return of ``items`` (default: every returnable unit); the Return node."""
    if items is None:
        items = [(fli, qty) for fli, _line, qty in returnable(client, token, order)]
    made = data(client, token, "return_create",
                {"returnInput": return_input(order, items, exchanges, note)})["returnCreate"]
    assert made["userErrors"] == [], made
    return made["return"]


def line_ids(ret) -> list:
    """The return's ReturnLineItem gids."""
    return [n["id"] for n in ret["returnLineItems"]["nodes"]]


def rfo_line_ids(ret) -> list:
    """The return's ReverseFulfillmentOrderLineItem gids (one per return line)."""
    return [n["id"] for n in ret["reverseFulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"]]


def locations(client) -> list:
    """The shop's location gids, primary first."""
    return [loc["gid"] for loc in client.get(f"/_sandbox/shops/{SHOP}/locations")
            .get_json()["locations"]]


def process(client, token, ret, lines, exchanges=(), refund=None, **extra) -> dict:
    """returnProcess of ``lines`` [(ReturnLineItem gid, qty, dispositions or None)] and
    ``exchanges`` [(ExchangeLineItem gid, qty)]; ``refund`` the issueRefund input. The payload."""
    body = {"returnId": ret["id"],
            "returnLineItems": [{"id": i, "quantity": q, **({"dispositions": d} if d else {})}
                                for i, q, d in lines],
            "exchangeLineItems": [{"id": i, "quantity": q} for i, q in exchanges], **extra}
    if refund is not None:
        body["financialTransfer"] = {"issueRefund": refund}
    return data(client, token, "return_process", {"input": body})["returnProcess"]


def sale_refund(order, amount: str, currency="USD") -> dict:
    """An issueRefund input sending ``amount`` back against the order's SALE."""
    return {"orderTransactions": [{"parentId": gid("OrderTransaction", order.id * 8 + 1),
                                   "transactionAmount": {"amount": amount,
                                                         "currencyCode": currency}}]}


def outcome(client, token, ret, lines, allocation="ORIGINAL_PAYMENT_METHODS") -> dict:
    """Return.suggestedFinancialOutcome via the app's document for ``lines`` [(gid, qty)]."""
    pairs = [{"id": i, "quantity": q} for i, q in lines]
    got = data(client, token, "return_outcome", {"id": ret["id"], "lines": pairs, "allocation": allocation})
    return got["return"]["suggestedFinancialOutcome"]["financialTransfer"]

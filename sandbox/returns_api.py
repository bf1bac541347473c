"""Root resolvers for Shopify's Returns API: the queries and mutations ``resolvers.py``
delegates here, and ``node`` for the returns' and refunds' ids.

Scopes (docs/reference/shopify-returns.md §5, §6.15): ``read_returns`` for
``returnableFulfillments`` (the stored reference page shows no scope line: unverified),
``Order.returns`` (unverified), ``return``, ``returnCalculate`` and
``returnReasonDefinitions``; ``write_returns`` for every return mutation (shopify.dev reference
pages); ``write_returns`` implies ``read_returns`` (store.scope_set). Mutations run under the
store lock from check to write.
"""
from __future__ import annotations

from graphql import GraphQLError

from . import fulfillments, issuing, returns, returns_process
from .returns_money import calculated_exchange, line_value
from .returns_views import (ReturnableFulfillmentView, ReturnView, ReturnLineItemView,
                            _line_views, reason_view)
from .returns_webhooks import return_body, status_body
from .views import (OrderView, RefundView, VariantView, bag, connection, gid, parse_gid,
                    require)

ABSTRACT_TYPES = ("ReturnLineItemType", "ReturnOutcomeFinancialTransfer", "SuggestedRefundMethod")
NODE_KINDS = {"Return", "Refund", "ReturnLineItem"}
MAX_NODES = 250  # shopify.dev: nodes(ids:) takes at most 250 ids


def _visible(c, order) -> bool:
    return "read_all_orders" in c["scopes"] or order.created_at >= c["now"] - 60 * 86400


def _order(c, value):
    parsed = parse_gid(value)
    order = c["shop"].orders.get(parsed[1]) if parsed and parsed[0] == "Order" else None
    return order if order is not None and _visible(c, order) else None


# ---- queries ------------------------------------------------------------------------------------

def return_(info, id):
    """QueryRoot.return: a direct read (no search lag)."""
    require(info, "read_returns", "return")
    c = info.context
    ret = returns.find(c["shop"], id)
    if ret is None or not _visible(c, c["shop"].orders[ret.order_id]):
        return None
    return ReturnView(c["ctx"], ret)


def order_returns(info, order_view: OrderView, first, after, reverse, query):
    """Order.returns(first, after, reverse, query): oldest first unless ``reverse``."""
    require(info, "read_returns", "returns")
    c = info.context
    found = returns.search_returns(returns.of_order(c["shop"], order_view.o.id), query)
    if reverse:
        found = found[::-1]
    return connection([ReturnView(c["ctx"], r) for r in found], first, after)


def returnable_fulfillments(info, orderId, first=None, after=None):
    """QueryRoot.returnableFulfillments: fulfillments with units left to return, each with its
    returnable line items (§6.8); fulfillments with nothing returnable are left out."""
    require(info, "read_returns", "returnableFulfillments")
    c = info.context
    order = _order(c, orderId)
    if order is None:  # unverified: Shopify's answer for an unknown order
        raise GraphQLError("Order does not exist.", extensions={"code": "NOT_FOUND"})
    left = returns.returnable(c["shop"], order)
    views = _line_views(c["ctx"], order)
    found = [ReturnableFulfillmentView(c["ctx"], order, rec, left, views)
             for rec in fulfillments.records(c["shop"], order)
             if any(left.get(fulfillments.item_id(order, rec.number, i)) for i, _q in rec.lines)]
    return connection(found, first, after)


def return_reason_definitions(info, first=None, after=None, handles=None, ids=None):
    """QueryRoot.returnReasonDefinitions: Shopify's standard library (returns.REASONS)."""
    require(info, "read_returns", "returnReasonDefinitions")
    wanted = {p[1] for p in (parse_gid(i) for i in ids or ()) if p}
    found = [reason_view(num) for num, handle, _name in returns.REASONS
             if (not handles or handle in handles) and (not ids or num in wanted)]
    return connection(found, first, after)


def return_calculate(info, input):
    """QueryRoot.returnCalculate: the value of a return before it exists (nothing created)."""
    require(info, "read_returns", "returnCalculate")
    c = info.context
    shop, ctx = c["shop"], c["ctx"]
    order = _order(c, input.get("orderId"))
    if order is None:  # unverified
        raise GraphQLError("Order does not exist.", extensions={"code": "NOT_FOUND"})
    views = _line_views(ctx, order)
    lines = []
    for item in input.get("returnLineItems") or []:
        found = fulfillments.find_item(shop, item.get("fulfillmentLineItemId"))
        if found is None or found[0] is not order:  # unverified: as returnCreate's refusal
            raise GraphQLError("Fulfillment Line Item was not found.",
                               extensions={"code": "NOT_FOUND"})
        _o, rec, idx, shipped = found
        qty = max(0, min(int(item.get("quantity") or 0), order.lines[idx].quantity))
        pct = (item.get("restockingFee") or {}).get("percentage")
        v = line_value(order, idx, qty, pct)
        ln = order.lines[idx]
        lines.append({"id": None, "quantity": qty,
                      "fulfillmentLineItem": fulfillments.item_view(ctx, order, rec, idx,
                                                                    shipped, views[idx]),
                      "subtotalSet": bag(ctx, order, v["subtotal"]),
                      "subtotalBeforeOrderDiscountsSet": bag(ctx, order, ln.price * qty),
                      "totalTaxSet": bag(ctx, order, v["tax"]),
                      # CalculatedRestockingFee (2026-04 schema): the fee's amount and percentage.
                      "restockingFee": ({"id": gid("CalculatedRestockingFee", order.id * 1000 + idx),
                                         "amountSet": bag(ctx, order, v["fee"]), "percentage": float(pct)}
                                        if pct is not None else None)})
    exchanges = []
    for item in input.get("exchangeLineItems") or []:
        parsed = parse_gid(item.get("variantId"))
        variant = shop.variants.get(parsed[1]) if parsed and parsed[0] == "ProductVariant" else None
        if variant is None:  # unverified
            raise GraphQLError("Variant not found.", extensions={"code": "NOT_FOUND"})
        exchanges.append(calculated_exchange(ctx, order, variant, int(item.get("quantity") or 0),
                                             item.get("appliedDiscount"),
                                             VariantView(ctx, variant)))
    fee_error, fee = returns.shipping_fee(order, input.get("returnShippingFee"), ["returnShippingFee"])
    if fee_error:  # unverified: returnCalculate refusing as returnCreate does
        raise GraphQLError(fee_error["message"], extensions={"code": fee_error["code"]})
    return {"id": gid("CalculatedReturn", order.id), "returnLineItems": lines,
            "exchangeLineItems": exchanges,
            "returnShippingFee": ({"id": gid("CalculatedReturnShippingFee", order.id),
                                   "amountSet": bag(ctx, order, fee)} if fee else None)}


def find_refund(shop, num: int):
    """(order, refund) for a Refund id, or (None, None)."""
    candidates = [(num - 1) // 4]  # seeded and control-API refunds: order.id * 4 + 1 + n
    candidates += [oid for oid, rid in issuing.state(shop)["refunds"] if rid == num]
    candidates += [r.order_id for r in returns.all_returns(shop).values() if num in r.refunds]
    for oid in candidates:
        order = shop.orders.get(oid)
        refund = next((r for r in (order.refunds if order else ()) if r.id == num), None)
        if refund is not None:
            return order, refund
    return None, None


def node(info, kind: str, num: int):
    """Node lookups for returns (read_returns) and refunds (read_orders)."""
    c = info.context
    shop = c["shop"]
    if kind == "Refund":
        require(info, "read_orders", "node")
        order, refund = find_refund(shop, num)
        if order is None or not _visible(c, order):
            return None
        return RefundView(c["ctx"], order, refund, _line_views(c["ctx"], order))
    require(info, "read_returns", "node")
    if kind == "Return":
        return return_(info, gid("Return", num))
    ret, line = returns.find_line(shop, gid("ReturnLineItem", num))
    if ret is None or not _visible(c, shop.orders[ret.order_id]):
        return None
    order = shop.orders[ret.order_id]
    return ReturnLineItemView(c["ctx"], order, line, _line_views(c["ctx"], order))


def nodes(info, root, ids):
    """QueryRoot.nodes: each id as ``node(id:)`` answers it, null where it finds nothing."""
    if len(ids) > MAX_NODES:
        raise GraphQLError(f"The ids argument accepts at most {MAX_NODES} ids.",
                           extensions={"code": "BAD_REQUEST"})
    return [root.node(info, i) for i in ids]


# ---- mutations ----------------------------------------------------------------------------------

def _payload(c, ret, errors) -> dict:
    if errors:
        return {"return": None, "userErrors": errors}
    return {"return": ReturnView(c["ctx"], ret), "userErrors": []}


def return_create(info, returnInput):
    """returnCreate: an OPEN return with its reverse fulfillment order; returns/approve."""
    require(info, "write_returns", "returnCreate")
    c = info.context
    store, shop = c["store"], c["shop"]
    with store.lock:
        ret, errors = returns.create(c, returnInput, c["token"].client_id)
    if ret is not None:
        order = shop.orders[ret.order_id]
        store.webhooks.emit(shop, "returns/approve", lambda _v: return_body(shop, order, ret))
    return _payload(c, ret, errors)


def _with_return(info, value, field, change, topic):
    c = info.context
    store, shop = c["store"], c["shop"]
    with store.lock:
        ret = returns.find(shop, value)
        if ret is None:
            return {"return": None, "userErrors": [
                returns.err([field], "Return not found.", "NOT_FOUND")]}  # §6.7 (summary)
        before = ret.status
        errors = change(ret)
    if not errors and ret.status != before:
        order = shop.orders[ret.order_id]
        store.webhooks.emit(shop, topic, lambda _v: status_body(order, ret))
    return _payload(c, ret, errors)


def return_close(info, id):
    """returnClose (returns/close when it changes)."""
    require(info, "write_returns", "returnClose")
    now, shop = info.context["now"], info.context["shop"]
    return _with_return(info, id, "id", lambda r: returns.close(shop, r, now), "returns/close")


def return_cancel(info, id):
    """returnCancel (returns/cancel when it changes)."""
    require(info, "write_returns", "returnCancel")
    now, shop = info.context["now"], info.context["shop"]
    return _with_return(info, id, "id", lambda r: returns.cancel(shop, r, now), "returns/cancel")


def remove_from_return(info, returnId, returnLineItems=None, exchangeLineItems=None):
    """removeFromReturn (returns/update, unverified: the topic Shopify sends)."""
    require(info, "write_returns", "removeFromReturn")
    c = info.context
    store, shop = c["store"], c["shop"]
    with store.lock:
        ret = returns.find(shop, returnId)
        if ret is None:
            return {"return": None, "userErrors": [
                returns.err(["returnId"], "Return not found.", "NOT_FOUND")]}
        errors = returns.remove(shop, ret, returnLineItems, exchangeLineItems)
    if not errors:
        order = shop.orders[ret.order_id]
        store.webhooks.emit(shop, "returns/update", lambda _v: return_body(shop, order, ret))
    return _payload(c, ret, errors)


def return_process(info, input):
    """returnProcess (returns_process.process)."""
    require(info, "write_returns", "returnProcess")
    c = info.context
    with c["store"].lock:
        ret, errors = returns_process.process(c, input)
    return _payload(c, ret, errors)


def reverse_fulfillment_order_dispose(info, dispositionInputs):
    """reverseFulfillmentOrderDispose: the touched reverse fulfillment order line items."""
    require(info, "write_returns", "reverseFulfillmentOrderDispose")
    c = info.context
    with c["store"].lock:
        touched, errors = returns_process.dispose(c, dispositionInputs)
    if errors:
        return {"reverseFulfillmentOrderLineItems": None, "userErrors": errors}
    from .returns_views import ReverseFulfillmentOrderLineItemView
    shop = c["shop"]
    out = []
    for line in touched:
        ret, _l = returns.find_line(shop, gid("ReturnLineItem", line.id))
        order = shop.orders[ret.order_id]
        out.append(ReverseFulfillmentOrderLineItemView(c["ctx"], order, line,
                                                       _line_views(c["ctx"], order)))
    return {"reverseFulfillmentOrderLineItems": out, "userErrors": []}

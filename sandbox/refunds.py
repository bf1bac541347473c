"""``Order.suggestedRefund`` and ``refundCreate``, with Shopify's arithmetic and refusals.

A line's refundable value is its total after its discount allocations plus its tax, shared out
per unit so that refunding every unit, in any number of refunds, gives back exactly the line's
total (the last unit absorbs the rounding). Shipping is refunded only when asked for. Money is
refunded against the order's captured transaction (SALE, or CAPTURE), never more than it has
left; amounts are in the presentment currency, which must be named (``currency``) when it
differs from the shop's.
"""
from __future__ import annotations

from graphql import GraphQLError

from . import calc, idempotency, issuing
from .models import RefundRec
from .views import OrderView, RefundView, bag, gid, parse_gid, require, transactions

RESTOCK_TYPES = {"RETURN", "CANCEL", "NO_RESTOCK"}


def _share(total: int, quantity: int, done: int, qty: int) -> int:
    """The part of ``total`` that units ``done+1 .. done+qty`` of ``quantity`` carry."""
    if quantity <= 0:
        return 0
    return total * (done + qty) // quantity - total * done // quantity


def line_index(order, line_gid) -> int | None:
    """Index in ``order.lines`` of a LineItem gid, or None."""
    parsed = parse_gid(line_gid)
    if not parsed or parsed[0] != "LineItem":
        return None
    return next((i for i, ln in enumerate(order.lines) if ln.id == parsed[1]), None)


def refundable_money(ctx, order) -> tuple[dict | None, int]:
    """(the captured transaction view, shop cents it can still refund). A failed refund gave
    nothing back, so its money is refundable again; a pending one is counted as refunded."""
    sale = transactions(ctx, order)[0]
    if sale["kind"] not in ("SALE", "CAPTURE") or sale["status"] != "SUCCESS":
        return None, 0
    left = calc.totals(order)["total"] - calc.totals(order)["refunded"]
    return sale, max(0, left)


def refund_status(shop, order) -> str:
    """The status a new refund transaction of ``order`` gets: the order's own refund outcome, else
    the shop's ``refund_outcome`` setting (SUCCESS unless a test asks for PENDING or FAILURE;
    shop_settings.py)."""
    from .shop_settings import order_refund_outcome
    return order_refund_outcome(shop, order.id).upper()


def _items(order, requested):
    """[(idx, qty, value cents, tax cents)] for refund line inputs, quantities clamped to what
    is still refundable (units asked for twice in one list count once each)."""
    done = calc.refunded_qty(order)
    out = []
    for item in requested:
        idx = line_index(order, item.get("lineItemId"))
        if idx is None:
            continue
        ln = order.lines[idx]
        qty = max(0, min(int(item.get("quantity") or 0), ln.quantity - done[idx]))
        value = _share(calc.line_total(ln), ln.quantity, done[idx], qty)
        tax = _share(ln.tax or 0, ln.quantity, done[idx], qty)
        done[idx] += qty
        out.append((idx, qty, value, tax, item.get("restockType") or "NO_RESTOCK"))
    return out


def suggested_refund(view: OrderView, refundLineItems=None, refundShipping=None,
                     shippingAmount=None, suggestFullRefund=None) -> dict:
    """The SuggestedRefund object for the given lines (shipping only when asked for)."""
    ctx, order = view.ctx, view.o
    if suggestFullRefund:
        left = calc.refunded_qty(order)
        refundLineItems = [{"lineItemId": gid("LineItem", ln.id),
                            "quantity": ln.quantity - left[i]}
                           for i, ln in enumerate(order.lines)]
        refundShipping = True
    items = _items(order, refundLineItems or [])
    subtotal = sum(v for _i, _q, v, _t, _r in items)
    tax = sum(t for _i, _q, _v, t, _r in items)
    shipping = 0
    if shippingAmount is not None:
        shipping = min(order.shipping, round(float(shippingAmount) * 100))
    elif refundShipping:
        shipping = order.shipping
    sale, left = refundable_money(ctx, order)
    amount = min(subtotal + tax + shipping, left)
    lines = view._lines()
    refund_lines = [{
        "id": gid("RefundLineItem", order.lines[idx].id * 100 + n), "quantity": qty,
        "restockType": restock, "restocked": False, "lineItem": lines[idx],
        "priceSet": bag(ctx, order, calc.line_total(order.lines[idx])
                        // order.lines[idx].quantity),
        "subtotalSet": bag(ctx, order, value), "totalTaxSet": bag(ctx, order, t)}
        for n, (idx, qty, value, t, restock) in enumerate(items) if qty]
    suggested = []
    if sale is not None and amount > 0:
        suggested.append({"kind": "SUGGESTED_REFUND", "gateway": order.gateway,
                          "formattedGateway": order.gateway.replace("_", " ").title(),
                          "amountSet": bag(ctx, order, amount),
                          "maximumRefundableSet": bag(ctx, order, left),
                          "parentTransaction": sale, "accountNumber": None})
    zero = bag(ctx, order, 0)
    return {"amountSet": bag(ctx, order, amount), "subtotalSet": bag(ctx, order, subtotal),
            "discountedSubtotalSet": bag(ctx, order, subtotal), "totalTaxSet": bag(ctx, order, tax),
            "maximumRefundableSet": bag(ctx, order, left), "totalCartDiscountAmountSet": zero,
            "totalDutiesSet": zero, "refundDuties": [], "refundLineItems": refund_lines,
            "shipping": {"amountSet": bag(ctx, order, shipping),
                         "maximumRefundableSet": bag(ctx, order, order.shipping),
                         "taxSet": zero},
            "suggestedTransactions": suggested}


def _cents(amount) -> int:
    text = str(amount).strip()
    try:
        whole, _, frac = text.partition(".")
        sign = -1 if whole.startswith("-") else 1
        return sign * (abs(int(whole or "0")) * 100 + int((frac + "00")[:2] or "0"))
    except ValueError as exc:
        raise GraphQLError(f"Invalid Money value {amount!r}",
                           extensions={"code": "argumentLiteralsIncompatible"}) from exc


def refund_create(info, input) -> dict:
    """refundCreate: validate everything first, then record the refund, restock, notify."""
    require(info, "write_orders", "refundCreate")
    c = info.context
    store, shop = c["store"], c["shop"]
    # The key is mandatory from 2026-04: checked for every mutation in runtime_rules.py.
    with store.lock:
        original = idempotency.replay(info, "refundCreate", input)
        if original is not None:
            return _payload(c, *original)
        errors, order = [], None
        parsed = parse_gid(input.get("orderId"))
        if parsed and parsed[0] == "Order":
            order = shop.orders.get(parsed[1])
        if order is None or not _visible(c, order):
            return _failed([issuing.user_error(["orderId"], "Order does not exist")])
        items = input.get("refundLineItems") or []
        done = calc.refunded_qty(order)
        plan = []
        for i, item in enumerate(items):
            idx = line_index(order, item.get("lineItemId"))
            qty = int(item.get("quantity") or 0)
            restock = item.get("restockType") or "RETURN"
            if idx is None:
                errors.append(issuing.user_error(["refundLineItems", i, "lineItemId"],
                                                 "Line item does not exist"))
                continue
            if qty < 1:
                errors.append(issuing.user_error(["refundLineItems", i, "quantity"],
                                                 "Quantity must be greater than 0"))
                continue
            ln = order.lines[idx]
            if done[idx] + qty > ln.quantity:
                errors.append(issuing.user_error(
                    ["refundLineItems", i, "quantity"],
                    f"Quantity cannot refund more items than were purchased "
                    f"({ln.quantity - done[idx]} refundable)"))
                continue
            done[idx] += qty
            loc = None
            if restock == "RETURN":
                loc_num = (parse_gid(item.get("locationId")) or (None, None))[1]
                loc = (issuing.location(shop, loc_num) if item.get("locationId")
                       else issuing.primary_location(shop))
                if loc is None:
                    errors.append(issuing.user_error(["refundLineItems", i, "locationId"],
                                                     "Location does not exist"))
                    continue
            plan.append((idx, qty, restock, loc))
        shop_cents = _check_money(c, order, input, errors)
        if errors:
            return _failed(errors)
        now = c["now"]
        refund = RefundRec(id=issuing.new_id(shop), created_at=now,
                           lines=[(idx, qty, restock) for idx, qty, restock, _l in plan],
                           amount=shop_cents, note=input.get("note"),
                           transaction_id=issuing.new_id(shop) if shop_cents else None,
                           location_id=next((loc["id"] for *_x, loc in plan if loc), None),
                           status=refund_status(shop, order) if shop_cents else None)
        order.refunds.append(refund)
        for idx, qty, restock, loc in plan:
            variant = shop.variants.get(order.lines[idx].variant_id)
            if restock == "RETURN" and variant is not None:
                issuing.add_stock(shop, variant, loc["id"], qty)
        issuing.state(shop)["refunds"].append((order.id, refund.id))
        idempotency.remember(info, "refundCreate", input, (order.id, refund.id))
        store.update_order(shop.domain, order.id, emit=False)  # updated_at and search index
    from .rest_payload import _Ctx, _refund
    store.webhooks.emit(shop, "refunds/create",
                        lambda _v: _refund(_Ctx(order, shop.currency), order, refund))
    store._emit_order(shop, order, "orders/updated")
    return _payload(c, order.id, refund.id)


def _check_money(c, order, input, errors) -> int:
    """Validate the transactions; returns the refunded amount in shop cents."""
    shop, ctx = c["shop"], c["ctx"]
    currency = input.get("currency")
    if order.currency != shop.currency and currency is None:
        errors.append(issuing.user_error(["currency"], "Currency is required when the order's "
                                         "presentment currency differs from the shop currency"))
        return 0
    if currency is not None and currency not in (order.currency,):
        errors.append(issuing.user_error(["currency"], f"Currency must be the order's "
                                         f"presentment currency ({order.currency})"))
        return 0
    sale, left = refundable_money(ctx, order)
    total_presented = 0
    for i, tx in enumerate(input.get("transactions") or []):
        parent = (parse_gid(tx.get("parentId")) or (None, None))[1]
        if tx.get("kind") != "REFUND":
            errors.append(issuing.user_error(["transactions", i, "kind"], "Kind is invalid"))
        elif sale is None or parent != parse_gid(sale["id"])[1]:
            errors.append(issuing.user_error(["transactions", i, "parentId"],
                                             "Parent transaction could not be found or cannot "
                                             "be refunded"))
        elif tx.get("gateway") != order.gateway:
            errors.append(issuing.user_error(["transactions", i, "gateway"],
                                             "Gateway does not match the parent transaction"))
        elif (parse_gid(tx.get("orderId")) or (None, None))[1] != order.id:
            errors.append(issuing.user_error(["transactions", i, "orderId"],
                                             "Order does not match the refund's order"))
        elif _cents(tx.get("amount")) <= 0:
            errors.append(issuing.user_error(["transactions", i, "amount"],
                                             "Amount must be greater than 0"))
        else:
            total_presented += _cents(tx.get("amount"))
    limit = calc.present(order, left)
    if not errors and total_presented > limit:
        errors.append(issuing.user_error(
            ["transactions"], f"Refund amount {calc.fmt(total_presented)} is greater than the "
            f"amount that can be refunded ({calc.fmt(limit)} {order.currency})"))
    if total_presented == limit:
        return left  # exactly what is left, whatever the presentment rounding
    return min(left, round(total_presented / (order.rate or 1.0)))


def _visible(c, order) -> bool:
    return "read_all_orders" in c["scopes"] or order.created_at >= c["now"] - 60 * 86400


def _failed(errors) -> dict:
    return {"refund": None, "order": None, "userErrors": errors}


def _payload(c, order_id: int, refund_id: int) -> dict:
    order = c["shop"].orders[order_id]
    refund = next(r for r in order.refunds if r.id == refund_id)
    view = OrderView(c["ctx"], order)
    return {"refund": RefundView(c["ctx"], order, refund, view._lines()), "order": view,
            "userErrors": []}


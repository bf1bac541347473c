"""``returnProcess`` and ``reverseFulfillmentOrderDispose``: quantities, dispositions,
exchanges and the refund a return's processing makes.

Rules (docs/reference/shopify-returns.md; "unverified" where no source settles it):
- Only an OPEN return is processed or disposed of (unverified: the error for others); it stays
  OPEN after processing (§6.1, live), ``returnClose`` is separate.
- Per line, at most its processable quantity (quantity − processed) (schema:
  ReturnLineItemType.processableQuantity; the refusal's wording: unverified, as returnCreate's).
- Dispositions are optional (§6.1: shopify.dev example and a live 2026-04 call); each may cover
  at most the line's undisposed units; RESTOCKED needs ``locationId`` (schema:
  ReverseFulfillmentOrderDisposeInput.locationId "required when the disposition type is
  RESTOCKED") and restocks there; NOT_RESTOCKED keeps a location when given (§6.1, live);
  MISSING and NOT_RESTOCKED change no stock. PROCESSING_REQUIRED units ("require further
  processing before being restocked or discarded", schema) may be disposed of again later
  (unverified: that reading of the description).
- Exchange lines processed take their stock and become line items of the order; their
  fulfillment order is held AWAITING_PAYMENT only when the buyer owes a balance (§5, §6.9;
  changelog returns-processing-api). The balance is counted over the whole return: exchanges
  processed so far against returned units processed so far less what was refunded (unverified).
- ``financialTransfer.issueRefund``: each transaction's parent is the order's successful SALE or
  CAPTURE, in presentment currency (schema: ReturnRefundOrderTransactionInput); never more than
  it has left; the total may not exceed what the round's lines are worth unless
  ``allowOverRefunding`` (schema: ReturnProcessRefundInput); store credit only with a customer
  on the order and new customer accounts (§6.4, changelog "Refund to Store Credit"), and never
  more than was paid (§6.4, 2027-01 docs).
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from . import calc, issuing
from .models import Line, RefundRec
from .records import DispositionRec
from .refunds import refund_status, refundable_money
from .returns import INVALID_QUANTITY, STATUS_INVALID, counters, err, find, find_line
from .returns_money import exchange_values, outcome, return_line_value
from .returns_webhooks import dispose_body, refund_webhooks, return_body
from .shop_settings import settings
from .views import parse_gid

FINAL = {"RESTOCKED", "NOT_RESTOCKED", "MISSING"}


def disposed(dispositions) -> tuple[int, int]:
    """(units disposed of, of which still waiting in PROCESSING_REQUIRED) after
    ``dispositions`` [(type, qty)], oldest first; a final disposition settles waiting units
    before it takes new ones."""
    used = pending = 0
    for kind, qty in dispositions:
        if kind == "PROCESSING_REQUIRED":
            used, pending = used + qty, pending + qty
        else:
            take = min(pending, qty)
            used, pending = used + qty - take, pending - take
    return used, pending


def _cents(money, path, errors) -> int | None:
    try:
        return round(Decimal(str((money or {}).get("amount"))) * 100)
    except (InvalidOperation, TypeError, ValueError):
        errors.append(err(path, "Amount is invalid.", "INVALID"))  # unverified wording
        return None


def check_dispositions(shop, entries, errors) -> list:
    """Validate dispositions ``entries`` [(line, DisposeInput, field path)]; returns the plan
    [(line, type, qty, location id)] (``errors`` gets the refusals)."""
    plan, seen = [], {}
    for line, item, path in entries:
        qty, kind = int(item.get("quantity") or 0), item.get("dispositionType")
        loc = parse_gid(item.get("locationId")) if item.get("locationId") else None
        history = seen.setdefault(line.id, [(d.type, d.quantity) for d in line.dispositions])
        used, pending = disposed(history)
        room = line.quantity - used + (pending if kind in FINAL else 0)
        if qty < 1:
            errors.append(err(path + ["quantity"], "Quantity must be greater than 0",
                              "GREATER_THAN"))  # unverified wording
        elif qty > room:  # unverified wording
            errors.append(err(path + ["quantity"], "Quantity is greater than the quantity left "
                                                   "to dispose of.", "INVALID"))
        elif kind == "RESTOCKED" and loc is None:  # schema: required for RESTOCKED
            errors.append(err(path + ["locationId"], "Location is required when restocking.",
                              "BLANK"))  # unverified wording and code
        elif loc is not None and (loc[0] != "Location" or issuing.location(shop, loc[1]) is None):
            errors.append(err(path + ["locationId"], "Location not found.", "NOT_FOUND"))
        else:
            history.append((kind, qty))
            plan.append((line, kind, qty, loc[1] if loc else None))
    return plan


def apply_dispositions(shop, order, plan, now: float) -> list:
    """Record the dispositions; RESTOCKED puts the units back at the location. Returns
    [(line, DispositionRec)]."""
    done = []
    for line, kind, qty, loc in plan:
        rec = DispositionRec(id=issuing.new_id(shop), quantity=qty, type=kind, location_id=loc,
                             created_at=now)
        line.dispositions.append(rec)
        variant = shop.variants.get(order.lines[line.line_idx].variant_id)
        if kind == "RESTOCKED" and variant is not None:
            issuing.add_stock(shop, variant, loc, qty)
        done.append((line, rec))
    return done


def dispose(c, inputs) -> tuple[list, list]:
    """reverseFulfillmentOrderDispose: (touched return lines, userErrors)."""
    shop, store = c["shop"], c["store"]
    if not inputs:  # §6.1 (live)
        return [], [err(["dispositionInputs"], "The array cannot be empty.", "BLANK")]
    entries, ret = [], None
    for i, item in enumerate(inputs):
        found, line = find_line(shop, item.get("reverseFulfillmentOrderLineItemId"),
                                ("ReverseFulfillmentOrderLineItem",))
        if found is None or (ret is not None and found is not ret):
            # §6.1 (live): unknown lines and lines of two orders get the same answer.
            return [], [err(["dispositionInputs"], "Cannot dispose items from more than one "
                                                   "reverse fulfillment order.", "INVALID")]
        ret = found
        entries.append((line, item, ["dispositionInputs", i]))
    if ret.status != "OPEN":
        return [], [err(["dispositionInputs"], STATUS_INVALID, "INVALID_STATE")]  # unverified
    errors = []
    plan = check_dispositions(shop, entries, errors)
    if errors:
        return [], errors
    order = shop.orders[ret.order_id]
    done = apply_dispositions(shop, order, plan, c["now"])
    store.webhooks.emit(shop, "reverse_fulfillment_orders/dispose",
                        lambda _v: dispose_body(order, ret, done))
    touched = []
    for line, _d in done:
        if line not in touched:
            touched.append(line)
    return touched, []


# ---- returnProcess -----------------------------------------------------------------------------

def _quantities(records, inputs, root, errors, room) -> list:
    """[(record, qty, input, index)] for processing inputs naming ``records`` by id."""
    out, asked = [], {}
    for i, item in enumerate(inputs or []):
        parsed = parse_gid(item.get("id"))
        rec = next((r for r in records if parsed and r.id == parsed[1]), None)
        qty = int(item.get("quantity") or 0)
        if rec is None:  # unverified wording
            errors.append(err([*root, i, "id"], "Line item not found in the return.",
                              "NOT_FOUND"))
            continue
        asked[rec.id] = asked.get(rec.id, 0) + qty
        if qty < 1:
            errors.append(err([*root, i, "quantity"], "Quantity must be greater than 0",
                              "GREATER_THAN"))
        elif asked[rec.id] > room(rec):  # beyond the processable quantity
            errors.append(err([*root, i, "quantity"], INVALID_QUANTITY, "INVALID"))
        else:
            out.append((rec, qty, item, i))
    return out


def _refund_plan(c, order, ret, issue, lines, exchanges, shipping, errors) -> dict | None:
    """Validate ``issueRefund``; returns {presented, shop, credit} (shop minor units)."""
    if issue is None:
        return None
    shop, ctx = c["shop"], c["ctx"]
    root = ["input", "financialTransfer", "issueRefund"]
    sale, left = refundable_money(ctx, order)
    presented = credit = 0
    for t, tx in enumerate(issue.get("orderTransactions") or []):
        path = root + ["orderTransactions", t]
        parent = parse_gid(tx.get("parentId"))
        money = tx.get("transactionAmount") or {}
        cents = _cents(money, path + ["transactionAmount", "amount"], errors)
        if sale is None or not parent or parent[0] != "OrderTransaction" \
                or parent[1] != parse_gid(sale["id"])[1]:
            errors.append(err(path + ["parentId"], "Parent transaction must be a successful "
                                                   "sale or capture of the order.", "INVALID"))
        elif money.get("currencyCode") != order.currency:  # schema: presentment currency
            errors.append(err(path + ["transactionAmount", "currencyCode"],
                              f"Currency must be {order.currency}.", "INVALID"))
        elif cents is not None and cents <= 0:
            errors.append(err(path + ["transactionAmount", "amount"],
                              "Amount must be greater than 0", "GREATER_THAN"))
        elif cents is not None:
            presented += cents
    for m, method in enumerate(issue.get("refundMethods") or []):
        credit_input = method.get("storeCreditRefund")
        if not credit_input:
            continue
        path = root + ["refundMethods", m, "storeCreditRefund"]
        cents = _cents(credit_input.get("amount"), path + ["amount", "amount"], errors)
        if order.customer_id is None:  # §6.4; wording unverified
            errors.append(err(path, "Store credit needs a customer on the order.", "INVALID"))
        elif settings(shop)["customer_accounts"] != "new":  # §6.4; wording and code unverified
            errors.append(err(path, "Store credit needs new customer accounts.",
                              "FEATURE_NOT_ENABLED"))
        elif (credit_input.get("amount") or {}).get("currencyCode") != order.currency:
            errors.append(err(path + ["amount", "currencyCode"],
                              f"Currency must be {order.currency}.", "INVALID"))
        elif cents is not None and cents <= 0:
            errors.append(err(path + ["amount", "amount"], "Amount must be greater than 0",
                              "GREATER_THAN"))
        elif cents is not None:
            credit += round(cents / (order.rate or 1.0))
    if errors:
        return None
    limit = calc.present(order, left)
    paid = left if presented == limit else round(presented / (order.rate or 1.0))
    if presented > limit or credit > left - paid:  # never more than was paid (unverified text)
        errors.append(err(root, "The refund is greater than the amount that can be refunded.",
                          "INVALID"))
        return None
    worth = max(0, outcome(shop, order, ret, lines, exchanges, shipping)["net"])
    if not issue.get("allowOverRefunding") and paid + credit > worth:  # unverified wording
        errors.append(err(root, "The refund is greater than the value of the items processed.",
                          "INVALID"))
        return None
    return {"paid": paid, "credit": credit}


def _shipping(order, refund_shipping) -> int:
    if not refund_shipping:
        return 0
    if refund_shipping.get("fullRefund"):
        return order.shipping
    amount = (refund_shipping.get("shippingRefundAmount") or {}).get("amount")
    return min(order.shipping, round(float(amount) * 100)) if amount is not None else 0


def process(c, data: dict) -> tuple[object, list]:
    """returnProcess: validate everything, then apply; returns (ReturnRec | None, errors)."""
    store, shop, now = c["store"], c["shop"], c["now"]
    ret = find(shop, data.get("returnId"))
    if ret is None:
        return None, [err(["input", "returnId"], "Return not found.", "NOT_FOUND")]  # §6.7
    if ret.status != "OPEN":
        return None, [err(["input", "returnId"], STATUS_INVALID, "INVALID_STATE")]  # unverified
    order = shop.orders[ret.order_id]
    errors = []
    lines = _quantities(ret.lines, data.get("returnLineItems"), ["input", "returnLineItems"],
                        errors, lambda ln: ln.quantity - ln.processed)
    exchanges = _quantities(ret.exchanges, data.get("exchangeLineItems"),
                            ["input", "exchangeLineItems"], errors,
                            lambda ex: ex.quantity - ex.processed)
    if not lines and not exchanges and not errors:  # unverified wording
        errors.append(err(["input"], "Nothing to process.", "INVALID"))
    entries = [(line, d, ["input", "returnLineItems", i, "dispositions", j])
               for line, _q, item, i in lines for j, d in enumerate(item.get("dispositions") or [])]
    for line, d, path in entries:
        parsed = parse_gid(d.get("reverseFulfillmentOrderLineItemId"))
        if not parsed or parsed[1] != line.rfo_line_id:  # unverified wording
            errors.append(err(path + ["reverseFulfillmentOrderLineItemId"], "The disposition "
                                    "must name this line's reverse fulfillment order line item.",
                              "INVALID"))
    plan = [] if errors else check_dispositions(shop, entries, errors)
    for ex, qty, _item, k in exchanges:
        variant = shop.variants.get(ex.variant_id)
        if variant is None or variant.inventory < qty:  # unverified: Shopify's answer
            errors.append(err(["input", "exchangeLineItems", k, "quantity"],
                              f"{variant.title if variant else ex.variant_id} is out of stock",
                              "INVALID"))
        elif len(order.lines) + len(exchanges) > 16:  # the sandbox's ids hold 16 lines
            errors.append(err(["input", "exchangeLineItems", k], "Too many line items on the "
                                                                 "order for the sandbox.",
                              "INVALID"))
    pairs = [(ln, q) for ln, q, _i, _n in lines]
    ex_pairs = [(ex, q) for ex, q, _i, _n in exchanges]
    transfer = (data.get("financialTransfer") or {}).get("issueRefund")
    money = _refund_plan(c, order, ret, transfer, pairs, ex_pairs,
                         _shipping(order, data.get("refundShipping")), errors)
    if errors:
        return None, errors
    # ---- apply ----
    counters(shop)["process_calls"] += 1
    for line, qty in pairs:
        line.processed += qty
    made = apply_dispositions(shop, order, plan, now)
    for ex, qty in ex_pairs:
        _add_exchange_line(shop, order, ex, qty)
    refund = None
    if transfer is not None and (pairs or money["paid"] or money["credit"]):
        refund = _record_refund(shop, order, ret, pairs, money, data.get("note"), now)
    if ex_pairs and _balance_owed(shop, order, ret):
        for ex, _q in ex_pairs:
            ex.held = True  # AWAITING_PAYMENT (§5)
    store.update_order(shop.domain, order.id, emit=False)  # updated_at and the search index
    store.webhooks.emit(shop, "returns/process", lambda _v: return_body(shop, order, ret))
    if made:
        store.webhooks.emit(shop, "reverse_fulfillment_orders/dispose",
                            lambda _v: dispose_body(order, ret, made))
    if refund is not None:
        refund_webhooks(store, shop, order, refund)
    elif ex_pairs:
        store._emit_order(shop, order, "orders/updated")
    return ret, []


def _add_exchange_line(shop, order, ex, qty: int) -> None:
    """The processed exchange units become a line of the order, taking their stock."""
    variant = shop.variants[ex.variant_id]
    gross, subtotal, tax = exchange_values(order, variant, qty, ex.discount)
    idx = len(order.lines)
    order.lines.append(Line(id=order.id * 16 + idx, variant_id=variant.id,
                            product_id=variant.product_id, quantity=qty, price=variant.price,
                            discount=gross - subtotal, fulfilled=0, tax=tax or None,
                            exchange=ex.id))
    variant.inventory -= qty
    ex.processed += qty
    ex.order_lines = list(ex.order_lines or []) + [idx]


def _record_refund(shop, order, ret, pairs, money, note, now) -> RefundRec:
    paid, credit = money["paid"], money["credit"]
    refund = RefundRec(id=issuing.new_id(shop), created_at=now,
                       lines=[(line.line_idx, qty, "NO_RESTOCK") for line, qty in pairs],
                       amount=paid + credit, note=note,
                       transaction_id=issuing.new_id(shop) if paid else None, location_id=None,
                       return_id=ret.id, status=refund_status(shop, order) if paid else None,
                       store_credit=credit)
    order.refunds.append(refund)
    ret.refunds.append(refund.id)
    # The store credit part has no OrderTransaction here and counts in totalRefundedSet
    # (unverified: Shopify's transactions for a store credit refund).
    if credit:  # credited to the customer's store credit account
        accounts = counters(shop)["store_credit"]
        accounts[order.customer_id] = accounts.get(order.customer_id, 0) + credit
    return refund


def _balance_owed(shop, order, ret) -> bool:
    """Do the exchanges processed so far cost more than the processed returned units are worth
    after what the return already refunded?"""
    values = [return_line_value(order, ln, ln.processed) for ln in ret.lines if ln.processed]
    returned = sum(v["subtotal"] + v["tax"] - v["fee"] for v in values)
    exchanged = sum(calc.line_total(order.lines[i]) + (order.lines[i].tax or 0)
                    for ex in ret.exchanges for i in ex.order_lines or ())
    refunded = sum(calc.refund_money(r) for r in order.refunds if r.return_id == ret.id)
    return exchanged > returned - refunded

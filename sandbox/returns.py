"""Shopify returns in a shop: records, what is still returnable, and the state changes
``returnCreate``, ``returnClose``, ``returnCancel`` and ``removeFromReturn`` make.

Processing (money, dispositions, exchanges) is in ``returns_process.py``, values in
``returns_money.py``, the GraphQL side in ``returns_api.py``. Returns live in the shop's issuing
state (``returns``: id -> ReturnRec), so state files written before them still load.

Every refusal returns Shopify's userError shape (field path, message, ``ReturnErrorCode``);
where a source gives the exact text it is used and named, otherwise the comment says
"unverified". References: docs/reference/shopify-returns.md (§n below).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from . import fulfillments, issuing, search
from .records import ExchangeLineRec, ReturnLineRec, ReturnRec
from .views import parse_gid

MAX_NOTE = 255  # schema: ReturnLineItemInput.returnReasonNote "Maximum length: 255 characters"
INVALID_QUANTITY = "Return line item has an invalid quantity."  # §6.6 (live capture)
STATUS_INVALID = "Return status is invalid."  # §6.7 (live capture)

# Shopify's standard return reasons as a live 2026-04 store lists them (§6.6): id, handle.
# The names are unverified except "Too Small" (shopify.dev returnCreate example).
REASONS = [(1, "unknown", "Unknown"), (2, "changed-my-mind", "Changed My Mind"),
           (3, "item-not-as-described", "Item Not As Described"),
           (4, "received-the-wrong-item", "Received The Wrong Item"),
           (5, "other-reason", "Other Reason"), (6, "damaged-or-defective", "Damaged Or Defective"),
           (7, "too-small", "Too Small"), (8, "too-big", "Too Big"), (9, "style", "Style"),
           (10, "color", "Color")]
REASON_IDS = {r[0] for r in REASONS}


def err(field, message: str, code: str) -> dict:
    """A ReturnUserError."""
    return issuing.user_error(field, message, code)


def all_returns(shop) -> dict:
    """The shop's returns by id (created on first use)."""
    return issuing.state(shop).setdefault("returns", {})


def counters(shop) -> dict:
    """Running counts the control API reports (returnProcess calls, store credit, notices)."""
    return issuing.state(shop).setdefault("return_counters", {
        "process_calls": 0, "store_credit": {}, "gift_card_notifications": 0})


def of_order(shop, order_id: int) -> list:
    """The order's returns, oldest first."""
    return sorted((r for r in all_returns(shop).values() if r.order_id == order_id),
                  key=lambda r: r.id)


def find(shop, value, kind: str = "Return"):
    """A return by gid, or None."""
    parsed = parse_gid(value)
    if not parsed or parsed[0] != kind:
        return None
    return all_returns(shop).get(parsed[1])


def find_line(shop, value, kinds=("ReturnLineItem",)):
    """(return, line) for a ReturnLineItem gid (or a ReverseFulfillmentOrderLineItem gid with
    ``kinds``), or (None, None)."""
    parsed = parse_gid(value)
    if not parsed or parsed[0] not in kinds:
        return None, None
    attr = "id" if parsed[0] == "ReturnLineItem" else "rfo_line_id"
    for ret in all_returns(shop).values():
        for line in ret.lines:
            if getattr(line, attr) == parsed[1]:
                return ret, line
    return None, None


def held_lines(shop, order) -> set:
    """Order line indices whose exchange fulfillment order is on hold (AWAITING_PAYMENT)."""
    return {idx for ret in of_order(shop, order.id) for ex in ret.exchanges if ex.held
            for idx in ex.order_lines or ()}


# ---- what can still be returned ------------------------------------------------------------------

def returnable(shop, order) -> dict:
    """Units still returnable per fulfillment line item id: shipped, less units in returns that
    are not canceled, less units refunded after they shipped (refundCreate; §6.8, schema:
    ReturnableFulfillmentLineItem.quantity). Refunds made by a return's processing are already
    counted through its lines. Units refunded beyond the unshipped ones (which are refunded
    first, as LineItem.nonFulfillableQuantity says) came out of the earliest shipments."""
    taken: dict[int, int] = {}
    for ret in of_order(shop, order.id):
        if ret.status != "CANCELED":
            for line in ret.lines:
                taken[line.fli_id] = taken.get(line.fli_id, 0) + line.quantity
    refunded = [0] * len(order.lines)
    for r in order.refunds:
        if r.return_id is None:
            for idx, qty, _restock in r.lines:
                refunded[idx] += qty
    after = [max(0, refunded[i] - (ln.quantity - ln.fulfilled))
             for i, ln in enumerate(order.lines)]
    out = {}
    for rec, idx, qty in fulfillments.items(shop, order):
        fid = fulfillments.item_id(order, rec.number, idx)
        left = qty - taken.get(fid, 0)
        cut = min(max(left, 0), after[idx])
        after[idx] -= cut
        out[fid] = max(0, left - cut)
    return out


def order_return_status(shop, order) -> str:
    """Order.returnStatus from its returns (§6.7, live summary)."""
    statuses = {r.status for r in of_order(shop, order.id)}
    if "REQUESTED" in statuses:
        return "RETURN_REQUESTED"
    if "OPEN" in statuses:
        return "IN_PROGRESS"
    return "RETURNED" if "CLOSED" in statuses else "NO_RETURN"


def search_returns(returns: list, query: str | None) -> list:
    """Order.returns(query:): ``status:`` and ``id:`` (with comparators) are the filters the
    schema documents (§6.8); other terms are ignored (unverified, as gift card search does)."""
    groups = search.parse_query(query)
    if not groups:
        return returns

    def term_ok(ret, term):
        neg, field, op, value = term
        if field == "status":
            ok = ret.status.lower() == str(value).lower()
        elif field == "id":
            try:
                num = int(str(value).rsplit("/", 1)[-1])
            except ValueError:
                return neg
            ok = {":": ret.id == num, "=": ret.id == num, ">": ret.id > num,
                  ">=": ret.id >= num, "<": ret.id < num, "<=": ret.id <= num}[op]
        else:
            return True
        return ok != neg
    return [r for r in returns if any(all(term_ok(r, t) for t in g) for g in groups)]


# ---- returnCreate --------------------------------------------------------------------------------

def _order(c, value):
    parsed = parse_gid(value)
    order = c["shop"].orders.get(parsed[1]) if parsed and parsed[0] == "Order" else None
    visible = order is not None and ("read_all_orders" in c["scopes"]
                                     or order.created_at >= c["now"] - 60 * 86400)
    return order if visible else None


def _discount_error(discount, path):
    if not discount:
        return None
    value = discount.get("value") or {}
    if (value.get("amount") is None) == (value.get("percentage") is None):
        # unverified: schema says the value is "either a fixed amount or a percentage".
        return err(path + ["value"], "Provide either an amount or a percentage.", "INVALID")
    pct = value.get("percentage")
    if pct is not None and not 0 <= float(pct) <= 100:
        return err(path + ["value", "percentage"], "Percentage must be between 0 and 100.",
                   "INVALID")  # unverified
    return None


def create(c, data: dict, made_by: str, root: str = "returnInput"):
    """Validate a ReturnInput and create an OPEN return; returns (ReturnRec | None, errors).

    ``c`` is a resolver context (store, shop, scopes, now). The whole input is refused when any
    line is (§6.6: "The whole batch is refused")."""
    shop, now = c["shop"], c["now"]
    order = _order(c, data.get("orderId"))
    if order is None:
        return None, [err([root, "orderId"], "Order does not exist.", "NOT_FOUND")]  # unverified
    errors, lines, left = [], [], returnable(shop, order)
    items = data.get("returnLineItems") or []
    if not items:  # unverified: Shopify's wording for an empty list
        errors.append(err([root, "returnLineItems"], "Return must have at least one return line "
                                                     "item.", "BLANK"))
    for i, item in enumerate(items):
        path = [root, "returnLineItems", i]
        found = fulfillments.find_item(shop, item.get("fulfillmentLineItemId"))
        qty = int(item.get("quantity") or 0)
        reason = parse_gid(item.get("returnReasonDefinitionId"))
        note = item.get("returnReasonNote") or ""
        pct = (item.get("restockingFee") or {}).get("percentage")
        if found is None or found[0] is not order:
            # §6.6 (live) for an unknown id; another order's item: unverified, same answer.
            errors.append(err(path + ["fulfillmentLineItemId"],
                              "Fulfillment Line Item was not found.", "NOT_FOUND"))
            continue
        fid = fulfillments.item_id(order, found[1].number, found[2])
        if qty < 1 or qty > left.get(fid, 0):
            # §6.6 (live): beyond what is returnable (unfulfilled, in a return, refunded).
            errors.append(err(path + ["quantity"], INVALID_QUANTITY, "INVALID"))
            continue
        if item.get("returnReasonDefinitionId") is None:
            # §6.6 (live): a reason is required in 2026-04 (the deprecated returnReason enum
            # is not in the served schema, so a definition is the only way here).
            errors.append(err(path, "Return line items Either return reason or return reason "
                                    "definition must be provided", "NOT_FOUND"))
            continue
        if not reason or reason[0] != "ReturnReasonDefinition" or reason[1] not in REASON_IDS:
            errors.append(err(path + ["returnReasonDefinitionId"],
                              "Return reason definition not found.", "NOT_FOUND"))  # unverified
            continue
        if len(note) > MAX_NOTE:  # the limit: schema; the wording: unverified
            errors.append(err(path + ["returnReasonNote"], "Return reason note is too long "
                                                           "(maximum is 255 characters)",
                              "TOO_LONG"))
            continue
        if pct is not None and not 0 <= float(pct) <= 100:  # unverified wording
            errors.append(err(path + ["restockingFee", "percentage"],
                              "Restocking fee percentage must be between 0 and 100.", "INVALID"))
            continue
        left[fid] -= qty  # two lines on one item share its returnable units
        lines.append(ReturnLineRec(id=issuing.new_id(shop), fli_id=fid, line_idx=found[2],
                                   quantity=qty, processed=0, note=note, reason_id=reason[1],
                                   restocking_pct=pct, rfo_line_id=issuing.new_id(shop),
                                   dispositions=[]))
    exchanges = []
    for j, item in enumerate(data.get("exchangeLineItems") or []):
        path = [root, "exchangeLineItems", j]
        parsed = parse_gid(item.get("variantId"))
        variant = shop.variants.get(parsed[1]) if parsed and parsed[0] == "ProductVariant" else None
        if variant is None:  # unverified wording
            errors.append(err(path + ["variantId"], "Variant not found.", "NOT_FOUND"))
            continue
        if int(item.get("quantity") or 0) < 1:  # unverified wording
            errors.append(err(path + ["quantity"], "Quantity must be greater than 0",
                              "GREATER_THAN"))
            continue
        bad = _discount_error(item.get("appliedDiscount"), path + ["appliedDiscount"])
        if bad:
            errors.append(bad)
            continue
        exchanges.append(ExchangeLineRec(id=issuing.new_id(shop), variant_id=variant.id,
                                         quantity=int(item["quantity"]), processed=0,
                                         discount=item.get("appliedDiscount"), order_lines=[],
                                         held=False))
    fee_error, fee = shipping_fee(order, data.get("returnShippingFee"), [root, "returnShippingFee"])
    if fee_error:
        errors.append(fee_error)
    if errors:
        return None, errors
    ret = ReturnRec(id=issuing.new_id(shop), order_id=order.id,
                    number=len(of_order(shop, order.id)) + 1, status="OPEN", created_at=now,
                    closed_at=None, lines=lines, exchanges=exchanges,
                    rfo_id=issuing.new_id(shop), refunds=[], made_by=made_by,
                    shipping_fee=fee)
    all_returns(shop)[ret.id] = ret
    return ret, []


def shipping_fee(order, fee_input, path) -> tuple[dict | None, int]:
    """(error, fee in minor units) of ``ReturnInput.returnShippingFee``: a MoneyInput "in the
    presentment currency of the order" (2026-04 schema, ReturnShippingFeeInput.amount). A
    negative amount or another currency is refused (the wording: unverified)."""
    money = (fee_input or {}).get("amount") or {}
    if not money:
        return None, 0
    try:
        amount = Decimal(str(money.get("amount")))
    except ArithmeticError:
        return err(path + ["amount"], "Amount is invalid.", "INVALID"), 0
    if not amount.is_finite() or amount < 0:
        return err(path + ["amount"], "Amount must be greater than or equal to 0.", "INVALID"), 0
    if money.get("currencyCode") != order.currency:
        return err(path + ["amount", "currencyCode"], "Currency must match the order's presentment "
                                                      "currency.", "INVALID"), 0
    return None, int((amount * 100).quantize(Decimal(1), ROUND_HALF_UP))


# ---- close, cancel, remove -------------------------------------------------------------------------

def close(shop, ret, now: float) -> list:
    """returnClose: OPEN -> CLOSED, even with nothing processed; closing a closed return again is
    no error (§6.7, live). A canceled return: INVALID_STATE (unverified, by analogy with
    REQUESTED, which is live)."""
    if ret.status == "CANCELED":
        return [err(["id"], STATUS_INVALID, "INVALID_STATE")]
    if ret.status == "OPEN":
        ret.status, ret.closed_at = "CLOSED", now
    return []


def worked_on(ret) -> bool:
    """Has anything been done on the return: units processed, disposed of, or refunded?"""
    return bool(ret.refunds) or any(ln.processed or ln.dispositions for ln in ret.lines) or \
        any(ex.processed for ex in ret.exchanges)


def cancel(shop, ret, now: float) -> list:
    """returnCancel: only before any work (schema: Mutation.returnCancel; §6.7 live: processed
    -> "Return is not cancelable."). Canceling a canceled return again is no error (live)."""
    if ret.status == "CANCELED":
        return []
    if ret.status != "OPEN" or worked_on(ret):
        return [err(["id"], "Return is not cancelable.", "INVALID_STATE")]
    ret.status, ret.closed_at = "CANCELED", now  # its units are returnable again
    return []


def _removal_plan(records, inputs, id_key, floor):
    """[(record, quantity)] for removeFromReturn inputs, or the first userError."""
    plan, asked = [], {}
    for item in inputs or []:
        parsed = parse_gid(item.get(id_key))
        rec = next((r for r in records if parsed and r.id == parsed[1]), None)
        qty = int(item.get("quantity") or 0)
        if rec is None:  # unverified wording
            return None, err([id_key], "Line item not found in the return.", "NOT_FOUND")
        if qty <= 0:  # §6.6 (live): field null
            return None, err(None, "Quantity must be greater than 0", "GREATER_THAN")
        asked[rec.id] = asked.get(rec.id, 0) + qty
        if asked[rec.id] > rec.quantity - floor(rec):  # §6.6 (live): beyond what it has
            return None, err(None, INVALID_QUANTITY, "INVALID")
        plan.append((rec, qty))
    return plan, None


def _disposed(line) -> int:
    return sum(d.quantity for d in line.dispositions)


def remove(shop, ret, return_items, exchange_items) -> list:
    """removeFromReturn: take unprocessed units out of an OPEN return (§6.6, §6.7 live). Units
    already disposed of stay (unverified: Shopify's answer for them). A line left with no units
    is gone from the return."""
    if ret.status != "OPEN":
        return [err(["returnId"], STATUS_INVALID, "INVALID_STATE")]
    if not return_items and not exchange_items:  # unverified wording
        return [err(None, "Provide return line items or exchange line items to remove.",
                    "INVALID")]
    lines, bad = _removal_plan(ret.lines, return_items, "returnLineItemId",
                               lambda ln: max(ln.processed, _disposed(ln)))
    if bad:
        return [bad]
    exchanges, bad = _removal_plan(ret.exchanges, exchange_items, "exchangeLineItemId",
                                   lambda ex: ex.processed)
    if bad:
        return [bad]
    for rec, qty in lines + exchanges:
        rec.quantity -= qty
    ret.lines = [ln for ln in ret.lines if ln.quantity > 0]
    ret.exchanges = [ex for ex in ret.exchanges if ex.quantity > 0]
    return []

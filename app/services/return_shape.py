"""The shape of a Shopify return: creating it, taking lines out, closing and cancelling it.

Each step is one claimed call (app/services/shopify_calls.py): built from Shopify's own figures,
stored, sent, and — after a crash or a lost answer — found again before anything is sent twice.
- Create: ``returnableFulfillments`` says which fulfillment line items still hold returnable
  units; each item's quantity is spread over them; every line note starts with the RMA (the only
  way to find a return whose creation answer was lost: §5 of docs/reference/shopify-returns.md).
  A reason definition is required (§6.6). Exchange lines can only be given here (§5).
- Remove: lines leave an open return (an item that becomes an exchange after creation moves to a
  new return; a failed exchange switched to a refund drops its exchange lines).
- Close once Boomerang closed the return and every line is processed; cancel only before any work
  (Shopify: "Return is not cancelable." after — §6.7).
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete

from app.domain import issuing as rules
from app.domain.issuing import CallState, ExchangeMode, Phase, ShopifyReturnStatus
from app.domain.vocabulary import ItemResolution, Option, RestockState, ReturnStatus
from app.extensions import db
from app.models import OrderLine, ReturnItem, ShopifyReturn
from app.services import shopify_calls as calls
from app.services.issuing_context import DONE, IN_PROGRESS, Ctx, fail_item, lines_of, note
from app.services.return_fees import restocking_fee_input, shipping_fee_due, shipping_fee_input
from app.shopify import returns as shopify
from app.shopify.return_values import ReturnState
from app.shopify.operations import order_gid



def start_call(ctx: Ctx, phase: Phase, build, also=None) -> tuple[object, bool] | str:
    """The call to send now: (call, reconcile), or IN_PROGRESS / DONE. ``build`` returns
    (round, variables, expect) or None (nothing to do), and is called only for a new round;
    ``also`` runs in the claim's transaction (see ``shopify_calls.claim``)."""
    call = calls.current_call(ctx.ref.id, phase.value)
    if call is not None and call.state == CallState.CLAIMED.value:
        if not calls.due_for_takeover(call) or not calls.take_over(call):
            return IN_PROGRESS
        return call, True
    built = build(call)
    if built is None:
        return DONE
    round_, variables, expect = built
    claimed = calls.claim(ctx.ref.id, phase.value, round_, variables, expect, also)
    return (claimed, False) if claimed is not None else IN_PROGRESS


def next_round(call) -> int:
    """The round after ``call`` (1 when there was none)."""
    return 1 if call is None else call.round + 1


# --- create --------------------------------------------------------------------------------------

ROUNDS = 5  # a refusal naming some items leaves the others for another round, at once


def create_step(ctx: Ctx) -> str:
    """Create the Shopify return (once) if it is still only planned."""
    for _ in range(ROUNDS):
        result = _create_round(ctx)
        if result != DONE or ctx.ref.status != ShopifyReturnStatus.PENDING.value:
            return result
    return DONE


def _create_round(ctx: Ctx) -> str:
    ref = ctx.ref
    if ref.status != ShopifyReturnStatus.PENDING.value:
        return DONE
    moved = _move_out_of_other_returns(ctx)
    if moved != DONE:
        return moved
    started = start_call(ctx, Phase.CREATE, lambda last: _build_create(ctx, last))
    if isinstance(started, str):
        if started == DONE and not ctx.items():
            ref.status = ShopifyReturnStatus.REFUSED.value
            ref.failure_reason = ref.failure_reason or "No item of the return could be placed in it."
            db.session.commit()
        return IN_PROGRESS if started == IN_PROGRESS else DONE
    call, reconcile = started
    outcome = calls.run_call(call, send=lambda v: shopify.create_return(ctx.client, v),
                             find=lambda c: _find_created(ctx), reconcile=reconcile)
    if outcome.done:
        _record_created(ctx, call, outcome.result)
        return DONE
    _record_refused(ctx, call, outcome.error, outcome.result)
    return DONE


def _build_create(ctx: Ctx, last) -> tuple[int, dict, dict] | None:
    items = ctx.items()
    if not items:
        return None
    units = [rules.Returnable(u.fulfillment_line_item_id, u.line_item_id, u.quantity, u.location_id)
             for u in shopify.returnable_units(ctx.client, ctx.ret.shopify_order_id)]
    reasons = _reason_ids(ctx, [rules.reason_handle(i.reason) for i in items])
    taken: dict[int, int] = {}
    lines, exchanges, line_items, exchange_items, placed = [], [], [], [], []
    marker = ref_marker(ctx)
    for item in items:
        pairs = rules.spread(item.shopify_line_id, item.quantity, units, taken)
        if pairs is None:
            free = sum(u.quantity for u in units if u.line_item_id == item.shopify_line_id)
            fail_item(item, f"Shopify shows only {free} of these units as still returnable (a return made "
                      "in Shopify may have taken them); this item cannot be returned here.", detach=True)
            continue
        reason_id = reasons.get(rules.reason_handle(item.reason)) or reasons.get(rules.OTHER_REASON_HANDLE)
        item.shopify_lines = []
        restocking = restocking_fee_input(item)
        for unit, qty in pairs:
            line = {"fulfillmentLineItemId": shopify.gid("FulfillmentLineItem", unit.fulfillment_line_item_id),
                    "quantity": qty, "returnReasonNote": rules.reason_note(marker, item.reason, item.note)}
            if reason_id:
                line["returnReasonDefinitionId"] = shopify.gid("ReturnReasonDefinition", reason_id)
            if restocking:
                line["restockingFee"] = restocking
            lines.append(line)
            line_items.append(item.id)
            item.shopify_lines.append({"ref": ctx.ref.id, "fli": unit.fulfillment_line_item_id, "qty": qty,
                                       "location": unit.location_id})
        placed.append(item)
        if _gets_exchange_lines(ctx, item):
            for _ in range(item.quantity):
                exchanges.append(_exchange_line(ctx, item))
                exchange_items.append(item.id)
    db.session.commit()  # failures and the planned spread, whatever happens to the call
    if not placed:
        return None
    return_input = {"orderId": order_gid(ctx.ret.shopify_order_id), "returnLineItems": lines}
    if exchanges:
        return_input["exchangeLineItems"] = exchanges
    # The return shipping fee is taken once per RMA: with its first Shopify return.
    if ctx.ref.seq == 1 and shipping_fee_due(ctx.ret, placed):
        _add_shipping_fee(ctx, return_input)
    return (next_round(last), {"returnInput": return_input},
            {"marker": marker, "line_items": line_items, "exchange_items": exchange_items})


def _add_shipping_fee(ctx: Ctx, return_input: dict) -> None:
    currency = shopify.presentment_currency(ctx.client, ctx.ret.shopify_order_id)
    fee = shipping_fee_input(ctx.ret, currency)
    if fee:
        return_input["returnShippingFee"] = fee
    elif not any(e.kind == "fee_left_out" for e in ctx.ret.events):
        note(ctx.ret, "fee_left_out", f"Return shipping fee not taken: the customer paid in {currency}, and the fee "
                                      f"is set in {ctx.ret.currency}.")


def ref_marker(ctx: Ctx) -> str:
    """The marker of this Shopify return (stored once, so a renamed RMA cannot lose it)."""
    if not ctx.ref.marker:
        ctx.ref.marker = rules.return_marker(ctx.ret.rma_number, ctx.ref.seq)
    return ctx.ref.marker


def _gets_exchange_lines(ctx: Ctx, item: ReturnItem) -> bool:
    return (item.option == Option.EXCHANGE and item.resolution == ItemResolution.DECIDED
            and item.exchange_variant_id is not None and ctx.account.exchange_mode == ExchangeMode.SHOPIFY.value)


def _exchange_line(ctx: Ctx, item: ReturnItem) -> dict:
    """One exchanged unit, with the fixed discount that nets it to zero against the returned unit."""
    price = item.exchange_variant_price
    if price is None:
        stock = shopify.variants_stock(ctx.client, [item.exchange_variant_id]).get(item.exchange_variant_id)
        price = stock.price if stock else Decimal(0)
        item.exchange_variant_price = price
    line = {"variantId": shopify.gid("ProductVariant", item.exchange_variant_id), "quantity": 1}
    discount = rules.exchange_discount(Decimal(price), Decimal(item.unit_value))
    # In the shop's currency, as our prices and values are (which currency Shopify expects for
    # an order presented in another one: unverified, docs/reference/shopify-returns.md §6.9).
    if discount > 0:
        line["appliedDiscount"] = {"description": f"Exchange for return {ctx.ret.rma_number}",
                                   "value": {"amount": {"amount": str(discount),
                                                        "currencyCode": ctx.ret.currency}}}
    return line


def _reason_ids(ctx: Ctx, handles: list[str]) -> dict[str, int]:
    """Shopify's reason definition ids by handle, read once per shop and kept on the account."""
    known = dict(ctx.account.return_reason_definitions or {})
    wanted = set(handles) | {rules.OTHER_REASON_HANDLE}
    if not wanted <= set(known):
        known.update(shopify.reason_definition_ids(ctx.client, sorted(wanted | set(known))))
        ctx.account.return_reason_definitions = known
        db.session.commit()
    return {h: int(v) for h, v in known.items()}


def _find_created(ctx: Ctx) -> ReturnState | None:
    """The return an earlier attempt created: the order's return whose lines carry our marker."""
    marker = ref_marker(ctx)
    for summary in shopify.order_returns(ctx.client, ctx.ret.shopify_order_id):
        if summary.status != "CANCELED" and any(rules.has_marker(ln.note, marker) for ln in summary.lines):
            return shopify.fetch_return(ctx.client, summary.id)
    return None


def _record_created(ctx: Ctx, call, state: ReturnState) -> None:
    ref = ctx.ref
    # A returns/* webhook that outran this job may have stored it as made in Shopify: it is ours.
    db.session.execute(delete(ShopifyReturn).where(
        ShopifyReturn.account_id == ref.account_id, ShopifyReturn.shopify_return_id == state.id,
        ShopifyReturn.made_in_shopify.is_(True)).execution_options(synchronize_session=False))
    ref.shopify_return_id, ref.name, ref.status = state.id, state.name, ShopifyReturnStatus.OPEN.value
    ref.failure_reason = None
    by_fli = {ln.fulfillment_line_item_id: ln for ln in state.lines if rules.has_marker(ln.note, ref.marker)}
    free_exchanges = list(state.exchange_lines)
    exchange_items = set((call.expect or {}).get("exchange_items") or ())
    for item in ctx.items():
        placed = []
        for entry in lines_of(item):
            line, reverse = by_fli.get(entry["fli"]), state.reverse_line_for(entry["fli"])
            placed.append({**entry, "ref": ref.id, "rli": line.id if line else None,
                           "rfo": reverse.reverse_fulfillment_order_id if reverse else None,
                           "rfoli": reverse.id if reverse else None})
        item.shopify_lines = placed
        if item.id in exchange_items:
            mine = [x for x in free_exchanges if x.variant_id == item.exchange_variant_id][:item.quantity]
            free_exchanges = [x for x in free_exchanges if x not in mine]
            item.exchange_line_ids = [x.id for x in mine]
        _take_returnable(item, -item.quantity)
    calls.finish(call, CallState.DONE)
    note(ctx.ret, "shopify_return", f"Shopify return {state.name} created on order {ctx.ret.order_name}.",
         shopify_return_id=state.id)
    db.session.commit()


def _record_refused(ctx: Ctx, call, error: str, refused) -> None:
    """Shopify refused the whole input: fail the items its errors name (they leave the return),
    or every item when it names none; the others are tried again in the next round."""
    expect = call.expect or {}
    named = items_named(refused, {"returnLineItems": expect.get("line_items") or [],
                                   "exchangeLineItems": expect.get("exchange_items") or []})
    for item in ctx.items():
        if not named or item.id in named:
            fail_item(item, error or "Shopify refused to create the return.", detach=True)
    calls.finish(call, CallState.REFUSED, error)
    if not named:
        ctx.ref.status, ctx.ref.failure_reason = ShopifyReturnStatus.REFUSED.value, error
    db.session.commit()


def items_named(refused, index: dict[str, list[int]]) -> set[int]:
    """Items whose input lines Shopify's userErrors point at (field […, "returnLineItems", "2", …])."""
    named = set()
    for err in getattr(refused, "items", ()) or ():
        field = list(err.field)
        for key, owners in index.items():
            if key in field:
                pos = field.index(key) + 1
                if pos < len(field) and field[pos].isdigit() and int(field[pos]) < len(owners):
                    named.add(owners[int(field[pos])])
    return named


def _take_returnable(item: ReturnItem, delta: int) -> None:
    """Keep the line's stored returnable quantity in step with what our returns take or give back."""
    line = db.session.get(OrderLine, item.order_line_id) if item.order_line_id else None
    if line is not None and line.returnable_quantity is not None:
        line.returnable_quantity = max(0, line.returnable_quantity + delta)


# --- remove --------------------------------------------------------------------------------------

def _move_out_of_other_returns(ctx: Ctx) -> str:
    """Items planned into this return whose units still sit in another (open) Shopify return:
    take them out of it first, so they are returnable again."""
    for item in ctx.items():
        for old_ref_id in {ln.get("ref") for ln in lines_of(item) if ln.get("ref") != ctx.ref.id}:
            old = db.session.get(ShopifyReturn, old_ref_id)
            if old is None or old.status != ShopifyReturnStatus.OPEN.value:
                item.shopify_lines = [ln for ln in lines_of(item) if ln.get("ref") != old_ref_id]
                db.session.commit()
                continue
            old_ctx = Ctx(ctx.account, ctx.ret, old, ctx.client)
            lines = [{"returnLineItemId": shopify.gid("ReturnLineItem", ln["rli"]), "quantity": ln["qty"]}
                     for ln in lines_of(item) if ln.get("ref") == old_ref_id and ln.get("rli")]
            result = remove_lines(old_ctx, item, return_lines=lines)
            if result != DONE:
                return result
            item.shopify_lines = [ln for ln in lines_of(item) if ln.get("ref") != old_ref_id]
            item.exchange_line_ids = None
            db.session.commit()
    return DONE


def remove_step(ctx: Ctx) -> str:
    """Decided items that are no longer exchanges drop their exchange lines before processing."""
    for item in ctx.items(ItemResolution.DECIDED):
        if item.option != Option.EXCHANGE and item.exchange_line_ids:
            lines = [{"exchangeLineItemId": shopify.gid("ExchangeLineItem", x), "quantity": 1}
                     for x in item.exchange_line_ids]
            result = remove_lines(ctx, item, exchange_lines=lines)
            if result != DONE:
                return result
            item.exchange_line_ids = None
            db.session.commit()
    return DONE


def remove_lines(ctx: Ctx, item: ReturnItem, *, return_lines=(), exchange_lines=()) -> str:
    """removeFromReturn for one item's lines, claimed; DONE once Shopify no longer holds them."""
    variables = {"returnId": shopify.return_gid(ctx.ref.shopify_return_id),
                 "returnLineItems": list(return_lines) or None, "exchangeLineItems": list(exchange_lines) or None}
    gone = {"rli": [int(x["returnLineItemId"].rsplit("/", 1)[1]) for x in return_lines],
            "eli": [int(x["exchangeLineItemId"].rsplit("/", 1)[1]) for x in exchange_lines], "item": item.id}
    started = start_call(ctx, Phase.REMOVE, lambda last: (next_round(last), variables, gone))
    if isinstance(started, str):
        return started
    call, reconcile = started
    outcome = calls.run_call(call, send=lambda v: shopify.remove_from_return(ctx.client, v),
                             find=lambda c: _find_removed(ctx, c.expect), reconcile=reconcile)
    if outcome.done:
        calls.finish(call, CallState.DONE)
        note(ctx.ret, "shopify_return", f"{item.title}: taken out of Shopify return {ctx.ref.name}.")
    else:
        calls.finish(call, CallState.REFUSED, outcome.error)
        fail_item(item, outcome.error or "Shopify refused to change the return.")
    db.session.commit()
    return DONE


def _find_removed(ctx: Ctx, expect: dict):
    state = shopify.fetch_return(ctx.client, ctx.ref.shopify_return_id)
    if state is None:
        return None
    still = {ln.id for ln in state.lines if ln.quantity} | {x.id for x in state.exchange_lines if x.quantity}
    return state if not (set(expect.get("rli") or ()) | set(expect.get("eli") or ())) & still else None


# --- close and cancel ----------------------------------------------------------------------------

def close_step(ctx: Ctx) -> str:
    """returnClose once Boomerang closed the return and every line of this Shopify return is
    processed and its units disposed of."""
    if ctx.ref.status != ShopifyReturnStatus.OPEN.value or ctx.ret.status != ReturnStatus.CLOSED:
        return DONE
    items = ctx.items()
    if not items or any(i.resolution != ItemResolution.ISSUED.value or i.restock_state == RestockState.PENDING
                        for i in items):
        return DONE
    return _status_call(ctx, Phase.CLOSE, shopify.close_return, ShopifyReturnStatus.CLOSED,
                        ("closed", "close"))


def cancel_step(ctx: Ctx) -> str:
    """returnCancel when the Boomerang return was cancelled (Shopify allows it only before work)."""
    if ctx.ret.status != ReturnStatus.CANCELLED:
        return DONE
    if ctx.ref.status == ShopifyReturnStatus.PENDING.value:
        call = calls.current_call(ctx.ref.id, Phase.CREATE.value)
        if call is None or call.state != CallState.CLAIMED.value:
            ctx.ref.status = ShopifyReturnStatus.CANCELED.value
            db.session.commit()
        return DONE
    if ctx.ref.status != ShopifyReturnStatus.OPEN.value:
        return DONE
    result = _status_call(ctx, Phase.CANCEL, shopify.cancel_return, ShopifyReturnStatus.CANCELED,
                          ("cancelled", "cancel"))
    if ctx.ref.status == ShopifyReturnStatus.CANCELED.value:
        for item in ctx.items():
            _take_returnable(item, item.quantity)
        db.session.commit()
    return result


def _status_call(ctx: Ctx, phase: Phase, mutation, status: ShopifyReturnStatus,
                 words: tuple[str, str]) -> str:
    """returnClose / returnCancel, claimed once; the status is read back before any resend."""
    shopify_status = status.value  # Shopify's own spelling: CLOSED, CANCELED
    variables = {"id": shopify.return_gid(ctx.ref.shopify_return_id)}
    # Sent once: a refusal (e.g. "Return is not cancelable.") is final and stays on record.
    started = start_call(ctx, phase, lambda last: None if last is not None else (1, variables,
                                                                             {"status": shopify_status}))
    if isinstance(started, str):
        return started
    call, reconcile = started

    def find(_call):
        state = shopify.fetch_return(ctx.client, ctx.ref.shopify_return_id)
        return state.status if state is not None and state.status == shopify_status else None

    outcome = calls.run_call(call, send=lambda v: mutation(ctx.client, int(v["id"].rsplit("/", 1)[1])),
                             find=find, reconcile=reconcile)
    done_word, verb = words
    if outcome.done:
        calls.finish(call, CallState.DONE)
        ctx.ref.status = status.value
        note(ctx.ret, "shopify_return", f"Shopify return {ctx.ref.name} {done_word}.")
    else:
        calls.finish(call, CallState.REFUSED, outcome.error)
        ctx.ref.failure_reason = outcome.error
        note(ctx.ret, "shopify_return", f"Shopify did not {verb} return {ctx.ref.name}. {outcome.error}")
    db.session.commit()
    return DONE

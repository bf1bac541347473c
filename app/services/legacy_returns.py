"""Recording in Shopify the returns Boomerang issued before it used Shopify returns.

Credit notes (gift cards) and exchanges ($0 draft orders) issued the old way left no return on the
order: Shopify's reports count no return, and its own returns could take the same units again.
An operator may record them afterwards as Shopify returns processed with no money moved and no
restock (the gift card or exchange order already exists; the units were never restocked by
Boomerang, or were restocked already by hand). This never runs by itself: ``flask returns
record-legacy`` lists what it would do, and only ``--apply`` does it.

Refunds issued the old way are left alone: ``refundCreate`` with line items already told Shopify
the units came back (they are refunded, so not returnable).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.domain import issuing as rules
from app.domain.issuing import LEGACY_SEQ, CallState, IssuingMethod, Phase, ShopifyReturnStatus, legacy_marker
from app.domain.vocabulary import ItemResolution, Option, ReturnStatus
from app.extensions import db
from app.models import Account, Return, ReturnItem, ShopifyReturn
from app.services import shopify_calls as calls
from app.services.issuing_context import Ctx, ReleasingClient, note
from app.services.shopify_access import client_for
from app.shopify import errors as E
from app.shopify import returns as shopify
from app.shopify.return_values import ReturnLine
from app.shopify.operations import order_gid


@dataclass
class LegacyRecord:
    """One return whose legacy credit notes or exchanges are not yet in a Shopify return."""

    return_id: int
    rma_number: str
    order_name: str
    items: list[tuple[int, str, int]]   # (item id, title, quantity)
    outcome: str = "to record"
    details: list[str] = field(default_factory=list)


def unrecorded(account_id: int | None = None) -> list[LegacyRecord]:
    """Returns with credit notes or exchanges issued the old way and in no Shopify return."""
    query = (select(ReturnItem).join(Return, Return.id == ReturnItem.return_id)
             .where(ReturnItem.issuing_method == IssuingMethod.LEGACY.value,
                    ReturnItem.resolution == ItemResolution.ISSUED.value,
                    ReturnItem.option.in_((Option.CREDIT, Option.EXCHANGE)), ReturnItem.shopify_return_ref_id.is_(None))
             .order_by(Return.id, ReturnItem.id))
    if account_id is not None:
        query = query.where(Return.account_id == account_id)
    found: dict[int, LegacyRecord] = {}
    for item in db.session.scalars(query):
        ret = item.return_
        record = found.setdefault(ret.id, LegacyRecord(ret.id, ret.rma_number, ret.order_name, []))
        record.items.append((item.id, item.title, item.quantity))
    return list(found.values())


def record_legacy_return(return_id: int) -> LegacyRecord:
    """Create, process (no money, not restocked) and close the Shopify return of one return's
    legacy credit notes and exchanges; safe to run twice (each call is claimed and read back)."""
    ret = db.session.get(Return, return_id)
    record = next((r for r in unrecorded() if r.return_id == return_id), None)
    ref = db.session.scalar(select(ShopifyReturn).where(ShopifyReturn.return_id == return_id,
                                                        ShopifyReturn.seq == LEGACY_SEQ))
    if record is None and ref is None:
        return LegacyRecord(return_id, ret.rma_number if ret else "?", ret.order_name if ret else "?", [],
                            outcome="nothing to record")
    if ref is None:
        ref = ShopifyReturn(account_id=ret.account_id, return_id=ret.id, shopify_order_id=ret.shopify_order_id,
                            seq=LEGACY_SEQ, marker=legacy_marker(ret.rma_number),
                            status=ShopifyReturnStatus.PENDING.value)
        db.session.add(ref)
        db.session.flush()
        for item_id, _title, _qty in record.items:
            db.session.get(ReturnItem, item_id).shopify_return_ref_id = ref.id
        db.session.commit()
    account = db.session.get(Account, ret.account_id)
    ctx = Ctx(account, ret, ref, ReleasingClient(client_for(account)))
    items = list(db.session.scalars(select(ReturnItem).where(ReturnItem.shopify_return_ref_id == ref.id)))
    record = record or LegacyRecord(ret.id, ret.rma_number, ret.order_name,
                                    [(i.id, i.title, i.quantity) for i in items])
    try:
        _create(ctx, items)
        _process(ctx, items)
        _close(ctx)
    except E.UserErrorsError as refused:
        record.outcome = calls.user_error_text(refused)
        return record
    record.outcome = f"recorded as {ref.name} ({ref.status.lower()})"
    return record


def _run(ctx: Ctx, phase: Phase, variables: dict, send, find):
    call = calls.current_call(ctx.ref.id, phase.value)
    if call is not None and call.state == CallState.DONE.value:
        return None
    reconcile = call is not None and call.state == CallState.CLAIMED.value
    if call is None or call.state == CallState.REFUSED.value:
        call = calls.claim(ctx.ref.id, phase.value, (call.round + 1) if call else 1, variables)
        if call is None:
            raise E.ShopifyError("another worker is recording this return")
    elif reconcile and not calls.take_over(call):
        raise E.ShopifyError("another worker is recording this return")
    outcome = calls.run_call(call, send=send, find=find, reconcile=reconcile)
    calls.finish(call, CallState.DONE if outcome.done else CallState.REFUSED, outcome.error)
    db.session.commit()
    if not outcome.done:
        raise outcome.result
    return outcome.result


def _create(ctx: Ctx, items: list[ReturnItem]) -> None:
    if ctx.ref.status != ShopifyReturnStatus.PENDING.value:
        return
    units = [rules.Returnable(u.fulfillment_line_item_id, u.line_item_id, u.quantity, u.location_id)
             for u in shopify.returnable_units(ctx.client, ctx.ret.shopify_order_id)]
    reasons = shopify.reason_definition_ids(ctx.client, [rules.OTHER_REASON_HANDLE])
    taken: dict[int, int] = {}
    lines = []
    for item in items:
        pairs = rules.spread(item.shopify_line_id, item.quantity, units, taken) or []
        item.shopify_lines = [{"ref": ctx.ref.id, "fli": u.fulfillment_line_item_id, "qty": q} for u, q in pairs]
        lines += [{"fulfillmentLineItemId": shopify.gid("FulfillmentLineItem", u.fulfillment_line_item_id),
                   "quantity": q, "returnReasonNote": rules.reason_note(ctx.ref.marker, item.reason, None),
                   "returnReasonDefinitionId": shopify.gid("ReturnReasonDefinition",
                                                           reasons[rules.OTHER_REASON_HANDLE])}
                  for u, q in pairs]
    db.session.commit()
    variables = {"returnInput": {"orderId": order_gid(ctx.ret.shopify_order_id), "returnLineItems": lines}}

    def find(_call):
        for summary in shopify.order_returns(ctx.client, ctx.ret.shopify_order_id):
            if summary.status != "CANCELED" and any(rules.has_marker(ln.note, ctx.ref.marker) for ln in summary.lines):
                return shopify.fetch_return(ctx.client, summary.id)
        return None

    state = _run(ctx, Phase.CREATE, variables, lambda v: shopify.create_return(ctx.client, v), find)
    state = state or find(None)
    ctx.ref.shopify_return_id, ctx.ref.name, ctx.ref.status = state.id, state.name, ShopifyReturnStatus.OPEN.value
    by_fli = {ln.fulfillment_line_item_id: ln for ln in state.lines}
    for item in items:
        item.shopify_lines = [{**ln, "rli": by_fli[ln["fli"]].id,
                               "rfoli": getattr(state.reverse_line_for(ln["fli"]), "id", None)}
                              for ln in item.shopify_lines or () if ln["fli"] in by_fli]
    note(ctx.ret, "shopify_return", f"Shopify return {state.name} records the items issued before Boomerang "
         "used Shopify returns.")
    db.session.commit()


def _process(ctx: Ctx, items: list[ReturnItem]) -> None:
    lines = [{"id": shopify.gid("ReturnLineItem", ln["rli"]), "quantity": ln["qty"],
              "dispositions": [{"reverseFulfillmentOrderLineItemId": shopify.gid(
                  "ReverseFulfillmentOrderLineItem", ln["rfoli"]), "quantity": ln["qty"],
                  "dispositionType": "NOT_RESTOCKED"}] if ln.get("rfoli") else []}
             for item in items for ln in item.shopify_lines or ()]
    variables = {"input": {"returnId": shopify.return_gid(ctx.ref.shopify_return_id), "returnLineItems": lines,
                           "notifyCustomer": False}}

    def find(_call):
        state = shopify.fetch_return(ctx.client, ctx.ref.shopify_return_id)
        done = state and all((state.line(int(line["id"].rsplit("/", 1)[1]))
                              or ReturnLine(0, None, None, 0, 0, "")).processed_quantity >= line["quantity"]
                             for line in lines)
        return state if done else None

    _run(ctx, Phase.PROCESS, variables, lambda v: shopify.process_return(ctx.client, v), find)


def _close(ctx: Ctx) -> None:
    if ctx.ret.status != ReturnStatus.CLOSED:
        return

    def find(_call):
        state = shopify.fetch_return(ctx.client, ctx.ref.shopify_return_id)
        return state.status if state and state.status == "CLOSED" else None

    _run(ctx, Phase.CLOSE, {"id": shopify.return_gid(ctx.ref.shopify_return_id)},
         lambda v: shopify.close_return(ctx.client, ctx.ref.shopify_return_id), find)
    ctx.ref.status = ShopifyReturnStatus.CLOSED.value
    db.session.commit()

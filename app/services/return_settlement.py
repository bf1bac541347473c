"""After the money: units disposed of at receipt, pending refunds followed, outside refunds recorded.

- Under First scan a return is processed while the parcel travels, without dispositions; once it
  is received, ``reverseFulfillmentOrderDispose`` restocks the units (or records them as not
  restocked). Shopify refuses lines of two reverse fulfillment orders in one call (§6.1), so there
  is one call per reverse fulfillment order.
- A refund whose transactions are pending is read again until they are final (SUCCESS → paid;
  FAILURE or ERROR → the item goes to staff with Shopify's error code).
- Staff may record a refund made outside Shopify (cash back in the shop, a bank transfer): the
  Shopify return then records the units with no money moved.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from app.domain.formatting import format_money
from app.domain.issuing import CallState, IssuingMethod, Phase, RefundState
from app.domain.returns import ReturnRefused
from app.domain.vocabulary import ItemResolution, Option, RestockState
from app.extensions import db
from app.services import milestones
from app.services.milestones import Milestone
from app.models import Account, Return, ReturnItem, ShopifyCall, ShopifyReturn
from app.services import shopify_calls as calls
from app.services.issuing_context import DONE, Ctx, fail_item, lines_of, note, now
from app.services.return_money import FAILED_TX, SETTLED, disposition_input
from app.services.return_shape import next_round, start_call
from app.services.shopify_access import client_for
from app.shopify import returns as shopify

OUTSIDE_METHOD_MAX = 120


# --- disposal at receipt -------------------------------------------------------------------------

def dispose_step(ctx: Ctx) -> str:
    """Dispose of units processed while they travelled, once the return is received."""
    if not ctx.received:
        return DONE
    waiting = [i for i in ctx.items(ItemResolution.ISSUED.value, ItemResolution.ISSUING.value,
                                    ItemResolution.FAILED.value)
               if i.restock_state == RestockState.PENDING.value and i.process_call_id]
    by_rfo: dict[int, list[tuple[ReturnItem, dict]]] = {}
    for item in waiting:
        for line in lines_of(item):
            by_rfo.setdefault(line.get("rfo") or 0, []).append((item, line))
    for _rfo, entries in sorted(by_rfo.items()):
        result = _dispose_one(ctx, entries)
        if result != DONE:
            return result
    return DONE


def _dispose_one(ctx: Ctx, entries: list[tuple[ReturnItem, dict]]) -> str:
    inputs = [disposition_input(ctx, line, kept=item.keep_item) for item, line in entries]
    expect = {"lines": {str(line["rfoli"]): line["qty"] for _, line in entries},
              "items": sorted({item.id for item, _ in entries})}
    started = start_call(ctx, Phase.DISPOSE, lambda last: (next_round(last), {"dispositionInputs": inputs},
                                                            expect))
    if isinstance(started, str):
        return started
    call, reconcile = started

    def find(c):
        state = shopify.fetch_return(ctx.client, ctx.ref.shopify_return_id)
        if state is None:
            return None
        lines = {r.id: r for r in state.reverse_lines}
        wanted = (c.expect or {}).get("lines") or {}
        return state if all(int(k) in lines and lines[int(k)].disposed >= v for k, v in wanted.items()) else None

    outcome = calls.run_call(call, send=lambda v: shopify.dispose(ctx.client, v), find=find, reconcile=reconcile)
    done = outcome.done
    for item_id in (call.expect or {}).get("items") or ():
        item = db.session.get(ReturnItem, item_id)
        if item is None:
            continue
        item.restock_state = (RestockState.DONE if done else RestockState.FAILED).value
        item.restocked_at = now() if done else None
        restocked = any(d["dispositionType"] == "RESTOCKED" for d in call.variables["dispositionInputs"])
        note(ctx.ret, "restocked" if done else "restock_failed",
             f"{item.title}: {item.quantity} {'back in stock' if restocked else 'recorded as not restocked'}."
             if done else f"{item.title}: Shopify did not record the units' disposal. {outcome.error}",
             item_id=item.id)
    calls.finish(call, CallState.DONE if done else CallState.REFUSED, outcome.error)
    db.session.commit()
    return DONE


# --- pending refunds -------------------------------------------------------------------------------

def pending_refund_items(limit: int = 500) -> list[int]:
    """Items whose refund Shopify reported pending."""
    return list(db.session.scalars(select(ReturnItem.id).where(
        ReturnItem.refund_state == RefundState.PENDING.value,
        ReturnItem.issuing_method == IssuingMethod.RETURNS.value,
        ReturnItem.shopify_refund_id.is_not(None)).order_by(ReturnItem.id).limit(limit)))


def follow_refunds(item_ids: list[int] | None = None) -> int:
    """Read each pending refund once (one read per refund, however many items share it) and
    record what became final. Returns how many items changed."""
    items = [db.session.get(ReturnItem, i) for i in (item_ids if item_ids is not None else pending_refund_items())]
    by_refund: dict[tuple[int, int], list[ReturnItem]] = {}
    for item in items:
        if item is not None and item.refund_state == RefundState.PENDING.value:
            by_refund.setdefault((item.return_.account_id, item.shopify_refund_id), []).append(item)
    changed = 0
    for (account_id, refund_id), group in by_refund.items():
        refund = shopify.refund_status(client_for(db.session.get(Account, account_id)), refund_id)
        statuses = {t.status for t in (refund.transactions if refund else ()) if t.kind == "REFUND"}
        if statuses & FAILED_TX:
            code = next(t.error_code for t in refund.transactions if t.status in FAILED_TX)
            for item in group:
                item.refund_state, item.refund_error = RefundState.FAILED.value, code
                fail_item(item, f"The refund failed at the payment provider ({code or 'no reason given'}). "
                          "The return is recorded in Shopify; record a refund made outside Shopify.")
                changed += 1
        elif statuses and statuses <= SETTLED:
            for item in group:
                item.refund_state = RefundState.PAID.value
                item.return_.add_event("refund_paid", f"{item.title}: the refund has been paid.", "system",
                                       data={"item_id": item.id})
                changed += 1
        db.session.commit()
    return changed


# --- refunds made outside Shopify ------------------------------------------------------------------

def record_outside_refund(item: ReturnItem, *, amount: str, method: str, paid_on: datetime,
                          actor: str | None) -> None:
    """Staff record that they refunded an item themselves. Before processing, the item is decided
    again so its Shopify return records the units with no money moved; after a refund that failed
    in Shopify, the refund is only recorded. Raises ReturnRefused with the reason."""
    db.session.refresh(item)
    if item.option != Option.REFUND or item.resolution != ItemResolution.FAILED.value:
        raise ReturnRefused("Only a refund Shopify could not pay can be recorded as refunded outside Shopify.")
    try:
        value = Decimal(str(amount).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ReturnRefused("Enter the amount refunded, e.g. 24.50.") from None
    if not value.is_finite() or value <= 0 or value > Decimal("1000000"):
        raise ReturnRefused("Enter the amount refunded, e.g. 24.50.")
    method = " ".join((method or "").split())
    if not method or len(method) > OUTSIDE_METHOD_MAX:
        raise ReturnRefused(f"Say how it was refunded (at most {OUTSIDE_METHOD_MAX} characters).")
    if paid_on > now():
        raise ReturnRefused("The refund date cannot be in the future.")
    item.outside_refund_amount, item.outside_refund_method = value, method
    item.outside_refund_at, item.outside_refund_by = paid_on, actor
    # Nothing more goes to Shopify when the units are already processed (the refund failed after),
    # or when the item was on the old method (its Shopify record is the refund that failed).
    processed = (item.process_call_id is not None and item.refund_state == RefundState.FAILED.value) \
        or item.issuing_method == IssuingMethod.LEGACY.value
    item.refund_state, item.failure_reason = RefundState.OUTSIDE.value, None
    if processed:
        item.resolution, item.issued_amount, item.issued_at = ItemResolution.ISSUED.value, value, now()
        milestones.announce(item.return_, Milestone.ITEM_ISSUED, item_id=item.id, option=item.option)
    else:
        item.resolution = ItemResolution.DECIDED.value
    item.return_.add_event("outside_refund", f"{item.title}: {format_money(value, item.return_.currency)} refunded "
                           f"outside Shopify ({method}), recorded by staff.", actor, data={"item_id": item.id})
    db.session.commit()


def return_is_processed_in_shopify(ret: Return) -> bool:
    """Whether any Shopify return of this return has been worked on (processed or disposed)."""
    return db.session.scalar(select(ShopifyCall.id).join(ShopifyReturn).where(
        ShopifyReturn.return_id == ret.id, ShopifyCall.phase.in_((Phase.PROCESS.value, Phase.DISPOSE.value)),
        ShopifyCall.state != CallState.REFUSED.value).limit(1)) is not None

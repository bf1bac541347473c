"""A return the shop reviews, in Shopify: the return request approved or declined there.

A reviewed return without an exchange is a Shopify return request: ``returnRequest`` at
submission (the create step, app/services/return_shape.py), then — once staff decide
(app/services/return_review.py) — ``returnApproveRequest`` (REQUESTED → OPEN; its reverse
fulfillment order is made now) or ``returnDeclineRequest`` (REQUESTED → DECLINED, with Shopify's
reason and the shop's note). 2026-04 schema: ``ReturnApproveRequestInput {id, notifyCustomer}``,
``ReturnDeclineRequestInput {id, declineReason: ReturnDeclineReason!, notifyCustomer,
declineNote}`` ("Maximum length: 500 characters").

Neither mutation takes an idempotency key (docs/reference/shopify-returns.md §5), so each is one
claimed call (app/services/shopify_calls.py): a call whose answer was lost, or whose worker died
before recording it, is reconciled by reading the return's status back from Shopify before the
stored variables are ever sent again. Shopify's own notification is not asked for
(``notifyCustomer: false``): the shopper reads the outcome, and the shop's message, on
Boomerang's status page and gets no second, differently worded email.
"""
from __future__ import annotations

from app.domain.issuing import CallState, Phase, ShopifyReturnStatus
from app.domain.vocabulary import ReturnStatus
from app.extensions import db
from app.services import shopify_calls as calls
from app.services.issuing_context import DONE, Ctx, lines_of, note
from app.services.return_shape import start_call, take_returnable
from app.shopify import returns as shopify

APPROVED = (ShopifyReturnStatus.OPEN.value, ShopifyReturnStatus.CLOSED.value)


def review_step(ctx: Ctx) -> str:
    """Approve or decline the Shopify return request once staff did, one claimed call."""
    ref, ret = ctx.ref, ctx.ret
    if ref.status == ShopifyReturnStatus.PENDING.value and ret.status == ReturnStatus.DECLINED:
        call = calls.current_call(ref.id, Phase.CREATE.value)
        if call is None or call.state != CallState.CLAIMED.value:
            ref.status = ShopifyReturnStatus.DECLINED.value  # never reached Shopify: nothing to decline
            db.session.commit()
        return DONE
    if ref.status != ShopifyReturnStatus.REQUESTED.value or ret.status == ReturnStatus.REQUESTED:
        return DONE
    if ret.status == ReturnStatus.DECLINED:
        return _decline(ctx)
    return _approve(ctx)


def _variables(ctx: Ctx, **more) -> dict:
    return {"input": {"id": shopify.return_gid(ctx.ref.shopify_return_id), "notifyCustomer": False, **more}}


def _status_now(ctx: Ctx) -> str | None:
    state = shopify.fetch_return(ctx.client, ctx.ref.shopify_return_id)
    return state.status if state is not None else None


def _approve(ctx: Ctx) -> str:
    started = start_call(ctx, Phase.APPROVE, lambda last: None if last is not None else (1, _variables(ctx), None))
    if isinstance(started, str):
        return started
    call, reconcile = started

    def find(_call):
        # Approved already (the answer was lost): the return as it is now, with its reverse lines.
        state = shopify.fetch_return(ctx.client, ctx.ref.shopify_return_id)
        return state if state is not None and state.status in APPROVED else None

    outcome = calls.run_call(call, send=lambda v: shopify.approve_request(ctx.client, v), find=find,
                             reconcile=reconcile)
    # Refused because it was approved in Shopify's admin meanwhile: what staff wanted is done.
    state = outcome.result if outcome.done else find(call)
    if state is None:
        return _refused(ctx, call, outcome.error, "approve")
    ctx.ref.status = ShopifyReturnStatus.OPEN.value
    for item in ctx.items():
        placed = []
        for entry in lines_of(item):
            reverse = state.reverse_line_for(entry["fli"])
            placed.append({**entry, "rfo": reverse.reverse_fulfillment_order_id if reverse else None,
                           "rfoli": reverse.id if reverse else None})
        item.shopify_lines = placed
    calls.finish(call, CallState.DONE)
    note(ctx.ret, "shopify_return", f"Shopify return request {ctx.ref.name} approved.")
    db.session.commit()
    return DONE


def _decline(ctx: Ctx) -> str:
    ret = ctx.ret
    variables = _variables(ctx, declineReason=ret.decline_reason, declineNote=ret.decline_note)
    started = start_call(ctx, Phase.DECLINE, lambda last: None if last is not None else (1, variables, None))
    if isinstance(started, str):
        return started
    call, reconcile = started

    def find(_call):
        status = _status_now(ctx)
        return status if status == ShopifyReturnStatus.DECLINED.value else None

    outcome = calls.run_call(call, send=lambda v: shopify.decline_request(ctx.client, v), find=find,
                             reconcile=reconcile)
    if not outcome.done and find(call) is None:  # not declined in Shopify's admin meanwhile either
        return _refused(ctx, call, outcome.error, "decline")
    ctx.ref.status = ShopifyReturnStatus.DECLINED.value
    for item in ctx.items():
        take_returnable(item, item.quantity)  # a declined request holds no units
    calls.finish(call, CallState.DONE)
    note(ctx.ret, "shopify_return", f"Shopify return request {ctx.ref.name} declined.")
    db.session.commit()
    return DONE


def _refused(ctx: Ctx, call, error: str | None, verb: str) -> str:
    """Shopify refused (e.g. the request was approved or declined in Shopify's admin meanwhile):
    kept on record and shown to staff; nothing is sent again."""
    calls.finish(call, CallState.REFUSED, error)
    ctx.ref.failure_reason = error
    note(ctx.ret, "shopify_return", f"Shopify did not {verb} return request {ctx.ref.name}. {error or ''}".strip())
    db.session.commit()
    return DONE

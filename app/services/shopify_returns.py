"""Every returned unit in a Shopify return: planning them, and moving each one forward.

A Boomerang return's items are planned into a Shopify return (a ``ShopifyReturn`` row) as soon as
their options are known — when the shopper submits in customer-choice mode, after the rules job in
rules mode — and a job (``advance``) then does whatever that Shopify return needs next, in order:
create it, take lines out, process the decided items, make gift cards or separate exchange orders,
dispose of units at receipt, close it, or cancel it. Each of those is one claimed call, so the job
is safe to run any number of times, at once on several workers, and after any crash. Staff and
the return workflow never call Shopify: they queue ``advance`` by name.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app.domain.issuing import LEGACY_SEQ, CallState, IssuingMethod, ShopifyReturnStatus, has_marker
from app.domain.review import uses_request
from app.domain.vocabulary import ItemResolution, ReturnStatus
from app.extensions import db
from app.models import Account, Order, Return, ReturnItem, ShopifyCall, ShopifyReturn
from app.queue import enqueue
from app.services import labels
from app.services import shopify_calls as calls
from app.services.issuing_context import IN_PROGRESS, Ctx, ReleasingClient, fail_item
from app.services.return_bonus import bonus_step
from app.services.return_credit import exchange_order_step, gift_card_step
from app.services.return_money import process_step
from app.services.return_settlement import dispose_step
from app.services.return_review_shopify import review_step
from app.services.return_shape import cancel_step, close_step, create_step, remove_step
from app.services.shopify_access import NotConnected, client_for
from app.shopify import errors as E
from app.shopify import returns as shopify
from app.shopify.return_values import ReturnableUnit

ADVANCE = "jobs.shopify_returns.advance_shopify_return_job"
PLAN = "jobs.shopify_returns.plan_shopify_returns_job"
STEPS = (create_step, review_step, remove_step, process_step, gift_card_step, exchange_order_step, bonus_step,
         dispose_step,
         close_step, cancel_step)
# A declined or cancelled return is never planned; one awaiting review only as a Shopify return
# request, when it has no exchange (``plannable``; app/services/return_review.py).
NOT_PLANNED = (ReturnStatus.REQUESTED, ReturnStatus.DECLINED, ReturnStatus.CANCELLED)
LIVE_REFS = (ShopifyReturnStatus.PENDING.value, ShopifyReturnStatus.REQUESTED.value, ShopifyReturnStatus.OPEN.value)
UNPLACED = (ItemResolution.UNDECIDED.value, ItemResolution.DECIDED.value, ItemResolution.NO_ACTION.value)


def plan_shopify_returns(return_id: int) -> int | None:
    """Plan the return's items that are in no Shopify return yet into a new one, and queue it.
    Safe to run twice: the items are taken by one conditional UPDATE. Returns its id (or None)."""
    ret = db.session.get(Return, return_id)
    if ret is None or not plannable(ret):
        return None
    wanted = list(db.session.scalars(select(ReturnItem.id).where(
        ReturnItem.return_id == ret.id, ReturnItem.issuing_method == IssuingMethod.RETURNS.value,
        ReturnItem.shopify_return_ref_id.is_(None), ReturnItem.resolution.in_(UNPLACED))))
    if not wanted:
        return None
    seq = (db.session.scalar(select(func.max(ShopifyReturn.seq)).where(ShopifyReturn.return_id == ret.id)) or 0) + 1
    ref = ShopifyReturn(account_id=ret.account_id, return_id=ret.id, shopify_order_id=ret.shopify_order_id,
                        seq=seq, status=ShopifyReturnStatus.PENDING.value)
    db.session.add(ref)
    try:
        db.session.flush()
        taken = db.session.execute(
            update(ReturnItem).where(ReturnItem.id.in_(wanted), ReturnItem.shopify_return_ref_id.is_(None))
            .values(shopify_return_ref_id=ref.id).execution_options(synchronize_session=False)).rowcount
        if taken != len(wanted):
            raise IntegrityError("items planned meanwhile", None, Exception())
        ref_id = ref.id
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another planner took them (same seq, or the items): it queues them
        return None
    enqueue(ADVANCE, ref_id)
    return ref_id


def plannable(ret: Return) -> bool:
    """Whether the return's items may go into a Shopify return now: an open (or later) return, or
    one awaiting review that becomes a Shopify return request (no exchange: review.uses_request)."""
    if ret.status == ReturnStatus.REQUESTED:
        return uses_request(item.option for item in ret.items)
    return ret.status not in NOT_PLANNED


SQLITE_BUSY_RETRIES = 3
MAX_FAILURES = 8  # failed runs in a row after which the sweeper leaves a Shopify return to staff
GAVE_UP = "Boomerang could not finish this with Shopify"


def advance(ref_id: int) -> str:
    """Do what this Shopify return needs next, step after step, until it waits on something."""
    calls.forget_own_calls()
    for attempt in range(SQLITE_BUSY_RETRIES + 1):
        try:
            result = _advance(ref_id)
        except OperationalError as error:
            # SQLite refuses a write from a snapshot another writer has moved past ("database is
            # locked", at once, without waiting). Nothing half-done stays: every step's claim and
            # record are one transaction each, so running again picks up where it stopped.
            db.session.rollback()
            if "locked" in str(error) and attempt < SQLITE_BUSY_RETRIES:
                time.sleep(0.05 * (attempt + 1))
                continue
            _count_failure(ref_id, error)
            raise
        except Exception as error:
            _count_failure(ref_id, error)
            raise  # the queue's retries, then the sweeper (up to MAX_FAILURES)
        if result != IN_PROGRESS:  # a claim another worker holds says nothing either way
            _count_failure(ref_id, None)
        # A prepaid label bought before the Shopify return existed goes to it now.
        labels.after_shopify_return(ref_id)
        return result
    raise AssertionError("unreachable")


def _count_failure(ref_id: int, error: Exception | None) -> None:
    """One more failed run in a row, or none after a clean run. At ``MAX_FAILURES`` the items
    still waiting in this Shopify return go to staff as failed, with the error: a retry on one
    starts the count again (see ``reset_failures``)."""
    if error is not None:
        db.session.rollback()
    ref = db.session.get(ShopifyReturn, ref_id)
    gave_up = (ref.failure_reason or "").startswith(GAVE_UP) if ref is not None else False
    if ref is None or (error is None and not ref.failures and not gave_up):
        return
    if error is None:
        ref.failures = 0
        if gave_up:
            ref.failure_reason = None
        db.session.commit()
        return
    ref.failures = (ref.failures or 0) + 1
    if ref.failures >= MAX_FAILURES:
        reason = (f"{GAVE_UP} after {ref.failures} attempts ({type(error).__name__}: {error}). "
                  "Retry it once Shopify answers again.")[:2000]
        ref.failure_reason = reason
        for item in db.session.scalars(select(ReturnItem).where(
                ReturnItem.shopify_return_ref_id == ref.id,
                ReturnItem.resolution.in_((ItemResolution.DECIDED.value, ItemResolution.ISSUING.value)))):
            fail_item(item, reason)
    db.session.commit()


def reset_failures(ref_id: int | None) -> None:
    """Staff asked for another try: the sweeper picks this Shopify return up again (the caller
    commits)."""
    if ref_id is not None:
        db.session.execute(update(ShopifyReturn).where(ShopifyReturn.id == ref_id).values(failures=0))


def _advance(ref_id: int) -> str:
    ref = db.session.get(ShopifyReturn, ref_id)
    if ref is None or ref.made_in_shopify or ref.return_id is None:
        return "missing"
    if ref.seq == LEGACY_SEQ:
        return "recorded by the legacy command"
    ret = db.session.get(Return, ref.return_id)
    account = db.session.get(Account, ref.account_id)
    try:
        ctx = Ctx(account, ret, ref, ReleasingClient(client_for(account)))
    except NotConnected as exc:
        ref.failure_reason = str(exc)
        db.session.commit()
        return "not connected"
    for step in STEPS:
        try:
            result = step(ctx)
        except (E.MissingScopeError, E.RevokedTokenError, E.ShopUnavailableError) as refused:
            _blocked(ctx, step.__name__, refused)
            return "blocked"
        if result == IN_PROGRESS:
            return IN_PROGRESS
        db.session.refresh(ref)
        db.session.refresh(ret)
    return ref.status.lower()


def _blocked(ctx: Ctx, step: str, refused: E.ShopifyError) -> None:
    """Shopify refuses this connection (a missing scope, a revoked token): nothing was done. The
    reason is shown on the return; items the action is waiting on go to staff with it."""
    db.session.rollback()
    reason = str(refused)
    if isinstance(refused, E.MissingScopeError) and refused.scope:
        reason = (f"Boomerang needs the {refused.scope} access scope to record returns in Shopify. Grant it "
                  "on the Store page (reconnect), then retry the items.")
    ctx.ref.failure_reason = reason
    # A claimed call stays claimed: once the store grants the scope, it is read back before
    # anything is sent again.
    waiting = ctx.items(ItemResolution.DECIDED.value) if ctx.ret.action_triggered_at else []
    for item in waiting + ctx.items(ItemResolution.ISSUING.value):
        fail_item(item, reason)
    db.session.commit()


def queue_for_return(ret: Return) -> int:
    """Queue ``advance`` for each live Shopify return of a Boomerang return (after any change to
    the return or its items); plan a new one for items not in any."""
    refs = list(db.session.scalars(select(ShopifyReturn.id).where(
        ShopifyReturn.return_id == ret.id,
        ShopifyReturn.status.in_(LIVE_REFS))))
    unplaced = db.session.scalar(select(func.count(ReturnItem.id)).where(
        ReturnItem.return_id == ret.id, ReturnItem.issuing_method == IssuingMethod.RETURNS.value,
        ReturnItem.shopify_return_ref_id.is_(None), ReturnItem.resolution.in_(UNPLACED)))
    db.session.commit()  # no read transaction held while an in-process job runs
    for ref_id in refs:
        enqueue(ADVANCE, ref_id)
    if unplaced and plannable(ret):
        enqueue(PLAN, ret.id)
    return len(refs)


def refs_to_sweep(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Shopify returns that may need work a lost enqueue or a dead worker left undone: still
    planned, a call past its lease, decided items in a return whose action fired, a closed or
    cancelled return whose Shopify return is still open."""
    now = now or datetime.now(timezone.utc)
    settled = now - timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    stale_call = select(ShopifyCall.shopify_return_ref_id).where(
        ShopifyCall.state == CallState.CLAIMED.value, ShopifyCall.claimed_at <= now - calls.lease())
    waiting_items = select(ReturnItem.shopify_return_ref_id).join(Return, Return.id == ReturnItem.return_id).where(
        Return.action_triggered_at.is_not(None), Return.action_triggered_at <= settled,
        ReturnItem.resolution.in_((ItemResolution.DECIDED.value, ItemResolution.ISSUING.value)))
    return list(db.session.scalars(
        select(ShopifyReturn.id).join(Return, Return.id == ShopifyReturn.return_id).where(
            ShopifyReturn.made_in_shopify.is_(False), ShopifyReturn.seq != LEGACY_SEQ,
            ShopifyReturn.failures < MAX_FAILURES,
            or_((ShopifyReturn.status == ShopifyReturnStatus.PENDING.value) & (ShopifyReturn.created_at <= settled),
                # a request the shop approved or declined since (a lost enqueue)
                (ShopifyReturn.status == ShopifyReturnStatus.REQUESTED.value)
                & (Return.status != ReturnStatus.REQUESTED) & (Return.updated_at <= settled),
                ShopifyReturn.id.in_(stale_call), ShopifyReturn.id.in_(waiting_items),
                (ShopifyReturn.status == ShopifyReturnStatus.OPEN.value)
                & Return.status.in_((ReturnStatus.CLOSED, ReturnStatus.CANCELLED)) & (Return.updated_at <= settled)))
        .order_by(ShopifyReturn.id).limit(limit)))


def returns_to_plan(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Returns with items in no Shopify return a few minutes after they were made or decided (a
    lost planning enqueue): their units must still go into one. A return still awaiting review is
    left to its approval, which plans it (a decline needs nothing in Shopify then)."""
    now = now or datetime.now(timezone.utc)
    return list(db.session.scalars(
        select(Return.id).join(ReturnItem, ReturnItem.return_id == Return.id).where(
            Return.status.notin_(NOT_PLANNED),
            Return.updated_at <= now - timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"]),
            ReturnItem.issuing_method == IssuingMethod.RETURNS.value,
            ReturnItem.shopify_return_ref_id.is_(None), ReturnItem.resolution.in_(UNPLACED))
        .group_by(Return.id).order_by(Return.id).limit(limit)))


# --- what Shopify says about an order's returns ----------------------------------------------------

def refresh_order_returns(account: Account, shopify_order_id: int) -> int:
    """Read the order's returnable units and returns from Shopify: store each line's returnable
    quantity (Shopify's figure is the authority) and every return made in Shopify (its admin,
    its self-serve returns) that is not one of ours. Returns how many such returns were stored."""
    order = db.session.scalar(select(Order).where(Order.account_id == account.id,
                                                  Order.shopify_order_id == shopify_order_id))
    client = ReleasingClient(client_for(account))
    if order is not None:
        store_returnable(order, shopify.returnable_units(client, shopify_order_id))
    mine = list(db.session.execute(select(ShopifyReturn.shopify_return_id, ShopifyReturn.marker).where(
        ShopifyReturn.account_id == account.id, ShopifyReturn.made_in_shopify.is_(False),
        ShopifyReturn.shopify_order_id == shopify_order_id)))
    ours = {return_id for return_id, _ in mine if return_id}
    markers = [marker for _, marker in mine if marker]
    stored = 0
    for state in shopify.order_returns(client, shopify_order_id):
        # Ours even before its creation is recorded (the webhook can outrun the job): its notes
        # carry the marker of one of our Shopify returns.
        if state.id in ours or any(has_marker(ln.note, m) for ln in state.lines for m in markers):
            continue
        ref = db.session.scalar(select(ShopifyReturn).where(ShopifyReturn.account_id == account.id,
                                                            ShopifyReturn.shopify_return_id == state.id))
        if ref is None:
            ref = ShopifyReturn(account_id=account.id, shopify_order_id=shopify_order_id, seq=0,
                                shopify_return_id=state.id, made_in_shopify=True)
            db.session.add(ref)
        ref.name, ref.status = state.name, state.status
        ref.lines = [{"line_item_id": ln.line_item_id, "quantity": ln.quantity,
                      "processed": ln.processed_quantity} for ln in state.lines]
        stored += 1
    db.session.commit()
    return stored


def store_returnable(order: Order, units: list[ReturnableUnit]) -> None:
    """Each line's returnable quantity: the sum over its fulfillment line items (the caller commits)."""
    totals: dict[int, int] = {}
    for unit in units:
        totals[unit.line_item_id] = totals.get(unit.line_item_id, 0) + unit.quantity
    for line in order.lines:
        line.returnable_quantity = totals.get(line.shopify_line_id, 0)


def refresh_returnable_now(account: Account, order: Order) -> bool:
    """The fresh read at submission (a shopper is waiting: one short read). False when Shopify
    could not be asked; the stored figures then stand."""
    try:
        units = shopify.returnable_units(client_for(account, read_timeout=5), order.shopify_order_id)
    except (E.ShopifyError, NotConnected):
        db.session.rollback()
        return False
    store_returnable(order, units)
    db.session.commit()
    return True

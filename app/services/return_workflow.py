"""Moving a return through its lifecycle (DESIGN §5) and firing the retailer's return action.

Every status change is one conditional UPDATE (`… WHERE status IN (the states it may come from)`),
so a double click, two staff members or a tracking event racing a button change the return once.
The return action fires once per return, on entering its state or any later one: the moment
`action_triggered_at` is set by another conditional UPDATE, and only the request or job that set
it enqueues the issuing jobs. Views and the tracking intake call these functions; none of them
talks to Shopify.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update

from app.domain import returns as states
from app.domain.issuing import CallState, ExchangeMode, IssuingMethod, ShopifyReturnStatus
from app.domain.returns import ReturnRefused
from app.domain.vocabulary import ItemResolution, Option, RestockState, ReturnAction, ReturnStatus
from app.extensions import db
from app.services import milestones
from app.services.milestones import Milestone
from app.models import Account, BulkAction, Return, ReturnItem, ShopifyCall, ShopifyReturn
from app.queue import enqueue
from app.services import labels
from app.services.return_settlement import return_is_processed_in_shopify
from app.services.shopify_returns import queue_for_return, reset_failures
from app.services.tracking_numbers import store_tracking

# The timestamp column each status stamps when the return enters it.
STATUS_STAMPS = {ReturnStatus.IN_TRANSIT: "in_transit_at", ReturnStatus.RECEIVED: "received_at",
                 ReturnStatus.PROCESSED: "processed_at", ReturnStatus.CLOSED: "closed_at",
                 ReturnStatus.CANCELLED: "cancelled_at"}
ACTION_LABELS = {ReturnAction.FIRST_SCAN: "the first carrier scan", ReturnAction.PROCESSING: "processing",
                 ReturnAction.MANUAL: "close"}
# Items still on the method before Shopify returns finish on it (jobs/actions.py).
LEGACY_ISSUE, LEGACY_RESTOCK = "jobs.actions.issue_item_job", "jobs.actions.restock_item_job"
BULK_CLOSE_MAX = 5_000


def _sources_for(target: str) -> list[str]:
    """The statuses a return may be in to move to `target`."""
    return [s for s in (*states.FORWARD, ReturnStatus.CANCELLED) if states.can_move(s, target)]


def move_return(ret: Return, target: str, actor: str | None, *, at: datetime | None = None,
                message: str | None = None, cause: str | None = None) -> bool:
    """Move `ret` forward to `target` (or cancel it) and commit; then fire the return action
    when it is due, the history saying `cause` fired it (default: the move's message). Returns
    False, changing nothing, when the return is already at or past `target` (a replayed event, a
    double click). Raises TransitionRefused when the lifecycle forbids the move (a cancelled
    return, or cancelling a received one)."""
    db.session.refresh(ret)
    if ret.status == target or (target in states.FORWARD and ret.status in states.FORWARD
                                and states.FORWARD.index(ret.status) > states.FORWARD.index(target)):
        return False
    states.check_move(ret.status, target)
    previous, now = ret.status, datetime.now(timezone.utc)
    stamp = STATUS_STAMPS[target]
    moved = db.session.execute(
        update(Return).where(Return.id == ret.id, Return.status.in_(_sources_for(target)))
        .values(status=target, updated_at=now, **{stamp: at or now})
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        db.session.rollback()
        db.session.refresh(ret)
        return False
    ret.add_event("status", message or f"Return {ReturnStatus(target).label.lower()}.", actor, now=now,
                  data={"status": target})
    _announce_move(ret, previous, target)
    db.session.commit()
    db.session.refresh(ret)
    if target in (ReturnStatus.RECEIVED, ReturnStatus.PROCESSED, ReturnStatus.CLOSED):
        _queue_pending_restocks(ret)
    cause = cause or (message or f"The return is {ReturnStatus(target).label.lower()}").rstrip(".")
    if not fire_action_if_due(ret, cause, actor) and ret.action_triggered_at is not None:
        # After the action: receipt disposes of units processed at first scan, and closing
        # closes the Shopify returns. Before it, a move changes nothing in Shopify.
        queue_for_return(ret)
    return True


def _announce_move(ret: Return, previous: str, target: str) -> None:
    """The status change's milestones, in the transaction that makes it (closing is also its own)."""
    milestones.announce(ret, Milestone.STATUS_CHANGED, previous=str(previous), status=str(target))
    if target == ReturnStatus.CLOSED:
        milestones.announce(ret, Milestone.CLOSED)


def mark_received(ret: Return, actor: str | None) -> bool:
    """Staff: the parcel has arrived."""
    return move_return(ret, ReturnStatus.RECEIVED, actor, message="Marked received.",
                       cause=f"Marked received by {actor}")


def process_return(ret: Return, actor: str | None, *, without_receipt: bool = False) -> bool:
    """Staff: the items have been checked. Before the parcel was received only on an explicit
    override (`without_receipt`), which the history records with who gave it."""
    db.session.refresh(ret)
    early = ret.status in (ReturnStatus.OPEN, ReturnStatus.IN_TRANSIT)
    if early and not without_receipt:
        raise states.TransitionRefused("The parcel has not been received. Mark it received first, or process it "
                                       "without receipt on purpose.")
    if early:
        return move_return(ret, ReturnStatus.PROCESSED, actor, message="Processed without receipt (override).",
                           cause=f"Processed by {actor} without receipt (override)")
    return move_return(ret, ReturnStatus.PROCESSED, actor, message="Processed.", cause=f"Processed by {actor}")


def close_return(ret: Return, actor: str | None) -> bool:
    """Staff: the return is finished (under the Manual action this issues the options); the
    history says who closed it, and when that was before the parcel was received."""
    db.session.refresh(ret)
    early = " before the parcel was received" if ret.status in (ReturnStatus.OPEN, ReturnStatus.IN_TRANSIT) else ""
    return move_return(ret, ReturnStatus.CLOSED, actor, message=f"Closed{early}.", cause=f"Closed by {actor}{early}")


def cancel_return(ret: Return, actor: str | None, *, by_customer: bool = False) -> None:
    """Cancel a return whose options were not issued: the customer only while it is OPEN (not
    yet shipped), staff also in transit (DESIGN §5). One conditional UPDATE, so a carrier scan
    or the return action racing the click leaves it uncancelled; TransitionRefused otherwise."""
    db.session.refresh(ret)
    if ret.action_triggered_at is not None:
        raise states.TransitionRefused("The return's options are already being issued; it can no longer "
                                       "be cancelled.")
    if return_is_processed_in_shopify(ret):
        # returnCancel works only before any work on the return (docs/reference/shopify-returns.md §6.7).
        raise states.TransitionRefused("Shopify has already processed this return, and Shopify cancels a "
                                       "return only before any work on it.")
    if by_customer and ret.status != ReturnStatus.OPEN:
        raise states.TransitionRefused("This return can no longer be cancelled online: it is on its way.")
    states.check_move(ret.status, ReturnStatus.CANCELLED)
    previous = ret.status
    sources = [ReturnStatus.OPEN] if by_customer else _sources_for(ReturnStatus.CANCELLED)
    now = datetime.now(timezone.utc)
    cancelled = db.session.execute(
        update(Return).where(Return.id == ret.id, Return.status.in_(sources), Return.action_triggered_at.is_(None))
        .values(status=ReturnStatus.CANCELLED, cancelled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not cancelled:
        db.session.rollback()
        db.session.refresh(ret)
        raise states.TransitionRefused("This return changed meanwhile and can no longer be cancelled.")
    ret.add_event("cancelled", "Return cancelled." if by_customer else "Return cancelled by staff.", actor, now=now)
    _announce_move(ret, previous, ReturnStatus.CANCELLED)
    db.session.commit()
    db.session.refresh(ret)
    queue_for_return(ret)  # its Shopify returns are cancelled too, so their units are returnable again
    labels.after_return_ended(ret.id)  # an unused prepaid label is refunded


def set_tracking_by_staff(ret: Return, raw_number: str, actor: str | None) -> str:
    """Staff add or correct the tracking number until the parcel has been received."""
    db.session.refresh(ret)
    if ret.status not in (ReturnStatus.OPEN, ReturnStatus.IN_TRANSIT):
        raise states.TransitionRefused("The tracking number can only be changed before the return is received.")
    return store_tracking(ret, raw_number, actor)


# --- the return action ---------------------------------------------------------------------------

def fire_action_if_due(ret: Return, cause: str | None = None, actor: str | None = "system") -> bool:
    """Fire the account's return action once, if the return has reached its state: stamp
    `action_triggered_at` (one conditional UPDATE: only one caller wins) and queue an issuing
    job per decided item; the history names `cause` (what moved the return) and `actor`.
    Returns whether this call fired it. A return whose items the shopper all keeps (Keep item
    rules) has no parcel to wait for: its action is due as soon as it is open."""
    account = db.session.get(Account, ret.account_id)
    due = states.action_fires(account.return_action, ret.status) or (
        ret.keep_only and ret.status not in (ReturnStatus.REQUESTED, ReturnStatus.CANCELLED, ReturnStatus.DECLINED))
    if ret.action_triggered_at is not None or not due:
        return False
    now = datetime.now(timezone.utc)
    fired = db.session.execute(
        update(Return).where(Return.id == ret.id, Return.action_triggered_at.is_(None),
                             Return.status != ReturnStatus.CANCELLED)
        .values(action_triggered_at=now).execution_options(synchronize_session=False)).rowcount
    if not fired:
        db.session.rollback()
        db.session.refresh(ret)
        return False
    # Say what happened (who or what moved the return), not only what the setting is: a return
    # closed straight from Open under First scan fires at its close, not at a carrier scan.
    cause = cause or f"The return is {ReturnStatus(ret.status).label.lower()}"
    setting = (f" (this shop's setting: {ACTION_LABELS[account.return_action]} or later)"
               if states.action_fires(account.return_action, ret.status) else "")
    ret.add_event("action", f"{cause}, so the chosen options are issued in Shopify now{setting}.",
                  actor or "system", now=now,
                  data={"return_action": account.return_action, "status": ret.status})
    db.session.commit()
    db.session.refresh(ret)
    queue_issuing(ret)
    return True


def queue_issuing(ret: Return) -> int:
    """Queue what issues a return whose action has fired: its Shopify returns are processed
    (app/services/shopify_returns.py); an item still on the old method gets its own job."""
    legacy = db.session.scalars(select(ReturnItem.id).where(
        ReturnItem.return_id == ret.id, ReturnItem.resolution == ItemResolution.DECIDED.value,
        ReturnItem.issuing_method == IssuingMethod.LEGACY.value)).all()
    # End the read transaction first: an in-process job may run at once, on another connection
    # that must be able to write (SQLite would wait on our read lock).
    db.session.commit()
    for item_id in legacy:
        enqueue(LEGACY_ISSUE, item_id)
    return queue_for_return(ret) + len(legacy)


def _queue_pending_restocks(ret: Return) -> None:
    """Restocks still waiting on the old method (items issued before Shopify returns)."""
    item_ids = db.session.scalars(select(ReturnItem.id).where(
        ReturnItem.return_id == ret.id, ReturnItem.restock_state == RestockState.PENDING,
        ReturnItem.issuing_method == IssuingMethod.LEGACY.value)).all()
    db.session.commit()
    for item_id in item_ids:
        enqueue(LEGACY_RESTOCK, item_id)


# --- items decided or corrected by staff ------------------------------------------------------------

def decide_item(item: ReturnItem, option: str, actor: str | None, *, variant_id: int | None = None,
                variant_title: str | None = None, variant_price=None) -> None:
    """Staff decide an item nothing automated (UNDECIDED or NO_ACTION), or switch a FAILED one
    to another option. If the return action has already fired, the item is issued right away."""
    db.session.refresh(item)
    ret = item.return_
    if ret.status == ReturnStatus.CANCELLED:
        raise states.TransitionRefused("This return was cancelled.")
    if option not in tuple(Option):
        raise ReturnRefused("Choose refund, credit note or exchange.")
    if option == Option.EXCHANGE and not variant_id:
        raise ReturnRefused("Choose the variant to send in exchange.")
    allowed = (ItemResolution.UNDECIDED.value, ItemResolution.NO_ACTION.value, ItemResolution.FAILED.value)
    if item.resolution not in allowed:
        raise states.TransitionRefused(f"{item.title} is already {item.resolution.lower()}; it cannot be "
                                       "decided again.")
    _refuse_if_processed(item, switching=option != item.option)
    values = dict(option=option, resolution=ItemResolution.DECIDED.value, failure_reason=None,
                  exchange_variant_id=variant_id if option == Option.EXCHANGE else None,
                  exchange_variant_title=variant_title if option == Option.EXCHANGE else None,
                  exchange_variant_price=variant_price if option == Option.EXCHANGE else None, refund_state=None)
    if item.resolution == ItemResolution.FAILED.value and option != item.option:
        # A new option is a new Shopify write: it gets its own key and its own lookups.
        values.update(idempotency_key=None, shopify_draft_order_id=None)
    values.update(_placement_after(item, option, variant_id))
    changed = db.session.execute(
        update(ReturnItem).where(ReturnItem.id == item.id, ReturnItem.resolution.in_(allowed))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        raise states.TransitionRefused(f"{item.title} changed meanwhile; reload the page.")
    ret.add_event("decision", f"{item.title}: {Option(option).label} decided by staff.", actor,
                  data={"item_id": item.id, "option": option})
    db.session.commit()
    _issue_now_if_fired(item)


def retry_item(item: ReturnItem, actor: str | None) -> None:
    """Send a FAILED item back to DECIDED with the same option (and issue it at once if the
    return action has fired)."""
    db.session.refresh(item)
    if item.resolution != ItemResolution.FAILED.value:
        raise states.TransitionRefused(f"{item.title} has not failed; there is nothing to retry.")
    _refuse_if_processed(item, switching=False)
    values = dict(resolution=ItemResolution.DECIDED.value, refund_state=None)
    values.update(_placement_after(item, item.option, item.exchange_variant_id))
    changed = db.session.execute(
        update(ReturnItem).where(ReturnItem.id == item.id, ReturnItem.resolution == ItemResolution.FAILED.value)
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        raise states.TransitionRefused(f"{item.title} changed meanwhile; reload the page.")
    item.return_.add_event("retry", f"{item.title}: issuing retried.", actor, data={"item_id": item.id})
    reset_failures(values.get("shopify_return_ref_id", item.shopify_return_ref_id))
    db.session.commit()
    _issue_now_if_fired(item)


def _refuse_if_processed(item: ReturnItem, *, switching: bool) -> None:
    """An item whose units Shopify already processed (its refund then failed at the payment
    provider) cannot be issued again: staff record the refund they make outside Shopify. An item
    whose processing call is not yet confirmed either way may be retried (the retry reads the
    effect back first) but not switched to another option until then."""
    if item.issuing_method != IssuingMethod.RETURNS.value or item.process_call_id is None:
        return
    call = db.session.get(ShopifyCall, item.process_call_id)
    if call is not None and call.state == CallState.DONE.value:
        raise states.TransitionRefused(
            f"{item.title}: Shopify has already recorded this return; the refund itself failed. Record the "
            "refund you make outside Shopify instead.")
    if call is not None and call.state == CallState.CLAIMED.value and switching:
        raise states.TransitionRefused(
            f"{item.title}: Boomerang has not yet confirmed with Shopify whether the first attempt went "
            "through. Retry it instead; switch it once that is known.")


def _placement_after(item: ReturnItem, option: str | None, variant_id: int | None) -> dict:
    """Where the item's units go once it is decided again. Legacy items move to Shopify returns
    (their failed first attempt produced nothing); an item that becomes an exchange needs exchange
    lines, which Shopify takes only when a return is created, so it moves to a new Shopify return
    (its units leave the old one first); an item whose Shopify return was refused starts again."""
    if item.issuing_method == IssuingMethod.LEGACY.value:
        return dict(issuing_method=IssuingMethod.RETURNS.value, shopify_return_ref_id=None, shopify_lines=None,
                    exchange_line_ids=None)
    ref = db.session.get(ShopifyReturn, item.shopify_return_ref_id) if item.shopify_return_ref_id else None
    if ref is None or ref.status not in (ShopifyReturnStatus.PENDING.value, ShopifyReturnStatus.OPEN.value):
        return dict(shopify_return_ref_id=None, shopify_lines=None, exchange_line_ids=None)
    account = db.session.get(Account, item.return_.account_id)
    if option == Option.EXCHANGE and account.exchange_mode == ExchangeMode.SHOPIFY.value:
        has_lines = bool(item.exchange_line_ids) and item.exchange_variant_id == variant_id
        if not has_lines and ref.status == ShopifyReturnStatus.OPEN.value:
            return dict(shopify_return_ref_id=None, exchange_line_ids=None)  # lines keep the old ref
    return {}


def _issue_now_if_fired(item: ReturnItem) -> None:
    """Queue what the item needs next: its place in a Shopify return if it has none (or must move
    to a new one), and — once the return's action has fired — its issuing."""
    db.session.refresh(item)
    placed = item.shopify_return_ref_id is not None
    if not placed or item.return_.action_triggered_at is not None:
        queue_for_return(item.return_)


# --- bulk close ----------------------------------------------------------------------------------

def start_bulk_close(account: Account, return_ids: list[int], actor: str | None) -> BulkAction:
    """Record a "Close selected" of these returns (the account's own only) and queue the job
    that closes them one by one; the page polls the BulkAction for progress and results."""
    wanted = list(dict.fromkeys(int(i) for i in return_ids))
    if not wanted:
        raise ReturnRefused("Select at least one return to close.")
    if len(wanted) > BULK_CLOSE_MAX:
        raise ReturnRefused(f"Close at most {BULK_CLOSE_MAX:,} returns at once.")
    owned = set(db.session.scalars(select(Return.id).where(Return.account_id == account.id,
                                                             Return.id.in_(wanted))).all())
    if owned != set(wanted):
        raise ReturnRefused("Some of the selected returns do not exist.")
    bulk = BulkAction(account_id=account.id, kind="close", actor=actor, return_ids=wanted, total=len(wanted),
                      done=0, failed=0, results={})
    db.session.add(bulk)
    db.session.flush()
    bulk_id = bulk.id
    db.session.commit()
    enqueue("jobs.actions.run_bulk_close_job", bulk_id)
    return bulk


def run_bulk_close(bulk_id: int, commit_every: int = 25) -> BulkAction | None:
    """Close each return of a bulk action not yet handled, recording a result per return; safe to
    run twice (returns already in `results` are skipped, closing a closed return is a no-op)."""
    bulk = db.session.get(BulkAction, bulk_id)
    if bulk is None or bulk.finished_at is not None:
        return bulk
    results = dict(bulk.results or {})
    for count, return_id in enumerate(bulk.return_ids, 1):
        if str(return_id) in results:
            continue
        ret = db.session.get(Return, return_id)
        if ret is None or ret.account_id != bulk.account_id:
            results[str(return_id)] = {"ok": False, "message": "Return not found."}
        else:
            try:
                moved = close_return(ret, bulk.actor)
                results[str(return_id)] = {"ok": True, "rma": ret.rma_number,
                                           "message": "Closed." if moved else "Already closed."}
            except states.TransitionRefused as refused:
                results[str(return_id)] = {"ok": False, "rma": ret.rma_number, "message": str(refused)}
        if count % commit_every == 0:
            _save_progress(bulk, results)
    _save_progress(bulk, results, finished=True)
    return bulk


def _save_progress(bulk: BulkAction, results: dict, finished: bool = False) -> None:
    db.session.refresh(bulk)
    bulk.results = dict(results)
    bulk.done = len(results)
    bulk.failed = sum(1 for r in results.values() if not r["ok"])
    if finished:
        bulk.finished_at = datetime.now(timezone.utc)
    db.session.commit()

"""Review before approval: staff approve or decline a return that awaits review (REQUESTED).

Which way Shopify hears of it (app/domain/review.uses_request):
- Without an exchange, it is a Shopify return request: ``returnRequest`` at submission, then
  ``returnApproveRequest`` or ``returnDeclineRequest`` once staff decide
  (app/services/return_review_shopify.py), each one claimed call read back before any repeat.
- With an exchange, Shopify hears of it only at approval, through ``returnCreate`` like any new
  return: ``returnRequest`` cannot carry exchange lines (2026-04 schema ``ReturnRequestInput``:
  ``orderId``, ``returnLineItems``, ``returnShippingFee`` only; docs/reference/shopify-returns.md
  §5) and no mutation adds them later. A decline then writes nothing to Shopify.
Either way a declined return issues nothing: it is never processed, and its return action never
fires (app/domain/returns.action_fires). After approval the return flows exactly as any other.

Approving or declining is one conditional UPDATE from REQUESTED: a second click, a second tab or
a bulk run racing a single click changes the return once; the others are told it changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update

from app.domain.returns import IN_REVIEW, ReturnRefused, TransitionRefused
from app.domain.review import check_decline, review_applies, uses_request
from app.domain.vocabulary import DeclineReason, ReturnStatus, ReviewMode
from app.extensions import db
from app.services import milestones
from app.services.milestones import Milestone
from app.models import Account, Return
from app.services import labels
from app.services.return_workflow import fire_action_if_due
from app.services.shopify_returns import queue_for_return

APPROVED_KIND, DECLINED_KIND = "approved", "declined"
# What staff read on the return page about how Shopify hears of a return awaiting review.
SHOPIFY_WAY = "Return request awaiting approval: approving or declining here approves or declines it in " \
              "Shopify too."
SHOPIFY_WAY_EXCHANGE = "Created in Shopify when approved, because it includes an exchange; a decline " \
                       "writes nothing to Shopify."


def needs_review(account: Account, decisions: list) -> bool:
    """Whether a new return waits for review (see app/domain/review.py: all, none, or a "Send to
    review" rule matching one item). ``decisions`` are its items' rule decisions at submission
    (app/services/submission_rules.item_rules: the facts the rules job will read)."""
    outcomes = [d.outcome for d in decisions] if account.review_mode == ReviewMode.RULE else []
    return review_applies(account.review_mode, outcomes)


def shopify_way(ret: Return) -> str:
    """How Shopify hears of this return awaiting review, in words for staff."""
    return SHOPIFY_WAY if uses_request(item.option for item in ret.items) else SHOPIFY_WAY_EXCHANGE


@dataclass
class Reviewed:
    """What one approve or decline did: ``changed`` False when it was already done (or undone)."""

    return_id: int
    changed: bool
    message: str


def _find(account_id: int, return_id: int) -> Return:
    ret = db.session.scalar(select(Return).where(Return.id == return_id, Return.account_id == account_id))
    if ret is None:
        raise ReturnRefused("That return does not exist.")
    return ret


def _move(ret: Return, target: ReturnStatus, actor: str | None, **values) -> bool:
    """REQUESTED → ``target`` in one conditional UPDATE; False when the return was not awaiting
    review any more (approved or declined meanwhile). Commits."""
    now = datetime.now(timezone.utc)
    moved = db.session.execute(
        update(Return).where(Return.id == ret.id, Return.status == IN_REVIEW)
        .values(status=target, reviewed_at=now, reviewed_by=actor, updated_at=now, **values)
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        db.session.rollback()
        db.session.refresh(ret)
        return False
    db.session.refresh(ret)
    return True


def _not_waiting(ret: Return) -> Reviewed:
    status = ReturnStatus.label_of(ret.status).lower()
    return Reviewed(ret.id, False, f"Return {ret.rma_number} is not awaiting review (it is {status}).")


def approve(account_id: int, return_id: int, actor: str | None) -> Reviewed:
    """Approve a return awaiting review: it opens (the shopper may send it) and goes into Shopify
    like any new return; then the approval hook runs. Approving twice changes nothing."""
    ret = _find(account_id, return_id)
    if ret.status != IN_REVIEW or not _move(ret, ReturnStatus.OPEN, actor):
        return _not_waiting(ret)
    ret.add_event(APPROVED_KIND, "Return approved.", actor,
                  data={"customer_message": "The shop approved your return: you can send it now."})
    milestones.announce(ret, Milestone.STATUS_CHANGED, previous=str(IN_REVIEW), status=str(ReturnStatus.OPEN))
    db.session.commit()
    db.session.refresh(ret)
    queue_for_return(ret)  # Shopify approves its request now, or creates the return (an exchange)
    after_approval(ret)
    return Reviewed(ret.id, True, f"Return {ret.rma_number} approved.")


def after_approval(ret: Return) -> None:
    """Runs once per approval, after it is committed: what follows an approval starts here (the
    prepaid return label, where the shop buys labels on approval; a return whose items the
    shopper keeps has no parcel, so its return action fires now)."""
    account = db.session.get(Account, ret.account_id)
    if account is not None:
        labels.after_approval(account, ret.id)
        if ret.keep_only:
            fire_action_if_due(ret, "The return was approved and its items are kept", "system")


def decline(account_id: int, return_id: int, actor: str | None, reason: str | None, note: str | None) -> Reviewed:
    """Decline a return awaiting review with Shopify's reason and a message to the shopper (at
    most 500 characters). Nothing is issued; Shopify declines the return request, if there is one
    (see the module's docstring). ReturnRefused (nothing written) for a missing or invalid reason or message."""
    reason, text = check_decline(reason, note)
    ret = _find(account_id, return_id)
    if ret.status != IN_REVIEW or not _move(ret, ReturnStatus.DECLINED, actor, decline_reason=reason,
                                            decline_note=text):
        return _not_waiting(ret)
    ret.add_event(DECLINED_KIND, f"Return declined ({DeclineReason(reason).label.lower()}): {text}", actor,
                  data={"customer_message": "The shop declined your return."})
    milestones.announce(ret, Milestone.STATUS_CHANGED, previous=str(IN_REVIEW), status=str(ReturnStatus.DECLINED))
    db.session.commit()
    db.session.refresh(ret)
    queue_for_return(ret)  # Shopify declines its request too (nothing when it was never requested)
    labels.after_return_ended(ret.id)  # a label bought on submission is refunded
    return Reviewed(ret.id, True, f"Return {ret.rma_number} declined.")


def refuse_unless_reviewed(ret: Return) -> None:
    """TransitionRefused while a return awaits review: staff approve or decline it first."""
    if ret.status == IN_REVIEW:
        raise TransitionRefused("This return is awaiting review: approve or decline it first.")

"""Review before approval: staff approve or decline a return that awaits review (REQUESTED).

Which way Shopify hears of it: a reviewed return is put into Shopify only once approved. At
approval the return becomes OPEN and is planned into a Shopify return exactly as an unreviewed
one is at submission (``shopify_returns.queue_for_return``: ``returnCreate``, one claimed call,
read back before any repeat). A decline writes nothing to Shopify and issues nothing: the return
is DECLINED, never planned, and its return action never fires (app/domain/returns.action_fires).
Shopify's ``returnRequest`` cannot carry exchange lines (2026-04 schema ``ReturnRequestInput``:
``orderId``, ``returnLineItems``, ``returnShippingFee`` only; docs/reference/shopify-returns.md §5),
and no mutation adds them later, so creating at approval is the one way that treats a return with
an exchange like any other.

Approving or declining is one conditional UPDATE from REQUESTED: a second click, a second tab or
a bulk run racing a single click changes the return once; the others are told it changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update

from app.domain.returns import IN_REVIEW, ReturnRefused, TransitionRefused
from app.domain.review import check_decline, review_applies
from app.domain.rules_index import RuleSet
from app.domain.vocabulary import DeclineReason, Option, ReturnStatus, ReviewMode
from app.extensions import db
from app.models import Account, Order, Return
from app.services.rules import facts_for, rule_defs
from app.services.shopify_returns import queue_for_return

APPROVED_KIND, DECLINED_KIND = "approved", "declined"
# What staff read on the return page about how Shopify hears of a return awaiting review.
SHOPIFY_WAY = "Created in Shopify when approved (Shopify's return requests cannot carry exchanges, so " \
              "every reviewed return is made there at approval); a decline writes nothing to Shopify."
SHOPIFY_WAY_EXCHANGE = "Created in Shopify when approved, because it includes an exchange; a decline " \
                       "writes nothing to Shopify."


def needs_review(account: Account, order: Order, reasons: list[str | None]) -> bool:
    """Whether a new return of ``order`` whose items give ``reasons`` waits for review (see
    app/domain/review.py: all, none, or a "Send to review" rule matching one item)."""
    if account.review_mode == ReviewMode.RULE:
        rule_set = RuleSet(rule_defs(account.id))
        outcomes = [rule_set.evaluate(facts_for(order, reason)).outcome for reason in reasons]
    else:
        outcomes = []
    return review_applies(account.review_mode, outcomes)


def shopify_way(ret: Return) -> str:
    """How Shopify hears of this return awaiting review, in words for staff."""
    if any(item.option == Option.EXCHANGE for item in ret.items):
        return SHOPIFY_WAY_EXCHANGE
    return SHOPIFY_WAY


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
    db.session.commit()
    db.session.refresh(ret)
    queue_for_return(ret)  # the items go into a Shopify return now (returnCreate), as at submission
    after_approval(ret)
    return Reviewed(ret.id, True, f"Return {ret.rma_number} approved.")


def after_approval(ret: Return) -> None:
    """Runs once per approval, after it is committed: where what follows an approval starts
    (prepaid return labels issued on approval are created from here). Nothing yet."""
    return None


def decline(account_id: int, return_id: int, actor: str | None, reason: str | None, note: str | None) -> Reviewed:
    """Decline a return awaiting review with Shopify's reason and a message to the shopper (at
    most 500 characters). Nothing is issued and nothing is written to Shopify (see the module's
    docstring). ReturnRefused (nothing written) for a missing or invalid reason or message."""
    reason, text = check_decline(reason, note)
    ret = _find(account_id, return_id)
    if ret.status != IN_REVIEW or not _move(ret, ReturnStatus.DECLINED, actor, decline_reason=reason,
                                            decline_note=text):
        return _not_waiting(ret)
    ret.add_event(DECLINED_KIND, f"Return declined ({DeclineReason(reason).label.lower()}): {text}", actor,
                  data={"customer_message": "The shop declined your return."})
    db.session.commit()
    return Reviewed(ret.id, True, f"Return {ret.rma_number} declined.")


def refuse_unless_reviewed(ret: Return) -> None:
    """TransitionRefused while a return awaits review: staff approve or decline it first."""
    if ret.status == IN_REVIEW:
        raise TransitionRefused("This return is awaiting review: approve or decline it first.")

"""Rule matching for returns made in rules mode.

For now it only records on the timeline that the retailer's rules will decide each item's option;
the rules issue fills in the matching itself (DESIGN §2.7).
"""
from sqlalchemy import select

from app.extensions import db
from app.models import Return, ReturnEvent
from jobs.queue import job

PENDING_KIND = "rules_pending"


@job(queue="default", timeout=120, retry_intervals=(10, 60, 300))
def match_return_rules(return_id: int) -> str:
    """Record (once) that the rules will decide; safe to run twice."""
    if db.session.get(Return, return_id) is None:
        return "missing"
    already = db.session.scalar(select(ReturnEvent.id).where(
        ReturnEvent.return_id == return_id, ReturnEvent.kind == PENDING_KIND))
    if already:
        return "already recorded"
    db.session.add(ReturnEvent(return_id=return_id, kind=PENDING_KIND, actor="system",
                               message="The retailer's rules will decide the option for each item."))
    db.session.commit()
    return "recorded"

"""The rules job's work, and the rules-mode returns whose rules job never ran: the job is queued
when the return is submitted, and can be lost (a process stopped before its in-process jobs ran,
an enqueue that failed). The sweep (jobs/rules.py) queues it again for each."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select

from app.domain.vocabulary import ItemResolution, OptionMode, ReturnStatus
from app.extensions import db
from app.models import Account, Return, ReturnEvent, ReturnItem
from app.services.rules import decide_return

# The rules job runs just after submission; a return left undecided this long lost it.
SETTLED = timedelta(minutes=2)
PENDING_KIND = "rules_pending"


def announce_and_decide(return_id: int) -> str:
    """Tell the shopper (once) that the rules decide, then decide each undecided item with the
    account's rules (`decide_return` leaves decided items alone); safe to run twice."""
    ret = db.session.get(Return, return_id)
    if ret is None:
        return "missing"
    already = db.session.scalar(select(ReturnEvent.id).where(
        ReturnEvent.return_id == return_id, ReturnEvent.kind == PENDING_KIND))
    if not already:
        ret.add_event(PENDING_KIND, "The retailer's rules will decide the option for each item.", actor="system")
        db.session.commit()
    return decide_return(return_id)


def returns_to_decide(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of rules-mode returns with an item the rules never looked at (undecided, no decision
    trace), made more than SETTLED ago: exactly those `decide_return` would still decide."""
    now = now or datetime.now(timezone.utc)
    return list(db.session.scalars(
        select(Return.id).join(ReturnItem, ReturnItem.return_id == Return.id)
        .join(Account, Account.id == Return.account_id).where(
            Account.option_mode == OptionMode.RULES.value,
            or_(Return.option_source.is_(None), Return.option_source == "rules"),
            Return.status.notin_((ReturnStatus.CANCELLED.value, ReturnStatus.DECLINED.value)),
            Return.created_at <= now - SETTLED,
            ReturnItem.resolution == ItemResolution.UNDECIDED.value, ReturnItem.decision_trace.is_(None))
        .group_by(Return.id).order_by(Return.id).limit(limit)))

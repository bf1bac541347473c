"""Rule matching for returns made in rules mode (DESIGN §2.7): the account's rules decide each
item's option, and the shopper's timeline says the retailer's rules decide."""
from sqlalchemy import select

from app.extensions import db
from app.models import Return, ReturnEvent
from app.queue import enqueue, job
from app.services.rules import decide_return
from app.services.rules_sweep import returns_to_decide

PENDING_KIND = "rules_pending"


@job
def match_return_rules_job(return_id: int) -> str:
    """Tell the shopper (once) that the rules decide, then decide each undecided item with the
    account's rules (`decide_return` leaves decided items alone); safe to run twice."""
    if db.session.get(Return, return_id) is None:
        return "missing"
    already = db.session.scalar(select(ReturnEvent.id).where(
        ReturnEvent.return_id == return_id, ReturnEvent.kind == PENDING_KIND))
    if not already:
        db.session.add(ReturnEvent(return_id=return_id, kind=PENDING_KIND, actor="system",
                                   message="The retailer's rules will decide the option for each item."))
        db.session.commit()
    return decide_return(return_id)


@job
def sweep_rules_returns_job() -> int:
    """Queue the rules job again for rules-mode returns it never decided (a lost enqueue, a
    process stopped before its in-process jobs ran); returns how many."""
    return_ids = returns_to_decide()
    db.session.remove()  # hold no transaction while the jobs run
    for return_id in return_ids:
        enqueue("jobs.rules.match_return_rules_job", return_id)
    return len(return_ids)

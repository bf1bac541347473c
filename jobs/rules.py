"""Rule matching for returns made in rules mode (DESIGN §2.7): the account's rules decide each
item's option, and the shopper's timeline says the retailer's rules decide."""
from app.extensions import db
from app.queue import enqueue, job
from app.services.rules_sweep import announce_and_decide, returns_to_decide


@job
def match_return_rules_job(return_id: int) -> str:
    """Tell the shopper (once) that the rules decide, then decide the return's undecided items."""
    return announce_and_decide(return_id)


@job
def sweep_rules_returns_job() -> int:
    """Queue the rules job again for rules-mode returns it never decided (a lost enqueue, a
    process stopped before its in-process jobs ran); returns how many."""
    return_ids = returns_to_decide()
    db.session.remove()  # hold no transaction while the jobs run
    for return_id in return_ids:
        enqueue("jobs.rules.match_return_rules_job", return_id)
    return len(return_ids)

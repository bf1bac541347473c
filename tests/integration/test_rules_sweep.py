"""A rules-mode return whose rules job was lost (queued at submission, never run) is decided by
the periodic sweep; returns the rules already looked at, returns just made, customer-choice and
cancelled returns are left alone."""
from datetime import datetime, timedelta, timezone

import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.models import ReturnEvent, ReturnItem
from app.queue import enqueue
from app.services import rules as service
from app.services.rules_sweep import returns_to_decide
from app.queue import QUEUES
from jobs.rules import match_return_rules_job, sweep_rules_returns_job
from app.queue.schedule import PERIODIC
from tests.fixtures.app import REDIS_URL, rolled_back
from tests.factories import make_account, make_order, make_return
from tests.support.rules import FAULTY_REFUND

EARLIER = datetime.now(timezone.utc) - timedelta(minutes=10)


@pytest.fixture
def served(_session_app):
    """The app outside any request, as the scheduler runs the sweep (in-process, the jobs it queues
    run after it; in the production shape, on a worker: `run_queued`)."""
    if REDIS_URL:
        Redis.from_url(REDIS_URL).flushdb()
    with rolled_back(_session_app) as app:
        yield app


def run_queued(app) -> None:
    """What a worker would run now (nothing to do in-process: it has run)."""
    backend = app.extensions["jobs"]
    if hasattr(backend, "queue"):
        SimpleWorker([backend.queue(name) for name in QUEUES], connection=backend.connection).work(
            burst=True, with_scheduler=False)


def rules_account(**fields):
    account = make_account(option_mode="rules", **fields)
    service.create_rule(account.id, FAULTY_REFUND)
    return account


def test_a_lost_rules_job_is_picked_up_by_the_sweep(served):
    account = rules_account()
    lost = make_return(account, make_order(account), reasons=("Faulty", "Changed my mind"), created_at=EARLIER)
    db.session.commit()
    with served.test_request_context("/r/shop/submit", method="POST"):
        enqueue("jobs.rules.match_return_rules_job", lost.id)  # queued at submission, to run at the close
        served.process_response(served.response_class("registered"))  # which never came
    assert returns_to_decide() == [lost.id]

    assert sweep_rules_returns_job() == 1
    run_queued(served)
    db.session.expire_all()
    items = db.session.scalars(select(ReturnItem).where(ReturnItem.return_id == lost.id).order_by(ReturnItem.id)).all()
    assert [(i.resolution, i.option) for i in items] == [("DECIDED", "refund"), ("UNDECIDED", None)]
    assert all(i.decision_trace is not None for i in items)  # the rules looked at both
    kinds = db.session.scalars(select(ReturnEvent.kind).where(ReturnEvent.return_id == lost.id)).all()
    assert "rules_pending" in kinds and "rules_decided" in kinds
    assert sweep_rules_returns_job() == 0  # an item no rule matched waits for staff: not swept again


def test_the_sweep_leaves_alone_what_the_rules_job_does_not_decide(served):
    account = rules_account()
    order = make_order(account)
    decided = make_return(account, order, created_at=EARLIER)
    just_made = make_return(account, order)  # its job is about to run
    make_return(account, order, created_at=EARLIER).status = "CANCELLED"
    make_return(account, order, created_at=EARLIER, option_source="customer")
    other = make_account()  # customer choice
    make_return(other, make_order(other), created_at=EARLIER)
    db.session.commit()
    match_return_rules_job(decided.id)

    assert returns_to_decide() == []
    assert returns_to_decide(now=datetime.now(timezone.utc) + timedelta(minutes=5)) == [just_made.id]


def test_the_sweep_runs_every_two_minutes():
    assert [p.cron for p in PERIODIC if p.job == "jobs.rules.sweep_rules_returns_job"] == ["*/2 * * * *"]

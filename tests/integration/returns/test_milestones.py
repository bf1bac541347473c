"""A return's milestones reach their listeners inside the transaction that makes them: a submitted
return, each status change (review, receipt, closing, cancelling), each issued item and a bought
label are announced once; what a listener writes rolls back with a change that fails; and work
handed to `after_commit` runs only once the change is committed."""
import pytest

from app.extensions import db
from app.models import Return, ReturnEvent
from app.services import milestones
from app.services import return_review as review
from app.services import return_workflow as wf
from app.services.milestones import Milestone
from tests.factories import make_account, make_order, make_return
from tests.support.shopify_returns import placed_order, returns_account, submit

STAFF = "staff@example.com"


@pytest.fixture
def heard(monkeypatch):
    """Every announcement, as (name, return id, data), in order."""
    log = []
    monkeypatch.setattr(milestones, "_LISTENERS", [lambda ret, a: log.append((a.name, a.return_id, a.data))])
    return log


def names(log) -> list[str]:
    return [name for name, _, _ in log]


def test_a_return_through_review_closing_and_issuing_announces_each_milestone_once(app, sandbox, jobs, heard,
                                                                                   virtual_clock):
    account = returns_account(sandbox, "manual", review_mode="all")
    ret = submit(account, placed_order(account, sandbox), [(0, 1, "refund", None)])
    jobs.run()
    assert heard[0] == (Milestone.CREATED, ret.id, {"status": "REQUESTED"})
    review.approve(account.id, ret.id, STAFF)
    review.approve(account.id, ret.id, STAFF)  # a second click announces nothing
    wf.close_return(db.session.get(Return, ret.id), STAFF)
    wf.close_return(db.session.get(Return, ret.id), STAFF)
    jobs.run()
    item_id = db.session.get(Return, ret.id).items[0].id
    assert heard[1:] == [
        (Milestone.STATUS_CHANGED, ret.id, {"previous": "REQUESTED", "status": "OPEN"}),
        (Milestone.STATUS_CHANGED, ret.id, {"previous": "OPEN", "status": "CLOSED"}),
        (Milestone.CLOSED, ret.id, {}),
        (Milestone.ITEM_ISSUED, ret.id, {"item_id": item_id, "option": "refund"}),
    ]


def test_declining_and_cancelling_are_status_changes(app, sandbox, jobs, heard, virtual_clock):
    account = returns_account(sandbox, "manual", review_mode="all")
    declined = submit(account, placed_order(account, sandbox), [(0, 1, "refund", None)])
    review.decline(account.id, declined.id, STAFF, "OTHER", "Not bought here.")
    shop = make_account()
    cancelled = make_return(shop, make_order(shop), status="OPEN")
    db.session.commit()
    wf.cancel_return(cancelled, STAFF)
    assert [(n, d) for n, _, d in heard if n == Milestone.STATUS_CHANGED] == [
        (Milestone.STATUS_CHANGED, {"previous": "REQUESTED", "status": "DECLINED"}),
        (Milestone.STATUS_CHANGED, {"previous": "OPEN", "status": "CANCELLED"}),
    ]


def test_what_a_listener_writes_commits_with_the_change_and_a_failing_listener_stops_it(app, monkeypatch):
    shop = make_account()
    ret = make_return(shop, make_order(shop), status="OPEN")
    db.session.commit()

    def write_then(fail: bool):
        def listener(r, announcement):
            r.add_event("listener", f"heard {announcement.name}")
            if fail:
                raise RuntimeError("listener failed")
        return listener

    monkeypatch.setattr(milestones, "_LISTENERS", [write_then(fail=True)])
    with pytest.raises(RuntimeError):
        wf.mark_received(ret, STAFF)
    db.session.rollback()
    assert db.session.get(Return, ret.id).status == "OPEN"
    assert not db.session.query(ReturnEvent).filter_by(return_id=ret.id, kind="listener").count()

    monkeypatch.setattr(milestones, "_LISTENERS", [write_then(fail=False)])
    assert wf.mark_received(db.session.get(Return, ret.id), STAFF)
    assert db.session.get(Return, ret.id).status == "RECEIVED"
    assert [e.message for e in db.session.query(ReturnEvent).filter_by(return_id=ret.id, kind="listener")] == [
        "heard return.status_changed"]


def test_after_commit_work_runs_once_on_commit_and_never_after_a_rollback(app):
    shop = make_account()
    db.session.commit()
    ran = []
    shop.name = "changed, then rolled back"
    milestones.after_commit(lambda: ran.append("rolled back"))
    db.session.rollback()
    db.session.commit()
    shop.name = "changed and committed"
    milestones.after_commit(lambda: ran.append("committed"))
    db.session.flush()
    assert ran == []
    db.session.commit()
    db.session.commit()
    assert ran == ["committed"]


def test_an_unknown_milestone_is_refused(app):
    shop = make_account()
    ret = make_return(shop, make_order(shop))
    with pytest.raises(ValueError):
        milestones.announce(ret, "return.exploded")

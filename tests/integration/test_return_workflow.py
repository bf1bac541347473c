"""The return lifecycle and the moment the return action fires (DESIGN §5): forward only, once
per return, on entering the action's state or any later one; staff decisions and bulk close."""
import pytest
from sqlalchemy import select

from app.domain.returns import ReturnRefused, TransitionRefused
from app.extensions import db
from app.models import Account, BulkAction, ReturnEvent, ShopifyReturn
from app.services import legacy_issuing, legacy_restock, return_money, shopify_returns
from app.services import return_workflow as wf
from app.services.issuing_context import Ctx
from app.services.rules import create_rule, decide_return
from jobs import actions
from tests.factories import make_account, make_order, make_return
from tests.support.rules import FAULTY_REFUND
from tests.support.shopify_returns import record_jobs

STAFF = "staff@example.com"


@pytest.fixture
def queued(app, monkeypatch):
    """Jobs are recorded instead of run (this file is about *when*): ``queued.count(ret)`` is how
    many times the return's Shopify work (planning or advancing its Shopify returns) was queued."""
    log = record_jobs(app, monkeypatch)

    def count(ret) -> int:
        refs = {r.id for r in db.session.scalars(select(ShopifyReturn).where(ShopifyReturn.return_id == ret.id))}
        return sum(1 for name, args in log.queued
                   if (name.endswith("plan_shopify_returns_job") and args == (ret.id,))
                   or (name.endswith("advance_shopify_return_job") and args[0] in refs))

    log.count = count
    return log


def decided_return(app, action="processing", reasons=("Faulty",), account=None):
    """A customer-choice return whose items are decided refunds, already in an open Shopify
    return (as submission leaves them)."""
    account = account or make_account(return_action=action)
    ret = make_return(account, make_order(account), reasons=reasons, option_source="customer")
    ref = ShopifyReturn(account_id=account.id, return_id=ret.id, shopify_order_id=ret.shopify_order_id, seq=1,
                        status="OPEN", shopify_return_id=ret.id * 7, name=f"{ret.order_name}-R1")
    db.session.add(ref)
    db.session.flush()
    for n, item in enumerate(ret.items):
        item.option, item.resolution, item.shopify_return_ref_id = "refund", "DECIDED", ref.id
        item.shopify_lines = [{"ref": ref.id, "fli": n + 1, "qty": item.quantity, "rli": n + 1, "rfoli": n + 1}]
    db.session.commit()
    return ret


def action_events(ret):
    return db.session.scalars(select(ReturnEvent).where(ReturnEvent.return_id == ret.id,
                                                        ReturnEvent.kind == "action")).all()


@pytest.mark.parametrize("action, moves, fired_after", [
    ("first_scan", ["IN_TRANSIT", "RECEIVED", "PROCESSED", "CLOSED"], "IN_TRANSIT"),
    ("processing", ["IN_TRANSIT", "RECEIVED", "PROCESSED", "CLOSED"], "PROCESSED"),
    ("manual", ["IN_TRANSIT", "RECEIVED", "PROCESSED", "CLOSED"], "CLOSED"),
    ("first_scan", ["RECEIVED"], "RECEIVED"),       # delivered with no transit scan still counts
    ("processing", ["CLOSED"], "CLOSED"),           # closed straight from OPEN issues too
    ("manual", ["CLOSED"], "CLOSED"),
    ("first_scan", ["CLOSED"], "CLOSED"),
])
def test_the_action_fires_once_on_its_state_or_any_later_one(app, queued, action, moves, fired_after):
    ret = decided_return(app, action)
    for status in moves:
        assert wf.move_return(ret, status, STAFF) is True
        fired = moves.index(status) >= moves.index(fired_after)
        assert (ret.action_triggered_at is not None) == fired
        assert (queued.count(ret) > 0) == fired  # nothing goes to Shopify before the action
    assert len(action_events(ret)) == 1


def test_a_double_close_changes_the_return_once(app, queued):
    ret = decided_return(app, "manual", reasons=("Faulty", "Too small"))
    assert wf.close_return(ret, STAFF) is True
    assert wf.close_return(ret, STAFF) is False
    statuses = db.session.scalars(select(ReturnEvent).where(ReturnEvent.return_id == ret.id,
                                                           ReturnEvent.kind == "status")).all()
    assert len(statuses) == 1 and len(action_events(ret)) == 1
    assert queued.count(ret) == 1


def test_a_return_never_moves_backwards(app, queued):
    ret = decided_return(app, "manual")
    wf.move_return(ret, "RECEIVED", STAFF)
    assert wf.move_return(ret, "IN_TRANSIT", "tracking:generic") is False
    assert ret.status == "RECEIVED" and ret.in_transit_at is None


def test_staff_cancel_before_the_action_and_not_after(app, queued):
    open_one = decided_return(app, "processing")
    wf.cancel_return(open_one, STAFF)
    assert open_one.status == "CANCELLED"
    with pytest.raises(TransitionRefused):
        wf.close_return(open_one, STAFF)
    assert open_one.action_triggered_at is None and len(action_events(open_one)) == 0

    fired = decided_return(app, "first_scan")
    wf.move_return(fired, "IN_TRANSIT", "tracking:generic")
    with pytest.raises(TransitionRefused, match="already being issued"):
        wf.cancel_return(fired, STAFF)
    assert fired.status == "IN_TRANSIT"


def test_a_received_return_cannot_be_cancelled(app, queued):
    ret = decided_return(app, "manual")
    wf.mark_received(ret, STAFF)
    with pytest.raises(TransitionRefused):
        wf.cancel_return(ret, STAFF)


def test_changing_the_setting_applies_to_returns_not_yet_fired(app, queued):
    ret = decided_return(app, "manual")
    wf.mark_received(ret, STAFF)
    wf.process_return(ret, STAFF)
    assert ret.action_triggered_at is None
    db.session.get(Account, ret.account_id).return_action = "processing"
    db.session.commit()
    wf.close_return(ret, STAFF)
    assert ret.action_triggered_at is not None and queued.count(ret) == 1


def test_an_item_decided_by_hand_after_the_action_is_issued_at_once(app, queued):
    ret = decided_return(app, "manual", reasons=("Faulty", "Changed my mind"))
    undecided = ret.items[1]
    undecided.option, undecided.resolution = None, "NO_ACTION"
    db.session.commit()
    wf.close_return(ret, STAFF)
    assert queued.count(ret) == 1
    wf.decide_item(undecided, "credit", STAFF)
    assert undecided.resolution == "DECIDED" and undecided.option == "credit"
    assert queued.count(ret) == 2


def test_an_item_decided_before_the_action_waits_for_it(app, queued):
    ret = decided_return(app, "manual")
    item = ret.items[0]
    item.option, item.resolution = None, "UNDECIDED"
    db.session.commit()
    wf.decide_item(item, "refund", STAFF)
    assert queued.count(ret) == 0


def test_deciding_refuses_what_is_not_allowed(app, queued):
    ret = decided_return(app, "manual")
    item = ret.items[0]
    with pytest.raises(TransitionRefused):
        wf.decide_item(item, "credit", STAFF)     # already DECIDED
    item.resolution = "UNDECIDED"
    db.session.commit()
    with pytest.raises(ReturnRefused):
        wf.decide_item(item, "cash", STAFF)
    with pytest.raises(ReturnRefused):
        wf.decide_item(item, "exchange", STAFF)   # no variant
    assert item.resolution == "UNDECIDED"


def test_a_failed_exchange_switched_to_a_refund_gets_a_new_key(app, queued):
    ret = decided_return(app, "manual")
    item = ret.items[0]
    item.option, item.resolution, item.idempotency_key = "exchange", "FAILED", "k-old"
    item.failure_reason, item.exchange_variant_id = "Out of stock", 42
    db.session.commit()
    wf.close_return(ret, STAFF)
    fired = queued.count(ret)
    wf.decide_item(item, "refund", STAFF)
    assert (item.option, item.resolution, item.idempotency_key, item.failure_reason) == \
        ("refund", "DECIDED", None, None)
    assert queued.count(ret) == fired + 1


def test_retry_sends_a_failed_item_back(app, queued):
    ret = decided_return(app, "manual")
    item = ret.items[0]
    with pytest.raises(TransitionRefused):
        wf.retry_item(item, STAFF)
    item.resolution, item.failure_reason, item.idempotency_key = "FAILED", "Shopify was down", "k1"
    db.session.commit()
    wf.close_return(ret, STAFF)
    fired = queued.count(ret)
    wf.retry_item(item, STAFF)
    assert item.resolution == "DECIDED" and item.idempotency_key == "k1"
    assert queued.count(ret) == fired + 1


def test_staff_tracking_number_until_received(app, queued):
    ret = decided_return(app, "manual")
    assert wf.set_tracking_by_staff(ret, " 1z 999 aa1 ", STAFF) == "1Z999AA1"
    with pytest.raises(ReturnRefused):
        wf.set_tracking_by_staff(ret, "<script>", STAFF)
    wf.mark_received(ret, STAFF)
    with pytest.raises(TransitionRefused):
        wf.set_tracking_by_staff(ret, "1Z999AA2", STAFF)
    assert ret.tracking_number == "1Z999AA1"


def test_bulk_close_records_a_result_per_return_and_runs_twice_safely(app, queued, drain_jobs):
    account = make_account(return_action="manual")
    returns = [decided_return(app, account=account) for _ in range(4)]
    wf.cancel_return(returns[3], STAFF)
    wf.close_return(returns[2], STAFF)
    bulk = wf.start_bulk_close(account, [r.id for r in returns], STAFF)
    drain_jobs()  # RQ runs the job here; in-process it waits for a response that never comes
    actions.run_bulk_close_job(bulk.id)
    db.session.expire_all()
    bulk = db.session.get(BulkAction, bulk.id)
    assert bulk.finished_at is not None and (bulk.total, bulk.done, bulk.failed) == (4, 4, 1)
    assert bulk.results[str(returns[0].id)] == {"ok": True, "rma": returns[0].rma_number, "message": "Closed."}
    assert bulk.results[str(returns[2].id)]["message"] == "Already closed."
    assert bulk.results[str(returns[3].id)]["ok"] is False
    assert all(r.status == "CLOSED" for r in returns[:3])
    issued_once = [queued.count(r) for r in returns]
    assert issued_once[:2] == [1, 1]
    wf.run_bulk_close(bulk.id)
    assert [queued.count(r) for r in returns] == issued_once


def test_bulk_close_refuses_other_accounts_returns_and_empty_selections(app, queued):
    mine, theirs = make_account(), make_account()
    own = decided_return(app, account=mine)
    other = decided_return(app, account=theirs)
    with pytest.raises(ReturnRefused):
        wf.start_bulk_close(mine, [own.id, other.id], STAFF)
    with pytest.raises(ReturnRefused):
        wf.start_bulk_close(mine, [], STAFF)
    assert other.status == "OPEN" and own.status == "OPEN"
    assert db.session.scalars(select(BulkAction)).all() == []


def test_rules_deciding_after_the_action_fired_issue_at_once(app, queued):
    account = make_account(return_action="manual", option_mode="rules")
    order = make_order(account)
    ret = make_return(account, order, reasons=("Faulty",))
    db.session.commit()
    wf.close_return(ret, STAFF)
    before = queued.count(ret)
    create_rule(account.id, FAULTY_REFUND)
    assert decide_return(ret.id).startswith("decided 1")
    assert queued.count(ret) == before + 1


def test_the_customer_cancels_only_before_the_parcel_ships(app, queued):
    waiting = decided_return(app, "processing")
    wf.cancel_return(waiting, "shopper@example.com", by_customer=True)
    assert waiting.status == "CANCELLED" and waiting.cancelled_at is not None
    shipped = decided_return(app, "processing")
    wf.move_return(shipped, "IN_TRANSIT", "tracking:generic")
    with pytest.raises(TransitionRefused, match="on its way"):
        wf.cancel_return(shipped, "shopper@example.com", by_customer=True)
    assert shipped.status == "IN_TRANSIT"


def test_jobs_given_ids_that_do_not_exist_do_nothing(app):
    assert legacy_issuing.issue_item(9 * 10**15) == "missing"
    assert legacy_restock.restock_item(9 * 10**15) == "nothing to restock"
    assert shopify_returns.advance(9 * 10**15) == "missing"
    assert shopify_returns.plan_shopify_returns(9 * 10**15) is None
    assert actions.run_bulk_close_job(9 * 10**15) == "missing"
    assert db.session.scalars(select(ReturnEvent)).all() == []


def test_an_item_of_a_return_whose_action_has_not_fired_is_not_issued(app, queued):
    ret = decided_return(app, "manual")
    ref = db.session.get(ShopifyReturn, ret.items[0].shopify_return_ref_id)
    assert return_money.process_step(Ctx(db.session.get(Account, ret.account_id), ret, ref, None)) == "done"
    assert ret.items[0].resolution == "DECIDED" and ret.items[0].process_call_id is None

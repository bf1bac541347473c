"""Exactly once without idempotency keys: racing workers, answers lost after Shopify applied the
call, workers killed between Shopify's answer and the commit — in every phase. What Shopify holds
is counted by the sandbox; nothing is ever sent twice."""
import pytest

from app.extensions import db
from app.models import ReturnItem, ShopifyCall, ShopifyReturn
from app.services import return_credit, return_money, return_settlement, return_shape, shopify_returns
from app.services import return_workflow as wf
from app.shopify import errors as E
from app.shopify import returns as shopify
from tests.support.shopify_returns import placed_order, record_jobs, returns_account, sandbox_returns, stock, submit

STAFF = "staff@example.com"


@pytest.fixture
def no_lease(app, monkeypatch):
    """Calls left claimed are reconciled at once (the lease is what a test would wait out)."""
    monkeypatch.setitem(app.config, "ISSUE_LEASE_SECONDS", 0)


def ref_of(ret) -> ShopifyReturn:
    return db.session.query(ShopifyReturn).filter_by(return_id=ret.id).order_by(ShopifyReturn.seq).first()


def summary(sandbox, account) -> dict:
    return sandbox_returns(sandbox, account)["summary"]


def test_a_second_worker_finds_the_call_claimed_and_sends_nothing(app, sandbox, jobs, virtual_clock, monkeypatch):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox, lines=2)
    ret = submit(account, order, [(0, 1, "refund", None), (1, 1, "credit", None)])
    jobs.run()
    wf.close_return(ret, STAFF)
    ref_id = ref_of(ret).id
    seen = []
    real = shopify.process_return

    def racing(client, variables):
        seen.append(shopify_returns.advance(ref_id))  # the other worker, while this call is out
        return real(client, variables)

    monkeypatch.setattr(shopify, "process_return", racing)
    jobs.run()
    assert seen == ["in progress"]  # the other worker met the claim; the job's second run found it done
    assert summary(sandbox, account)["return_process_calls"] == 1
    assert {i.resolution for i in db.session.query(ReturnItem)} == {"ISSUED"}


def test_an_item_decided_while_the_first_round_is_out_is_processed_in_a_second_round(app, sandbox, jobs,
                                                                                     virtual_clock, monkeypatch):
    account = returns_account(sandbox, "manual", option_mode="rules")
    order = placed_order(account, sandbox, lines=2)
    ret = submit(account, order, [(0, 1, None, None), (1, 1, None, None)])
    jobs.run()  # no rule matches: both items wait for staff, both units in one Shopify return
    first, second = sorted(ret.items, key=lambda i: i.id)
    wf.decide_item(first, "refund", STAFF)
    wf.close_return(ret, STAFF)
    real = shopify.process_return

    def staff_decides_meanwhile(client, variables):
        monkeypatch.setattr(shopify, "process_return", real)  # once
        wf.decide_item(db.session.get(ReturnItem, second.id), "credit", STAFF)
        assert shopify_returns.advance(ref_of(ret).id) == "in progress"  # its own job meets the claim
        return real(client, variables)

    monkeypatch.setattr(shopify, "process_return", staff_decides_meanwhile)
    jobs.run()
    held = sandbox_returns(sandbox, account)
    assert held["summary"]["return_process_calls"] == 2 and held["summary"]["units_processed"] == 2
    assert [i.resolution for i in db.session.query(ReturnItem).order_by(ReturnItem.id)] == ["ISSUED", "ISSUED"]
    assert held["returns"][0]["status"] == "CLOSED"


@pytest.mark.parametrize("phase", ["create", "process"])
def test_a_call_whose_answer_is_lost_is_found_not_repeated(app, sandbox, jobs, virtual_clock, no_lease, phase):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    bought = order.products[0].bought.id
    before = stock(sandbox, account, bought)
    ret = submit(account, order, [(0, 1, "refund", None)])
    if phase == "process":
        jobs.run()
        wf.close_return(ret, STAFF)
    sandbox.store.set_faults(account.shop_domain, drop_response_after_mutation=1.0)
    with pytest.raises(E.ShopifyError):
        jobs.run(times=1)
    sandbox.store.clear_faults(account.shop_domain)
    call = db.session.query(ShopifyCall).filter_by(phase=phase).one()
    assert call.state == "CLAIMED"  # Shopify applied it; we do not know yet
    jobs.queued.append(("jobs.shopify_returns.advance_shopify_return_job", (ref_of(ret).id,)))
    if phase == "create":
        wf.close_return(ret, STAFF)
    jobs.run()
    counts = summary(sandbox, account)
    assert (counts["returns_created"], counts["return_process_calls"], counts["return_refunds"]) == (1, 1, 1)
    assert db.session.get(ReturnItem, ret.items[0].id).resolution == "ISSUED"
    assert stock(sandbox, account, bought) == before + 1


class Killed(BaseException):
    """The worker died between Shopify's answer and the commit."""


KILL_POINTS = {
    "create": (return_shape, "_record_created"),
    "process": (return_money, "_record_processed"),
    "gift_card": (return_credit, "encrypt_secret"),
    "dispose": (return_settlement, "note"),
    "close": (return_shape, "note"),
}


@pytest.mark.parametrize("phase", list(KILL_POINTS))
def test_a_worker_killed_after_shopifys_answer_leaves_nothing_twice(app, sandbox, jobs, virtual_clock, no_lease,
                                                                   monkeypatch, phase):
    action, accounts = ("first_scan", "new") if phase == "dispose" else ("manual", "new")
    if phase == "gift_card":
        accounts = "classic"
    account = returns_account(sandbox, action, customer_accounts=accounts)
    order = placed_order(account, sandbox)
    bought = order.products[0].bought.id
    before = stock(sandbox, account, bought)
    option = "credit" if phase == "gift_card" else "refund"
    ret = submit(account, order, [(0, 1, option, None)])
    if phase != "create":
        jobs.run()
    if phase == "dispose":
        wf.move_return(ret, "IN_TRANSIT", "carrier")
        jobs.run()
        wf.mark_received(ret, STAFF)
    elif phase in ("process", "gift_card", "close"):
        wf.close_return(ret, STAFF)
    module, name = KILL_POINTS[phase]
    real = getattr(module, name)

    def die(*args, **kwargs):
        if phase in ("close", "dispose") and "closed" not in str(args) and "back in stock" not in str(args):
            return real(*args, **kwargs)
        db.session.rollback()  # the worker's transaction is lost with it
        raise Killed(phase)

    monkeypatch.setattr(module, name, die)
    with pytest.raises(Killed):
        jobs.run(times=1)
    monkeypatch.setattr(module, name, real)
    db.session.rollback()
    sandbox.clock.advance(120)  # past Shopify's search lag: the gift card is findable by its code
    jobs.queued[:] = [("jobs.shopify_returns.advance_shopify_return_job", (ref_of(ret).id,))]
    if phase == "create":
        wf.close_return(ret, STAFF)
    jobs.run()
    if phase == "dispose":
        wf.close_return(ret, STAFF)
        jobs.run()
    counts = summary(sandbox, account)
    assert (counts["returns_created"], counts["return_process_calls"], counts["returns_closed"]) == (1, 1, 1)
    assert counts["dispositions"]["RESTOCKED"] == 1 and stock(sandbox, account, bought) == before + 1
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "ISSUED"
    if phase == "gift_card":
        assert len(sandbox.store.get_shop(account.shop_domain).issuing["gift_cards"]) == 1
    else:
        assert counts["return_refunds"] == 1


def test_two_workers_advancing_one_shopify_return_at_once_process_it_once(e2e_app, sandbox, monkeypatch):
    """Two threads, each with its own app context and database connection, race on one Shopify
    return whose two items are decided: one processing call, each item issued once."""
    import threading

    e2e_app.config["SHOPIFY_CLOCK"] = sandbox.clock
    try:
        with e2e_app.app_context():
            jobs = record_jobs(e2e_app, monkeypatch)
            account = returns_account(sandbox, "manual")
            order = placed_order(account, sandbox, lines=2)
            ret = submit(account, order, [(0, 1, "refund", None), (1, 1, "credit", None)])
            jobs.run(times=1)
            wf.close_return(ret, STAFF)
            ref_id, domain = ref_of(ret).id, account.shop_domain
            db.session.remove()
        start, results = threading.Barrier(2), []

        def worker():
            with e2e_app.app_context():
                start.wait()
                try:
                    results.append(shopify_returns.advance(ref_id))
                except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                    results.append(repr(exc))
                db.session.remove()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(results) in (["closed", "in progress"], ["closed", "closed"]), results
        counts = sandbox_returns(sandbox, domain)["summary"]
        assert (counts["returns_created"], counts["return_process_calls"], counts["units_processed"]) == (1, 1, 2)
        with e2e_app.app_context():
            assert {i.resolution for i in db.session.query(ReturnItem)} == {"ISSUED"}
    finally:
        e2e_app.config.pop("SHOPIFY_CLOCK", None)


def test_the_sweeper_finds_what_a_lost_enqueue_or_a_dead_worker_left(app, sandbox, jobs, virtual_clock, no_lease):
    from datetime import datetime, timedelta, timezone

    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])
    jobs.queued.clear()  # the plan's enqueue was lost
    later = datetime.now(timezone.utc) + timedelta(minutes=10)
    assert shopify_returns.returns_to_plan() == []  # a fresh return gets its queue's time first
    assert shopify_returns.returns_to_plan(later) == [ret.id]
    jobs.queued.append(("jobs.shopify_returns.plan_shopify_returns_job", (ret.id,)))
    jobs.run(times=1)
    wf.close_return(ret, STAFF)
    jobs.queued.clear()  # the action's enqueue was lost too
    ref_id = ref_of(ret).id
    assert shopify_returns.refs_to_sweep() == []  # a fresh action gets its queue's time first
    assert shopify_returns.refs_to_sweep(later) == [ref_id]
    jobs.queued.append(("jobs.shopify_returns.advance_shopify_return_job", (ref_id,)))
    jobs.run()
    assert summary(sandbox, account)["return_process_calls"] == 1
    assert shopify_returns.refs_to_sweep(later) == [] and shopify_returns.returns_to_plan(later) == []


def test_a_record_refused_by_sqlite_is_read_back_at_once_by_the_same_worker(app, sandbox, jobs, virtual_clock,
                                                                            monkeypatch):
    from sqlalchemy.exc import OperationalError

    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])
    jobs.run()
    wf.close_return(ret, STAFF)
    real, refused = return_money._record_processed, []

    def locked_once(*args):
        if not refused:
            refused.append(1)
            raise OperationalError("UPDATE return_items", {}, Exception("database is locked"))
        return real(*args)

    monkeypatch.setattr(return_money, "_record_processed", locked_once)
    assert shopify_returns.advance(ref_of(ret).id) == "closed"  # no lease to wait out
    assert refused == [1] and summary(sandbox, account)["return_process_calls"] == 1
    assert db.session.get(ReturnItem, ret.items[0].id).resolution == "ISSUED"


def test_a_returns_webhook_that_outruns_the_creation_never_makes_ours_the_merchants(app, sandbox, jobs,
                                                                                   virtual_clock, monkeypatch):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])
    real = return_shape._record_created

    def webhook_first(ctx, call, state):
        # returns/approve arrives and is processed before the job records Shopify's answer.
        assert shopify_returns.refresh_order_returns(account, order.shopify_order_id) == 0
        # An older copy stored as made in Shopify (before markers) is adopted, not duplicated.
        db.session.add(ShopifyReturn(account_id=account.id, shopify_order_id=order.shopify_order_id, seq=0,
                                     shopify_return_id=state.id, made_in_shopify=True, status="OPEN"))
        db.session.commit()
        return real(ctx, call, state)

    monkeypatch.setattr(return_shape, "_record_created", webhook_first)
    jobs.run()
    assert db.session.query(ShopifyReturn).filter_by(made_in_shopify=True).count() == 0
    assert ref_of(ret).status == "OPEN" and ref_of(ret).shopify_return_id is not None


def test_a_shopify_return_that_keeps_failing_goes_to_staff_and_a_retry_starts_it_again(app, sandbox, jobs,
                                                                                       virtual_clock, no_lease,
                                                                                       monkeypatch):
    from datetime import datetime, timedelta, timezone

    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])
    jobs.run()
    wf.close_return(ret, STAFF)
    jobs.queued.clear()
    ref_id = ref_of(ret).id
    real = shopify.process_return

    def down(client, variables):
        raise E.ShopifyServerError("Shopify answered 503", status=503)

    monkeypatch.setattr(shopify, "process_return", down)
    later = datetime.now(timezone.utc) + timedelta(minutes=10)
    for run in range(shopify_returns.MAX_FAILURES):
        assert shopify_returns.refs_to_sweep(later) == [ref_id], run  # the sweeper keeps trying
        with pytest.raises(E.ShopifyServerError):
            shopify_returns.advance(ref_id)
    assert shopify_returns.refs_to_sweep(later) == []  # not retried forever
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "FAILED" and "503" in item.failure_reason and "Retry" in item.failure_reason
    assert summary(sandbox, account)["return_process_calls"] == 0

    monkeypatch.setattr(shopify, "process_return", real)  # Shopify answers again; staff retry
    wf.retry_item(item, STAFF)
    jobs.run()
    assert db.session.get(ReturnItem, item.id).resolution == "ISSUED"
    assert summary(sandbox, account)["return_process_calls"] == 1
    ref = db.session.get(ShopifyReturn, ref_id)
    assert ref.failures == 0 and ref.failure_reason is None

"""Review before approval, end to end against the sandbox: a return awaiting review is a Shopify
return request, approved or declined there exactly once (approved twice, a lost answer, a worker
killed before recording it); approved, it flows as any return; declined, nothing is processed,
refunded or credited. One with an exchange reaches Shopify only when approved."""
import pytest

from app.extensions import db
from app.models import Return, ReturnItem, ShopifyCall, ShopifyReturn
from app.services import return_review as review
from app.services import return_workflow as wf
from app.services.rules import create_rule
from app.services.shopify_returns import queue_for_return
from app.shopify import errors as E
from app.shopify import returns as shopify
from tests.support.shopify_returns import placed_order, returns_account, sandbox_returns, stock, submit

STAFF = "staff@example.com"


@pytest.fixture
def no_lease(app, monkeypatch):
    """Calls left claimed are reconciled at once (the lease is what a test would wait out)."""
    monkeypatch.setitem(app.config, "ISSUE_LEASE_SECONDS", 0)


def counts(sandbox, account) -> tuple:
    held = sandbox_returns(sandbox, account)
    summary = held["summary"]
    live = [r for r in held["returns"] if r["status"] != "CANCELED"]
    return len(live), summary["returns_created"], summary["return_process_calls"], summary["return_refunds"]


def reviewed_return(sandbox, jobs, option="refund", variant=None, **fields):
    account = returns_account(sandbox, "manual", review_mode="all", **fields)
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, option, variant)])
    jobs.run()
    return account, order, ret


def shopify_return(sandbox, account):
    """The shop's one Shopify return as the sandbox holds it (its record, with the decline)."""
    from sandbox import returns as held  # noqa: PLC0415 - the sandbox's own records, for what no view shows
    (ret,) = held.all_returns(sandbox.store.get_shop(account.shop_domain)).values()
    return ret


def test_a_reviewed_return_is_a_shopify_request_approved_once_then_flows_as_any(app, sandbox, jobs, virtual_clock,
                                                                              monkeypatch):
    account, order, ret = reviewed_return(sandbox, jobs)
    assert ret.status == "REQUESTED"
    assert shopify_return(sandbox, account).status == "REQUESTED"  # a return request, nothing to process
    assert counts(sandbox, account) == (1, 1, 0, 0)
    assert "awaiting approval" in review.shopify_way(ret)
    sent = []
    real = shopify.approve_request
    monkeypatch.setattr(shopify, "approve_request", lambda client, v: sent.append(v) or real(client, v))
    first = review.approve(account.id, ret.id, STAFF)
    again = review.approve(account.id, ret.id, STAFF)  # a second click, a second tab
    jobs.run()
    assert (first.changed, again.changed) == (True, False)
    assert "not awaiting review" in again.message
    assert len(sent) == 1 and sent[0]["input"]["notifyCustomer"] is False
    assert db.session.get(Return, ret.id).status == "OPEN"
    assert shopify_return(sandbox, account).status == "OPEN"
    assert counts(sandbox, account) == (1, 1, 0, 0)
    wf.close_return(db.session.get(Return, ret.id), STAFF)  # then the normal flow, as today
    jobs.run()
    assert counts(sandbox, account) == (1, 1, 1, 1)
    assert db.session.get(ReturnItem, ret.items[0].id).resolution == "ISSUED"
    assert shopify_return(sandbox, account).status == "CLOSED"


def test_a_declined_return_is_declined_in_shopify_and_issues_nothing(app, sandbox, jobs, virtual_clock):
    account, order, ret = reviewed_return(sandbox, jobs, option="credit")
    bought = order.products[0].bought.id
    before = stock(sandbox, account, bought)
    done = review.decline(account.id, ret.id, STAFF, "FINAL_SALE", "Sale items cannot be returned, sorry.")
    jobs.run()
    assert done.changed
    ret = db.session.get(Return, ret.id)
    assert (ret.status, ret.decline_reason, ret.decline_note) == ("DECLINED", "FINAL_SALE",
                                                                 "Sale items cannot be returned, sorry.")
    held = shopify_return(sandbox, account)
    assert (held.status, held.decline_reason, held.decline_note) == (
        "DECLINED", "FINAL_SALE", "Sale items cannot be returned, sorry.")
    assert review.approve(account.id, ret.id, STAFF).changed is False  # declined is final
    with pytest.raises(Exception, match="declined"):
        wf.close_return(ret, STAFF)
    jobs.run()
    summary = sandbox_returns(sandbox, account)["summary"]
    assert (summary["return_process_calls"], summary["return_refunds"]) == (0, 0)
    assert summary["store_credit_issued"] in ("0", "0.00")
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution != "ISSUED"
    assert stock(sandbox, account, bought) == before
    # Shopify frees the units: they can be returned again.
    assert sum(qty for _fli, qty in _returnable(account, order)) == order.lines[0].quantity


def _returnable(account, order):
    from app.services.shopify_access import client_for  # noqa: PLC0415 - only here
    return [(u.fulfillment_line_item_id, u.quantity)
            for u in shopify.returnable_units(client_for(account), order.shopify_order_id)]


@pytest.mark.parametrize("reason, note, refusal", [
    ("NOT_A_REASON", "Sorry", "reason"), ("OTHER", "", "Write a message"), ("OTHER", "x" * 501, "500 characters")])
def test_a_decline_shopify_would_refuse_changes_nothing(app, sandbox, jobs, virtual_clock, reason, note, refusal):
    account, _order, ret = reviewed_return(sandbox, jobs)
    with pytest.raises(review.ReturnRefused, match=refusal):
        review.decline(account.id, ret.id, STAFF, reason, note)
    assert db.session.get(Return, ret.id).status == "REQUESTED"
    assert review.decline(account.id, ret.id, STAFF, "OTHER", "é" * 500).changed  # 500 characters, as Shopify counts


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_a_decision_whose_shopify_answer_is_lost_is_read_back_not_repeated(app, sandbox, jobs, virtual_clock,
                                                                        no_lease, decision):
    account, _order, ret = reviewed_return(sandbox, jobs)
    sandbox.store.set_faults(account.shop_domain, drop_response_after_mutation=1.0)
    if decision == "approve":
        review.approve(account.id, ret.id, STAFF)
    else:
        review.decline(account.id, ret.id, STAFF, "OTHER", "No.")
    with pytest.raises(E.ShopifyError):
        jobs.run(times=1)
    sandbox.store.clear_faults(account.shop_domain)
    call = db.session.query(ShopifyCall).filter_by(phase=decision).one()
    assert call.state == "CLAIMED"  # Shopify applied it; we do not know yet
    review.approve(account.id, ret.id, STAFF)  # staff click again meanwhile: nothing more happens
    queue_for_return(db.session.get(Return, ret.id))  # the sweeper, or any later change, queues it again
    jobs.run()
    db.session.expire_all()
    call = db.session.query(ShopifyCall).filter_by(phase=decision).one()
    assert (call.state, call.attempts) == ("DONE", 2)  # read back as done: not sent again
    ref = db.session.query(ShopifyReturn).filter_by(return_id=ret.id).one()
    expected = "OPEN" if decision == "approve" else "DECLINED"
    assert (ref.status, ref.failure_reason) == (expected, None)
    assert shopify_return(sandbox, account).status == expected


class Killed(BaseException):
    """The worker died between Shopify's answer and the commit."""


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_a_worker_killed_after_shopifys_answer_leaves_one_decision(app, sandbox, jobs, virtual_clock, no_lease,
                                                                   monkeypatch, decision):
    from app.services import return_review_shopify  # noqa: PLC0415 - the kill point
    account, _order, ret = reviewed_return(sandbox, jobs)
    sent = []
    name = "approve_request" if decision == "approve" else "decline_request"
    real = getattr(shopify, name)
    monkeypatch.setattr(shopify, name, lambda client, v: sent.append(v) or real(client, v))

    def die(*_args, **_kwargs):
        raise Killed()

    kept = return_review_shopify.note
    monkeypatch.setattr(return_review_shopify, "note", die)
    if decision == "approve":
        review.approve(account.id, ret.id, STAFF)
    else:
        review.decline(account.id, ret.id, STAFF, "RETURN_PERIOD_ENDED", "Too late.")
    with pytest.raises(Killed):
        jobs.run(times=1)
    db.session.rollback()  # the worker's transaction is lost with it
    monkeypatch.setattr(return_review_shopify, "note", kept)  # the next worker lives
    queue_for_return(db.session.get(Return, ret.id))
    jobs.run()
    assert len(sent) == 1  # Shopify was asked once; the second run read the status back
    ref = db.session.query(ShopifyReturn).filter_by(return_id=ret.id).one()
    assert ref.status == ("OPEN" if decision == "approve" else "DECLINED") and ref.failure_reason is None


def test_an_exchange_under_review_is_created_in_shopify_with_its_exchange_only_when_approved(app, sandbox, jobs,
                                                                                           virtual_clock):
    account = returns_account(sandbox, "manual", review_mode="all")
    order = placed_order(account, sandbox)
    wanted = order.products[0].in_stock[0]
    ret = submit(account, order, [(0, 1, "exchange", wanted)])
    jobs.run()
    assert "because it includes an exchange" in review.shopify_way(ret)
    assert counts(sandbox, account) == (0, 0, 0, 0)
    review.approve(account.id, ret.id, STAFF)
    jobs.run()
    held = sandbox_returns(sandbox, account)["returns"]
    assert len(held) == 1 and [x["variant_id"] for x in held[0]["exchanges"]] == [wanted.id], held


def test_review_by_rule_sends_only_the_returns_a_review_rule_matches(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", review_mode="rule")
    create_rule(account.id, {"name": "Big orders are reviewed", "outcome": "review", "enabled": True,
                             "conditions": [{"dimension": "order_value", "operator": "gt", "value": "100000"}]})
    order = placed_order(account, sandbox)
    small = submit(account, order, [(0, 1, "refund", None)])
    assert small.status == "OPEN"  # no review rule matched: planned into Shopify at once
    create_rule(account.id, {"name": "Everything is reviewed", "outcome": "review", "enabled": True,
                             "conditions": []})
    other = placed_order(account, sandbox)
    assert submit(account, other, [(0, 1, "refund", None)]).status == "REQUESTED"


def test_a_request_approved_in_shopifys_admin_meanwhile_counts_as_approved(app, sandbox, jobs, virtual_clock):
    account, _order, ret = reviewed_return(sandbox, jobs)
    from sandbox import returns as held  # noqa: PLC0415 - the merchant acting in Shopify's admin
    shop = sandbox.store.get_shop(account.shop_domain)
    assert held.approve(shop, shopify_return(sandbox, account)) == []
    review.approve(account.id, ret.id, STAFF)
    jobs.run()
    ref = db.session.query(ShopifyReturn).filter_by(return_id=ret.id).one()
    assert (ref.status, ref.failure_reason) == ("OPEN", None)
    assert ref.id and all(ln.get("rfoli") for ln in db.session.get(ReturnItem, ret.items[0].id).shopify_lines)


def test_a_request_declined_in_shopify_while_staff_approved_is_shown_to_staff(app, sandbox, jobs, virtual_clock):
    account, _order, ret = reviewed_return(sandbox, jobs)
    from sandbox import returns as held  # noqa: PLC0415 - the merchant acting in Shopify's admin
    assert held.decline(sandbox.store.get_shop(account.shop_domain), shopify_return(sandbox, account), "OTHER",
                        None) == []
    review.approve(account.id, ret.id, STAFF)
    jobs.run()
    ref = db.session.query(ShopifyReturn).filter_by(return_id=ret.id).one()
    assert ref.status == "REQUESTED" and "not in a requested state" in ref.failure_reason

"""Review before approval, end to end against the sandbox: a return awaiting review writes
nothing to Shopify; approved, it is created there once (however often it is approved, and after a
lost answer) and then flows as any return; declined, nothing is created, refunded or credited."""
import pytest

from app.extensions import db
from app.models import Return, ReturnItem, ShopifyCall
from app.services import return_review as review
from app.services import return_workflow as wf
from app.services.rules import create_rule
from app.services.shopify_returns import queue_for_return
from app.shopify import errors as E
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


def test_a_reviewed_return_waits_with_nothing_in_shopify_then_approval_creates_it_once(app, sandbox, jobs,
                                                                                     virtual_clock):
    account, order, ret = reviewed_return(sandbox, jobs)
    assert ret.status == "REQUESTED"
    assert counts(sandbox, account) == (0, 0, 0, 0)  # nothing in Shopify while it awaits review
    first = review.approve(account.id, ret.id, STAFF)
    again = review.approve(account.id, ret.id, STAFF)  # a second click, a second tab
    jobs.run()
    assert (first.changed, again.changed) == (True, False)
    assert "not awaiting review" in again.message
    assert db.session.get(Return, ret.id).status == "OPEN"
    assert counts(sandbox, account) == (1, 1, 0, 0)
    wf.close_return(db.session.get(Return, ret.id), STAFF)  # then the normal flow, as today
    jobs.run()
    assert counts(sandbox, account) == (1, 1, 1, 1)
    assert db.session.get(ReturnItem, ret.items[0].id).resolution == "ISSUED"


def test_a_declined_return_issues_nothing_and_writes_nothing_to_shopify(app, sandbox, jobs, virtual_clock):
    account, order, ret = reviewed_return(sandbox, jobs, option="credit")
    bought = order.products[0].bought.id
    before = stock(sandbox, account, bought)
    done = review.decline(account.id, ret.id, STAFF, "FINAL_SALE", "Sale items cannot be returned, sorry.")
    jobs.run()
    assert done.changed
    ret = db.session.get(Return, ret.id)
    assert (ret.status, ret.decline_reason, ret.decline_note) == ("DECLINED", "FINAL_SALE",
                                                                 "Sale items cannot be returned, sorry.")
    assert review.approve(account.id, ret.id, STAFF).changed is False  # declined is final
    with pytest.raises(Exception, match="declined"):
        wf.close_return(ret, STAFF)
    jobs.run()
    assert counts(sandbox, account) == (0, 0, 0, 0)
    assert sandbox_returns(sandbox, account)["summary"]["store_credit_issued"] in ("0", "0.00")
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution != "ISSUED" and item.shopify_return_ref_id is None
    assert stock(sandbox, account, bought) == before


@pytest.mark.parametrize("reason, note, refusal", [
    ("NOT_A_REASON", "Sorry", "reason"), ("OTHER", "", "Write a message"), ("OTHER", "x" * 501, "500 characters")])
def test_a_decline_shopify_would_refuse_changes_nothing(app, sandbox, jobs, virtual_clock, reason, note, refusal):
    account, _order, ret = reviewed_return(sandbox, jobs)
    with pytest.raises(review.ReturnRefused, match=refusal):
        review.decline(account.id, ret.id, STAFF, reason, note)
    assert db.session.get(Return, ret.id).status == "REQUESTED"
    assert review.decline(account.id, ret.id, STAFF, "OTHER", "é" * 500).changed  # 500 characters, as Shopify counts


def test_an_approval_whose_shopify_answer_is_lost_creates_one_return(app, sandbox, jobs, virtual_clock, no_lease):
    account, _order, ret = reviewed_return(sandbox, jobs)
    sandbox.store.set_faults(account.shop_domain, drop_response_after_mutation=1.0)
    review.approve(account.id, ret.id, STAFF)
    with pytest.raises(E.ShopifyError):
        jobs.run(times=1)
    sandbox.store.clear_faults(account.shop_domain)
    assert db.session.query(ShopifyCall).filter_by(phase="create").one().state == "CLAIMED"
    review.approve(account.id, ret.id, STAFF)  # staff click again meanwhile: nothing more happens
    queue_for_return(db.session.get(Return, ret.id))  # the sweeper, or any later change, queues it again
    jobs.run()
    assert counts(sandbox, account)[:2] == (1, 1)


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

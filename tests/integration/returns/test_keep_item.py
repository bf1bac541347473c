"""Keep the item, end to end against the sandbox: a return whose items a Keep item rule matched has
no parcel — no label is bought, its return action fires at submission (or at approval when review
holds it), and Shopify processes its return with the units disposed of as NOT_RESTOCKED while the
refund or credit note is issued. A Restocking fee rule's percentage reaches Shopify as the line's
restocking fee."""
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Return, ReturnItem
from app.services import return_review as review
from app.services import return_workflow as wf
from app.services.labels import label_of
from app.services.rules import create_rule
from tests.support.labels import use_label_provider
from tests.support.shopify_returns import placed_order, returns_account, sandbox_returns, stock, submit

STAFF = "staff@example.com"


def keep_rule(account, outcome="keep_refund", conditions=()):
    create_rule(account.id, {"name": "Not worth shipping", "outcome": outcome, "enabled": True,
                             "conditions": list(conditions)})


def fresh(ret) -> Return:
    db.session.expire_all()
    return db.session.get(Return, ret.id)


def dispositions(sandbox, account) -> list[str]:
    return [d["type"] for r in sandbox_returns(sandbox, account)["returns"] for ln in r["lines"]
            for d in ln["dispositions"]]


def test_a_kept_item_needs_no_parcel_and_is_refunded_at_submission_without_restocking(app, sandbox, jobs,
                                                                                      virtual_clock):
    account = returns_account(sandbox, "first_scan")
    use_label_provider(account, sandbox)  # the shop buys labels: a kept-only return gets none
    keep_rule(account)
    order = placed_order(account, sandbox)
    before = stock(sandbox, account, order.products[0].bought.id)
    ret = submit(account, order, [(0, 1, "credit", None)])  # the rule's refund replaces the choice
    ret = fresh(ret)
    assert ret.status == "OPEN" and ret.keep_only and ret.action_triggered_at is not None
    assert "customer keeps" in [e for e in ret.events if e.kind == "action"][0].message
    jobs.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert (item.option, item.keep_item, item.resolution) == ("refund", True, "ISSUED")
    assert label_of(ret.id) is None
    assert not any(name == "jobs.labels.buy_label_job" for name, _ in jobs.ran)
    held = sandbox_returns(sandbox, account)
    assert dispositions(sandbox, account) == ["NOT_RESTOCKED"]
    assert held["summary"]["return_refunds"] == 1 and held["summary"]["units_processed"] == 1
    assert stock(sandbox, account, order.products[0].bought.id) == before  # nothing back on the shelf


def test_with_review_the_kept_item_is_issued_only_at_approval(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", review_mode="all")
    keep_rule(account, "keep_credit")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])
    jobs.run()
    ret = fresh(ret)
    assert ret.status == "REQUESTED" and ret.action_triggered_at is None
    assert sandbox_returns(sandbox, account)["summary"]["return_process_calls"] == 0
    review.approve(account.id, ret.id, STAFF)
    jobs.run()
    ret = fresh(ret)
    assert ret.status == "OPEN" and ret.action_triggered_at is not None
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert (item.option, item.resolution) == ("credit", "ISSUED")
    assert dispositions(sandbox, account) == ["NOT_RESTOCKED"]


def test_a_declined_kept_return_issues_nothing(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", review_mode="all")
    keep_rule(account)
    ret = submit(account, placed_order(account, sandbox), [(0, 1, "refund", None)])
    jobs.run()
    review.decline(account.id, ret.id, STAFF, "OTHER", "Not this time.")
    jobs.run()
    assert fresh(ret).action_triggered_at is None
    assert sandbox_returns(sandbox, account)["summary"]["return_refunds"] == 0


def test_a_mixed_return_ships_one_item_and_the_kept_one_is_never_restocked(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", restock_returned_units=True)
    order = placed_order(account, sandbox, lines=2)
    cheap = order.lines[0]
    keep_rule(account, conditions=[{"dimension": "product", "operator": "is", "value": cheap.title}])
    ret = submit(account, order, [(0, 1, "refund", None), (1, 1, "refund", None)])
    ret = fresh(ret)
    assert not ret.keep_only and ret.action_triggered_at is None  # a parcel still comes
    assert [i.keep_item for i in ret.items] == [True, False]
    wf.close_return(ret, STAFF)
    jobs.run()
    held = sandbox_returns(sandbox, account)["returns"][0]
    by_line = {ln["line_id"]: [d["type"] for d in ln["dispositions"]] for ln in held["lines"]}
    kept, shipped = fresh(ret).items
    assert by_line[kept.shopify_line_id] == ["NOT_RESTOCKED"]
    assert by_line[shipped.shopify_line_id] == ["RESTOCKED"]
    assert {i.resolution for i in fresh(ret).items} == {"ISSUED"}


def test_a_rules_mode_kept_item_is_decided_by_the_rules_and_issued_at_once(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "processing", option_mode="rules")
    keep_rule(account, "keep_credit")
    ret = submit(account, placed_order(account, sandbox), [(0, 1, None, None)])
    assert fresh(ret).action_triggered_at is not None
    jobs.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert (item.option, item.keep_item, item.resolution) == ("credit", True, "ISSUED")
    assert dispositions(sandbox, account) == ["NOT_RESTOCKED"]


@pytest.mark.parametrize("option", ["refund", "credit"])
def test_a_fee_rule_sets_the_lines_restocking_fee_over_the_reasons(app, sandbox, jobs, virtual_clock, option):
    account = returns_account(sandbox, "manual", restocking_fees={"Too small": "5"})
    create_rule(account.id, {"name": "Fee", "outcome": "fee", "fee_percentage": "15", "enabled": True,
                             "conditions": []})
    ret = submit(account, placed_order(account, sandbox), [(0, 1, option, None)])
    assert db.session.get(ReturnItem, ret.items[0].id).restocking_fee_percentage == Decimal(15)
    jobs.run()
    held = sandbox_returns(sandbox, account)["returns"][0]
    assert [ln["restocking_pct"] for ln in held["lines"]] == [15.0] * len(held["lines"])

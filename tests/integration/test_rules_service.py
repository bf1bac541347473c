"""The rules service against the database: versioned edits, atomic reordering, decide_return
(rules mode, customer choice, twice, priorities, versions kept), the demo seed."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.rules import RuleInvalid
from app.extensions import db
from app.models import Return, ReturnEvent, Rule
from app.services import rules as service
from tests.factories import make_account, make_order, make_return
from tests.support.rules import BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION, FAULTY_REFUND, condition

pytestmark = pytest.mark.account(option_mode="rules")


def positions(account_id):
    return [(r.name, r.position) for r in service.rules_of(account_id)]


def spec_rules(account):
    return [service.create_rule(account.id, raw) for raw in (FAULTY_REFUND, BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION)]


def canadian_order(account, **fields):
    # 60 % off: total discounts 150 / (subtotal 100 + discounts 150)
    values = {"shipping_country": "CA", "subtotal_price": Decimal("100.00"), "total_discounts": Decimal("150.00"),
              "total_price": Decimal("100.00")}
    return make_order(account, **{**values, **fields})


def decided(ret_id):
    db.session.expire_all()
    ret = db.session.get(Return, ret_id)
    return [(i.resolution, i.option, i.decided_by_rule_id, i.decided_by_rule_version) for i in ret.items]


def test_rules_are_stored_as_typed_in_order_and_parse_back(account):
    faulty, discount, canada = spec_rules(account)
    assert positions(account.id) == [(faulty.name, 1), (discount.name, 2), (canada.name, 3)]
    assert canada.conditions == [{"dimension": "country", "operator": "is", "value": "Canada"}]
    assert service.describe(canada.conditions[0]) == "Order Country equal to Canada"
    assert [d.conditions[0].value for d in service.rule_defs(account.id)] == [
        "faulty", Decimal("50"), frozenset({"CA"})]


def test_invalid_definitions_write_nothing(account):
    with pytest.raises(RuleInvalid) as caught:
        service.create_rule(account.id, {"name": "x", "outcome": "refund",
                                         "conditions": [condition("country", "is", "Atlantis")]})
    assert caught.value.errors[0][0] == "conditions.0.value"
    with pytest.raises(RuleInvalid):
        service.create_rule(account.id, {"name": "x", "outcome": "refund",
                                         "conditions": [condition("tag", "has", "v" * 201)]})
    assert service.rules_of(account.id) == []


def test_every_edit_bumps_the_version_and_an_unchanged_save_does_not(account):
    rule = service.create_rule(account.id, FAULTY_REFUND)
    assert rule.version == 1
    service.update_rule(account.id, rule.id, FAULTY_REFUND)
    assert db.session.get(Rule, rule.id).version == 1
    service.update_rule(account.id, rule.id, {**FAULTY_REFUND, "outcome": "credit"})
    assert db.session.get(Rule, rule.id).version == 2
    service.set_enabled(account.id, rule.id, False)
    assert db.session.get(Rule, rule.id).version == 3


def test_editing_a_rule_never_changes_past_decisions(account):
    rule = service.create_rule(account.id, FAULTY_REFUND)
    first = make_return(account, make_order(account), ["Faulty"])
    db.session.commit()
    service.decide_return(first.id)
    before = decided(first.id)
    trace_before = db.session.get(Return, first.id).items[0].decision_trace
    assert before == [("DECIDED", "refund", rule.id, 1)]

    service.update_rule(account.id, rule.id, {**FAULTY_REFUND, "outcome": "credit"})
    second = make_return(account, make_order(account), ["Faulty"])
    db.session.commit()
    service.decide_return(second.id)
    service.decide_return(first.id)  # running again changes nothing either
    assert decided(first.id) == before
    assert db.session.get(Return, first.id).items[0].decision_trace == trace_before
    assert decided(second.id) == [("DECIDED", "credit", rule.id, 2)]
    service.delete_rule(account.id, rule.id)
    assert decided(first.id) == before


def test_reorder_rejects_any_order_that_does_not_name_exactly_the_accounts_rules(account):
    faulty, discount, canada = spec_rules(account)
    other = make_account()
    db.session.commit()
    foreign = service.create_rule(other.id, FAULTY_REFUND)
    expected = positions(account.id)
    for bad in ([faulty.id, discount.id], [faulty.id, discount.id, canada.id, canada.id],
                [faulty.id, discount.id, foreign.id], [faulty.id, discount.id, canada.id, foreign.id], []):
        with pytest.raises(service.RulesOrderMismatch):
            service.reorder(account.id, bad)
        assert positions(account.id) == expected
    service.reorder(account.id, [canada.id, faulty.id, discount.id])
    assert positions(account.id) == [(canada.name, 1), (faulty.name, 2), (discount.name, 3)]
    assert positions(other.id) == [(foreign.name, 1)]


def test_move_and_delete_keep_positions_one_to_n(account):
    faulty, discount, canada = spec_rules(account)
    service.move(account.id, canada.id, -1)
    assert positions(account.id) == [(faulty.name, 1), (canada.name, 2), (discount.name, 3)]
    service.move(account.id, faulty.id, -1)  # already at the top: nothing moves
    service.move(account.id, discount.id, +1)
    assert positions(account.id) == [(faulty.name, 1), (canada.name, 2), (discount.name, 3)]
    service.delete_rule(account.id, faulty.id)
    assert positions(account.id) == [(canada.name, 1), (discount.name, 2)]
    with pytest.raises(service.RuleNotFound):
        service.move(account.id, faulty.id, 1)


def test_the_spec_examples_decide_as_written_and_priority_decides_the_overlap(account):
    faulty, discount, canada = spec_rules(account)
    ret = make_return(account, canadian_order(account), ["Faulty", "Too small"])
    plain = make_return(account, make_order(account, shipping_country="US"), ["Too small"])
    db.session.commit()
    assert service.decide_return(ret.id) == "decided 2 of 2"
    # Faulty (rule 1) beats the 60 % discount (rule 2) and Canada (rule 3); "Too small" falls to rule 2.
    assert decided(ret.id) == [("DECIDED", "refund", faulty.id, 1), ("DECIDED", "credit", discount.id, 1)]
    service.decide_return(plain.id)
    assert decided(plain.id) == [("UNDECIDED", None, None, None)]  # no match: staff decide
    trace = db.session.get(Return, plain.id).items[0].decision_trace
    assert trace["outcome"] is None and trace["rule_id"] is None

    # Canada first: the same kind of return now gets No Action, and the trace explains it.
    service.reorder(account.id, [canada.id, faulty.id, discount.id])
    again = make_return(account, canadian_order(account), ["Faulty"])
    db.session.commit()
    service.decide_return(again.id)
    assert decided(again.id) == [("NO_ACTION", None, canada.id, 1)]
    trace = db.session.get(Return, again.id).items[0].decision_trace
    assert trace["conditions"] == [{"condition": "Order Country equal to Canada", "observed": "Canada", "held": True}]
    assert trace["rule_name"] == canada.name and trace["rule_version"] == 1


def test_decide_return_twice_is_the_same_and_records_one_event(account):
    spec_rules(account)
    ret = make_return(account, canadian_order(account), ["Faulty", "Changed my mind"])
    db.session.commit()
    service.decide_return(ret.id)
    first = decided(ret.id)
    assert service.decide_return(ret.id) == "nothing to decide"
    assert decided(ret.id) == first
    events = db.session.scalars(select(ReturnEvent).where(ReturnEvent.return_id == ret.id)).all()
    assert [e.kind for e in events] == ["rules_decided"]
    assert "Refund by rule “Faulty items are refunded” (version 1)" in events[0].message


def test_customer_choice_takes_precedence(app):
    account = make_account(option_mode="customer_choice")
    db.session.commit()
    spec_rules(account)
    ret = make_return(account, make_order(account), ["Faulty"])
    db.session.commit()
    assert service.decide_return(ret.id) == "customer choice: rules not run"
    assert decided(ret.id) == [("UNDECIDED", None, None, None)]
    assert db.session.get(Return, ret.id).items[0].decision_trace is None


def test_a_return_whose_options_the_customer_chose_is_not_overruled(account):
    spec_rules(account)
    ret = make_return(account, make_order(account), ["Faulty"], option_source="customer")
    db.session.commit()
    assert service.decide_return(ret.id) == "not a rules return"
    assert decided(ret.id) == [("UNDECIDED", None, None, None)]


def test_missing_returns_and_purged_orders_are_handled(account):
    spec_rules(account)
    assert service.decide_return(987654321) == "missing"
    order = make_order(account)
    ret = make_return(account, order, ["Faulty"])
    db.session.commit()
    db.session.delete(order)  # purged past retention: the return keeps its snapshot
    db.session.commit()
    assert service.decide_return(ret.id) == "order gone"
    assert decided(ret.id) == [("UNDECIDED", None, None, None)]
    assert "no longer stored" in db.session.get(Return, ret.id).items[0].decision_trace["note"]
    assert service.decide_return(ret.id) == "nothing to decide"


def test_disabled_rules_never_decide(account):
    faulty, *_ = spec_rules(account)
    service.set_enabled(account.id, faulty.id, False)
    ret = make_return(account, make_order(account, shipping_country="US"), ["Faulty"])
    db.session.commit()
    service.decide_return(ret.id)
    assert decided(ret.id) == [("UNDECIDED", None, None, None)]


def test_seed_rules_demo_creates_the_examples_once(app):
    account = make_account()
    db.session.commit()
    service.seed_rules_demo(account)
    service.seed_rules_demo(account)
    rules = service.rules_of(account.id)
    assert [(r.position, service.describe(r.conditions[0]), r.outcome) for r in rules] == [
        (1, "Order Return Reason equal to Faulty", "refund"),
        (2, "Order Discount Percent greater than 50", "credit"),
        (3, "Order Country equal to Canada", "no_action"),
        (4, "Customer Returns (12 months) at least 3", "no_action")]
    assert account.option_mode == "rules"


def test_the_trace_partial_explains_a_stored_decision(app, account):
    from flask import render_template

    faulty = service.create_rule(account.id, FAULTY_REFUND)
    ret = make_return(account, make_order(account), ["Faulty", "Too small"])
    db.session.commit()
    service.decide_return(ret.id)
    service.update_rule(account.id, faulty.id, {**FAULTY_REFUND, "name": "Renamed later"})
    ret = db.session.get(Return, ret.id)
    with app.test_request_context():
        hit, miss = (render_template("dashboard/_partials/rule_trace.html", item=item) for item in ret.items)
    assert "Rule <strong>“Faulty items are refunded”</strong> (version 1) decided: <strong>Refund</strong>" in hit
    assert "Order Return Reason equal to faulty <span class=\"muted\">(saw faulty)</span>" in hit
    assert "No rule matched when the return was made: staff decide." in miss


def test_a_hand_edited_unknown_condition_is_shown_raw_and_skipped(account):
    rule = service.create_rule(account.id, FAULTY_REFUND)
    rule.conditions = [{"dimension": "shoe_size", "operator": "is", "value": "42"}]
    db.session.commit()
    assert service.describe(rule.conditions[0]) == "shoe_size is 42"
    assert service.rule_defs(account.id) == []

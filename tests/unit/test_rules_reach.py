"""What the rules can produce, and the sentences built on it: no promise names an outcome no live
rule gives, and staff are mentioned exactly when some item can be left to them."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.rules import evaluate_in_order
from app.domain.rules_parse import parse_rule
from app.domain.rules_reach import ISSUES, admin_summary, reach, shopper_promise, unoffered_reasons
from tests.unit.test_rules_properties import items
from tests.unit.test_rules_warnings import rule

REASONS = ["Faulty", "Too small"]
FAULTY = rule("Faulty", ("return_reason", "is", "Faulty"))
BIG = rule("Big discounts", ("discount_percent", "gt", "50"), outcome="credit")
CANADA = rule("Canada", ("country", "is", "Canada"), outcome="no_action")
EVERYTHING_CREDIT = rule("Everything", outcome="credit")


def test_no_rules_leave_everything_to_staff_and_promise_nothing_else():
    found = reach([], REASONS)
    assert (found.outcomes, found.staff, found.live) == (frozenset(), True, 0)
    text = shopper_promise(found, "Acme")
    assert text == "Acme's staff decide what each item gets. Your return's page will show it."
    assert "exchange" not in text and "refund" not in text


def test_the_spec_examples_give_refund_or_credit_and_leave_the_rest_to_staff():
    found = reach([FAULTY, BIG, CANADA], REASONS)
    assert found.automated == ("refund", "credit") and found.staff
    text = shopper_promise(found, "Acme")
    assert text == ("As soon as you submit, Acme's returns policy decides whether each item gets a refund or a credit "
                    "note; items it does not cover are decided by Acme's staff. Your return's page shows what each "
                    "item gets.")
    assert shopper_promise(reach([FAULTY], REASONS), "Acme") == (
        "As soon as you submit, Acme's returns policy decides which items get a refund; the others are decided by "
        "Acme's staff. Your return's page shows what each item gets.")
    assert "exchange" not in text
    assert admin_summary(found) == ("Rules mode is on: new returns' items get Refund, Credit note or No Action from "
                                    "these rules; items no rule catches or a No Action rule catches wait for staff "
                                    "to decide. The portal tells customers exactly this.")


def test_a_catch_all_leaves_nothing_to_staff():
    found = reach([FAULTY, EVERYTHING_CREDIT], REASONS)
    assert not found.staff
    assert shopper_promise(found, "Acme") == ("As soon as you submit, Acme's returns policy decides whether each item "
                                              "gets a refund or a credit note. Your return's page shows what each "
                                              "item gets.")
    assert shopper_promise(reach([EVERYTHING_CREDIT]), "Acme") == (
        "As soon as you submit, Acme's returns policy gives each item a credit note. Your return's page shows what "
        "each item gets.")


def test_rules_that_cannot_decide_are_left_out():
    off = rule("Off", outcome="credit", enabled=False)
    shadowed = rule("Shadowed", ("tag", "has", "vip"), outcome="credit")
    unoffered = rule("Broken", ("return_reason", "any_of", ["Broken", "Lost"]), outcome="credit")
    found = reach([off, rule("All refunds"), shadowed], REASONS)
    assert found.outcomes == {"refund"} and found.live == 1 and not found.staff
    found = reach([FAULTY, unoffered], REASONS)
    assert found.outcomes == {"refund"} and found.staff
    assert unoffered_reasons(unoffered, REASONS) == ["broken", "lost"]
    assert unoffered_reasons(FAULTY, REASONS) == [] and unoffered_reasons(unoffered, None) == []
    # "is not" an unoffered reason holds for every item: that rule can decide.
    assert reach([rule("Not broken", ("return_reason", "is_not", "Broken"), outcome="credit")], REASONS).live == 1


CHEAP_KEEP = rule("Cheap", ("item_price", "lt", "5"), outcome="keep_refund")
SALE_KEEP_CREDIT = rule("Sale", ("product_tag", "has", "sale"), outcome="keep_credit")
SHOES_EXCHANGE = rule("Shoes", ("product_type", "is", "shoes"), outcome="exchange_only")
CHANGED_MIND_FEE = parse_rule({"name": "Fee", "outcome": "fee", "fee_percentage": "15", "conditions": [
    {"dimension": "return_reason", "operator": "is", "value": "Too small"}]})
RULES = st.lists(st.sampled_from([FAULTY, BIG, CANADA, EVERYTHING_CREDIT,
                                  rule("VIP", ("tag", "has", "vip")),
                                  rule("Off", outcome="refund", enabled=False),
                                  CHEAP_KEEP, SALE_KEEP_CREDIT, SHOES_EXCHANGE, CHANGED_MIND_FEE]), max_size=5)


@settings(max_examples=200, deadline=None)
@given(RULES, st.lists(items(), min_size=1, max_size=10))
def test_every_outcome_an_item_gets_is_one_the_reach_names(rules, facts):
    """Soundness, against the reference evaluator: what any item gets is promised."""
    found = reach(rules)
    for item in facts:
        outcome = evaluate_in_order(rules, item).outcome
        if outcome in ISSUES:   # refund, credit, keep the item (either), restocking fee
            assert ISSUES[outcome] in found.automated
        else:
            assert found.staff


@pytest.mark.parametrize("rules", [[], [CANADA], [FAULTY, BIG, CANADA]])
def test_admin_summary_never_promises_an_exchange(rules):
    assert "xchange" not in admin_summary(reach(rules, REASONS))


def test_keep_and_fee_rules_issue_and_exchange_only_is_left_to_staff():
    found = reach([CHEAP_KEEP, SALE_KEEP_CREDIT, CHANGED_MIND_FEE], REASONS)
    assert found.automated == ("refund", "credit") and found.staff  # nothing catches every item
    only = reach([rule("All shoes", outcome="exchange_only")], REASONS)
    assert only.automated == () and only.staff
    assert admin_summary(only) == ("Rules mode is on: these rules issue nothing by themselves; items no rule "
                                   "catches or an Exchange only rule catches wait for staff to decide. The portal "
                                   "tells customers exactly this.")
    assert "Restocking fee" in admin_summary(reach([CHANGED_MIND_FEE], REASONS))


@pytest.mark.parametrize("rules", [[], [CANADA], [FAULTY, BIG, CANADA]])
def test_admin_summary_never_promises_an_exchange_either(rules):
    assert "xchange" not in admin_summary(reach(rules, REASONS))

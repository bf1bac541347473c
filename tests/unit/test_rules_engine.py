"""The rules engine on the spec's own examples (DESIGN §2.7), its validation and its traces."""
from decimal import Decimal

import pytest

from app.domain.rules import RuleInvalid, evaluate_in_order, item_facts
from app.domain.rules_parse import condition_to_json, parse_rule
from app.domain.rules_index import RuleSet

FAULTY_REFUND = {"name": "Faulty items are refunded", "outcome": "refund",
                 "conditions": [{"dimension": "return_reason", "operator": "is", "value": "Faulty"}]}
BIG_DISCOUNT_CREDIT = {"name": "Heavily discounted get credit", "outcome": "credit",
                       "conditions": [{"dimension": "discount_percent", "operator": "gt", "value": "50"}]}
CANADA_NO_ACTION = {"name": "Canada is handled by hand", "outcome": "no_action",
                    "conditions": [{"dimension": "country", "operator": "is", "value": "Canada"}]}


def facts(reason="Too small", country="US", subtotal="100.00", discounts="0.00", tags=(), codes=(), total=None):
    return item_facts(tags=tags, total_price=Decimal(total or subtotal), subtotal_price=Decimal(subtotal),
                      total_discounts=Decimal(discounts), country=country, reason=reason, codes=codes)


def rules(*raws):
    return [parse_rule(raw, rule_id=i + 1) for i, raw in enumerate(raws)]


def both(rule_list, item):
    """Evaluate with the fast index and the reference; they must agree."""
    fast, slow = RuleSet(rule_list).evaluate(item), evaluate_in_order(rule_list, item)
    assert fast == slow
    return fast


def test_return_reason_equal_to_faulty_refunds():
    decision = both(rules(FAULTY_REFUND), facts(reason="faulty "))
    assert decision.outcome == "refund" and decision.rule_name == "Faulty items are refunded"
    assert decision.trace[0].condition == "Order Return Reason equal to faulty"
    assert decision.trace[0].observed == "faulty" and decision.trace[0].held


def test_discount_percent_greater_than_50_gives_credit():
    # 60 off a 40 subtotal: discounts ÷ (subtotal + discounts) = 60%.
    decision = both(rules(BIG_DISCOUNT_CREDIT), facts(subtotal="40.00", discounts="60.00"))
    assert decision.outcome == "credit"
    assert decision.trace[0].observed == "60"
    assert both(rules(BIG_DISCOUNT_CREDIT), facts(subtotal="50.00", discounts="50.00")).outcome is None  # not > 50


def test_country_equal_to_canada_is_no_action_by_name_or_code():
    canada = rules(CANADA_NO_ACTION)
    assert both(canada, facts(country="CA")).outcome == "no_action"
    assert both(canada, facts(country="canada")).outcome == "no_action"
    assert both(canada, facts(country="US")).outcome is None
    assert both(canada, facts(country=None)).outcome is None
    as_code = rules({**CANADA_NO_ACTION, "conditions": [{"dimension": "country", "operator": "is", "value": "CA"}]})
    assert as_code[0].conditions == canada[0].conditions


@pytest.mark.parametrize("order, expected", [
    ((FAULTY_REFUND, CANADA_NO_ACTION), "refund"),
    ((CANADA_NO_ACTION, FAULTY_REFUND), "no_action"),
])
def test_a_canadian_faulty_return_hits_whichever_rule_is_higher(order, expected):
    assert both(rules(*order), facts(reason="Faulty", country="CA")).outcome == expected


def test_disabled_rules_never_fire_and_no_match_automates_nothing():
    disabled = {**FAULTY_REFUND, "enabled": False}
    decision = both(rules(disabled), facts(reason="Faulty"))
    assert decision.outcome is None and decision.rule_id is None and decision.trace == ()


def test_the_first_match_stops_evaluation_and_records_its_version():
    rule_list = [parse_rule(FAULTY_REFUND, rule_id=7, version=3), parse_rule(CANADA_NO_ACTION, rule_id=8)]
    decision = both(rule_list, facts(reason="Faulty", country="CA"))
    assert (decision.rule_id, decision.rule_version) == (7, 3)
    assert decision.as_dict()["conditions"][0]["held"] is True


@pytest.mark.parametrize("condition, item, held", [
    ({"dimension": "tag", "operator": "has", "value": "VIP"}, facts(tags=[" vip", "wholesale"]), True),
    ({"dimension": "tag", "operator": "has_not", "value": "vip"}, facts(tags=["VIP"]), False),
    ({"dimension": "order_value", "operator": "between", "value": ["50", "100"]}, facts(subtotal="100.00"), True),
    ({"dimension": "order_value", "operator": "lte", "value": "99.99"}, facts(subtotal="100.00"), False),
    ({"dimension": "order_value", "operator": "ne", "value": "100"}, facts(subtotal="100.00"), False),
    ({"dimension": "discount_value", "operator": "gte", "value": "10"}, facts(discounts="10.00"), True),
    ({"dimension": "country", "operator": "any_of", "value": ["Canada", "Mexico"]}, facts(country="MX"), True),
    ({"dimension": "country", "operator": "none_of", "value": "Canada, US"}, facts(country="FR"), True),
    ({"dimension": "return_reason", "operator": "any_of", "value": ["Faulty", "Wrong item sent"]},
     facts(reason="Wrong Item Sent"), True),
    ({"dimension": "return_reason", "operator": "is_not", "value": "Faulty"}, facts(reason="faulty"), False),
    ({"dimension": "discount_code", "operator": "is", "value": "SUMMER10"}, facts(codes=["summer10"]), True),
    ({"dimension": "discount_code", "operator": "contains", "value": "staff"}, facts(codes=["STAFF-50"]), True),
    ({"dimension": "discount_code", "operator": "any_of", "value": "A, B"}, facts(codes=["c"]), False),
    ({"dimension": "discount_code", "operator": "none_used"}, facts(codes=[]), True),
    ({"dimension": "discount_code", "operator": "none_used"}, facts(codes=["X"]), False),
])
def test_every_operator(condition, item, held):
    rule = {"name": "r", "outcome": "refund", "conditions": [condition]}
    assert (both(rules(rule), item).outcome == "refund") is held


def test_zero_subtotal_and_missing_data_never_raise():
    item = item_facts(tags=None, total_price=None, subtotal_price=None, total_discounts=None, country=None,
                      reason=None, codes=None)
    assert item.discount_percent == 0
    assert both(rules(BIG_DISCOUNT_CREDIT, FAULTY_REFUND, CANADA_NO_ACTION), item).outcome is None


@pytest.mark.parametrize("raw, field, message", [
    ({"name": "", "outcome": "refund"}, "name", "Give the rule a name."),
    ({"name": "x", "outcome": "cash"}, "outcome", "Choose what the rule does"),
    ({"name": "x", "outcome": "refund", "conditions": [{"dimension": "weather", "operator": "is"}]},
     "conditions.0.dimension", "Choose what the condition looks at."),
    ({"name": "x", "outcome": "refund", "conditions": [{"dimension": "country", "operator": "gt", "value": "CA"}]},
     "conditions.0.operator", "Choose how to compare"),
    ({"name": "x", "outcome": "refund", "conditions": [{"dimension": "order_value", "operator": "gt", "value": "ten"}]},
     "conditions.0.value", "is not a number"),
    ({"name": "x", "outcome": "refund",
      "conditions": [{"dimension": "order_value", "operator": "between", "value": ["100", "50"]}]},
     "conditions.0.value", "must not be above"),
    ({"name": "x", "outcome": "refund", "conditions": [{"dimension": "country", "operator": "is", "value": "Narnia"}]},
     "conditions.0.value", "not a country we know"),
    ({"name": "x", "outcome": "refund",
      "conditions": [{"dimension": "discount_percent", "operator": "gt", "value": "150"}]},
     "conditions.0.value", "between 0 and 100"),
    ({"name": "x", "outcome": "refund", "conditions": [{"dimension": "tag", "operator": "has", "value": ""}]},
     "conditions.0.value", "Enter a value."),
    ({"name": "x", "outcome": "refund", "conditions": [{"dimension": "order_value", "operator": "gt", "value": "NaN"}]},
     "conditions.0.value", "is not a number"),
])
def test_invalid_definitions_are_refused_with_a_message_for_the_field(raw, field, message):
    with pytest.raises(RuleInvalid) as invalid:
        parse_rule(raw)
    assert any(f == field and message in m for f, m in invalid.value.errors), invalid.value.errors


def test_a_condition_survives_its_stored_form():
    rule = parse_rule({"name": "x", "outcome": "credit", "conditions": [
        {"dimension": "order_value", "operator": "between", "value": ["10", "20.5"]},
        {"dimension": "country", "operator": "any_of", "value": ["Canada", "mx"]},
        {"dimension": "discount_code", "operator": "none_used"}]})
    stored = [condition_to_json(c) for c in rule.conditions]
    again = parse_rule({"name": "x", "outcome": "credit", "conditions": stored})
    assert again.conditions == rule.conditions

"""The new rule outcomes in the pure engine: Keep item, Exchange only and a Restocking fee with its
own percentage (typed by an admin, so every hostile spelling is refused with a clear message)."""
from decimal import Decimal

import pytest

from app.domain.rules import RuleInvalid
from app.domain.rules_parse import outcome_words, parse_rule
from app.domain.rules_index import RuleSet
from app.domain.rules_input import validate
from tests.unit.test_rules_properties import item_facts


def fee_rule(percentage, **more):
    return parse_rule({"name": "Fee", "outcome": "fee", "fee_percentage": percentage, "conditions": [], **more})


@pytest.mark.parametrize("typed, kept", [("15", Decimal(15)), (" 12.5 % ", Decimal("12.5")), ("100", Decimal(100)),
                                         ("0.01", Decimal("0.01")), ("7.50", Decimal("7.50"))])
def test_a_fee_percentage_is_read_as_typed(typed, kept):
    assert fee_rule(typed).fee_percentage == kept


@pytest.mark.parametrize("typed, says", [
    ("", "Enter the restocking fee"), (None, "Enter the restocking fee"), ("0", "more than 0%"),
    ("100.01", "at most 100%"), ("101", "at most 100%"), ("-5", "in digits"), ("1e2", "in digits"),
    ("²", "in digits"), ("١٥", "in digits"), ("１５", "in digits"), ("15\x00", "in digits"), ("1\ud800", "in digits"),
    ("9" * 400, "in digits"), ("12.345", "in digits"), ("NaN", "in digits"), ("Infinity", "in digits"),
    (["15"], "Enter the restocking fee"), (15.5, "Enter the restocking fee")])
def test_a_hostile_fee_percentage_is_refused_on_its_field(typed, says):
    with pytest.raises(RuleInvalid) as refused:
        fee_rule(typed)
    assert [field for field, _ in refused.value.errors] == ["fee_percentage"]
    assert says in refused.value.errors[0][1]


def test_only_a_fee_rule_reads_and_keeps_a_percentage():
    assert parse_rule({"name": "K", "outcome": "keep_refund", "fee_percentage": "²"}).fee_percentage is None
    stored, _ = validate({"name": "K", "outcome": "keep_credit", "fee_percentage": "15", "conditions": []})
    assert stored["fee_percentage"] is None and stored["outcome"] == "keep_credit"
    stored, _ = validate({"name": "F", "outcome": "fee", "fee_percentage": "15", "conditions": []})
    assert stored["fee_percentage"] == Decimal(15)


def test_the_outcome_is_said_with_its_percentage():
    assert outcome_words("fee", Decimal("15.00")) == "Restocking fee 15%"
    assert outcome_words("fee", "12.50") == "Restocking fee 12.5%"
    assert outcome_words("keep_refund") == "Refund, keep the item"
    assert outcome_words("keep_credit") == "Credit note, keep the item"
    assert outcome_words("exchange_only") == "Exchange only"
    assert outcome_words(None) == ""


def test_a_fee_decision_carries_the_percentage_into_its_trace():
    decision = RuleSet([fee_rule("15")]).evaluate(item_facts(tags=(), total_price=10, subtotal_price=10,
                                                             total_discounts=0, country="CA", reason="x", codes=()))
    assert decision.outcome == "fee" and decision.as_dict()["fee_percentage"] == "15"
    keep = parse_rule({"name": "Keep", "outcome": "keep_refund", "conditions": []})
    assert "fee_percentage" not in RuleSet([keep]).evaluate(
        item_facts(tags=(), total_price=1, subtotal_price=1, total_discounts=0, country=None, reason="x",
                   codes=())).as_dict()


def test_an_unknown_outcome_names_every_outcome():
    with pytest.raises(RuleInvalid) as refused:
        parse_rule({"name": "x", "outcome": "ship_it"})
    message = dict(refused.value.errors)["outcome"]
    assert "Refund, keep the item" in message and "Exchange only" in message and "Restocking fee" in message

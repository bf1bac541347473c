"""How a row of the staff returns list sums up a return's items (app.domain.triage)."""
from decimal import Decimal
from types import SimpleNamespace

from app.domain.triage import summarize_items


def item(option, resolution, quantity=1, value="20.00"):
    return SimpleNamespace(option=option, resolution=resolution, quantity=quantity, unit_value=Decimal(value))


def test_units_value_and_options_in_a_fixed_order():
    summary = summarize_items([item("exchange", "ISSUED"), item(None, "UNDECIDED", 2, "12.50"),
                               item("refund", "ISSUED")])
    assert summary.quantity == 4 and summary.value == Decimal("65.00")
    assert summary.options == ["refund", "exchange", None]


def test_a_failure_is_named_first_and_flagged():
    summary = summarize_items([item("refund", "ISSUED"), item("exchange", "FAILED")])
    assert summary.failed and not summary.needs_decision
    assert summary.state_text == "1 failed, 1 issued"


def test_one_state_reads_as_a_word_and_decisions_are_flagged():
    assert summarize_items([item("credit", "ISSUED")]).state_text == "Issued"
    assert summarize_items([item("credit", "ISSUED", 3)]).state_text == "All issued"
    waiting = summarize_items([item(None, "NO_ACTION")])
    assert waiting.needs_decision and waiting.state_text == "No action" and not waiting.failed


def test_no_items_is_an_empty_summary():
    summary = summarize_items([])
    assert summary.quantity == 0 and summary.value == Decimal("0.00") and summary.options == []
    assert summary.state_text == "" and not summary.failed and not summary.needs_decision

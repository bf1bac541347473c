"""Return fees as the settings page reads them and as the shopper is shown them (app.domain.fees)."""
from decimal import Decimal

import pytest

from app.domain import fees

REASONS = ["Faulty", "Changed my mind", "Too small"]


def test_restocking_fees_are_read_one_reason_a_line_and_keyed_by_the_reasons_own_spelling():
    text = "changed my mind: 10\n\n  Too small : 12.50 %  \n"
    assert fees.parse_percentage_lines(text, REASONS) == {"Changed my mind": "10", "Too small": "12.5"}
    assert fees.percentage_lines({"Changed my mind": "10", "Too small": "12.5"}) == \
        "Changed my mind: 10\nToo small: 12.5"


@pytest.mark.parametrize("text, says", [
    ("Lost it: 10", "not one of your return reasons"),
    ("Faulty: 10\nfaulty: 5", "two restocking fees"),
    ("Faulty: 0", "more than 0%"),
    ("Faulty: 100.01", "at most 100%"),
    ("Faulty: 101", "at most 100%"),
    ("Faulty: ²0", "write a reason"),
    ("Faulty: ١٠", "write a reason"),
    ("Faulty 10", "write a reason"),
    ("Faulty: 1e3", "write a reason"),
    ("Faulty: -5", "write a reason"),
    ("Faulty: NaN", "write a reason"),
])
def test_a_restocking_fee_line_that_cannot_be_kept_says_why(text, says):
    with pytest.raises(fees.FeeRefused, match=says):
        fees.parse_percentage_lines(text, REASONS)


@pytest.mark.parametrize("text, amount", [("", None), ("  ", None), ("0", None), ("0.00", None),
                                          ("5", Decimal("5")), ("4.95", Decimal("4.95"))])
def test_a_shipping_fee_is_an_amount_or_none(text, amount):
    assert fees.parse_shipping_fee(text) == amount


@pytest.mark.parametrize("text", ["-1", "5,00", "1e2", "５", "²", "5.001", "99999999", "NaN", "Infinity", "5 USD"])
def test_a_shipping_fee_that_is_not_an_amount_is_refused(text):
    with pytest.raises(fees.FeeRefused):
        fees.parse_shipping_fee(text)


def test_refunds_and_credit_notes_pay_the_fees_and_exchanges_do_not():
    estimate = fees.estimate([(Decimal("40.00"), 2, "refund", Decimal("10")),
                              (Decimal("25.00"), 1, "credit", Decimal("12.5")),
                              (Decimal("30.00"), 1, "exchange", Decimal("10"))], Decimal("4.95"))
    assert [i.fee for i in estimate.items] == [Decimal("8.00"), Decimal("3.13"), Decimal("0.00")]
    assert estimate.items[2].percentage is None
    assert (estimate.value, estimate.shipping_fee, estimate.fees) == \
        (Decimal("135.00"), Decimal("4.95"), Decimal("16.08"))
    assert estimate.total == Decimal("118.92")


def test_a_return_of_exchanges_only_pays_no_shipping_fee():
    estimate = fees.estimate([(Decimal("30.00"), 1, "exchange", Decimal("10"))], Decimal("4.95"))
    assert (estimate.fees, estimate.total) == (Decimal("0.00"), Decimal("30.00"))


def test_an_item_rules_have_not_decided_yet_pays_its_reasons_fee():
    estimate = fees.estimate([(Decimal("19.99"), 1, None, Decimal("15"))], None)
    assert estimate.items[0].fee == Decimal("3.00")  # 2.9985, half up to the cent
    assert estimate.total == Decimal("16.99")


def test_fees_never_take_the_total_below_zero():
    estimate = fees.estimate([(Decimal("2.00"), 1, "refund", Decimal("100"))], Decimal("5.00"))
    assert estimate.total == Decimal("0.00")


def test_a_stored_percentage_that_is_not_one_counts_as_none():
    assert fees.restocking_percentage({"Faulty": "abc"}, "Faulty") is None
    assert fees.restocking_percentage({"Faulty": "150"}, "Faulty") is None
    assert fees.restocking_percentage(None, "Faulty") is None
    assert fees.restocking_percentage({"Faulty": "7.5"}, "Faulty") == Decimal("7.5")

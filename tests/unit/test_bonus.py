"""Bonus credit as an admin types it and as an item earns it (app.domain.bonus)."""
from decimal import Decimal

import pytest

from app.domain.bonus import Bonus, BonusRefused, item_bonus, parse_bonus, stored_bonus


@pytest.mark.parametrize("typed, stored", [("10%", "10%"), (" 12.5 % ", "12.5%"), ("5", "5.00"), ("4.95", "4.95"),
                                           ("", None), ("0%", None), ("0.00", None)])
def test_a_bonus_is_a_percentage_or_an_amount(typed, stored):
    bonus = parse_bonus(typed)
    assert (bonus.stored() if bonus else None) == stored


@pytest.mark.parametrize("typed", ["-5", "101%", "5,00", "1e2", "²%", "５", "10 %%", "NaN", "5 USD", "12345",
                                   "5.001", "\x00", "\ud800"])
def test_a_bonus_that_is_neither_is_refused(typed):
    with pytest.raises(BonusRefused):
        parse_bonus(typed)


def test_only_a_credit_note_or_an_exchange_earns_a_bonus():
    credit, exchange = Bonus(percent=Decimal("10")), Bonus(amount=Decimal("5.00"))
    assert item_bonus("credit", Decimal("19.99"), 3, credit, exchange) == Decimal("6.00")   # 5.997, half up
    assert item_bonus("exchange", Decimal("19.99"), 3, credit, exchange) == Decimal("15.00")
    assert item_bonus("refund", Decimal("19.99"), 3, credit, exchange) is None
    assert item_bonus(None, Decimal("19.99"), 3, credit, exchange) is None                  # rules decide later
    assert item_bonus("credit", Decimal("19.99"), 3, None, exchange) is None


def test_a_stored_bonus_that_cannot_be_read_counts_as_none():
    assert stored_bonus("garbage") is None and stored_bonus(None) is None
    assert stored_bonus("10%") == Bonus(percent=Decimal("10"))


def test_the_shopper_reads_what_the_bonus_is():
    assert Bonus(percent=Decimal("12.50")).describe("USD") == "12.5% extra"
    assert Bonus(amount=Decimal("5")).describe("USD") == "5.00 USD extra per item"

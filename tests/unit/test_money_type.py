"""The Money column type's value handling, without a database."""
from decimal import Decimal

import pytest

from app.models.types import Money, canonical_money, to_decimal


class _Dialect:
    def __init__(self, name):
        self.name = name


@pytest.mark.parametrize("raw, expected", [
    ("12345678.91", "12345678.91"), ("0.10", "0.10"), ("0.1000", "0.10"), ("5", "5.00"),
    ("1.2345", "1.2345"), ("-3.5", "-3.50"), ("0", "0.00"),
])
def test_canonical_money_keeps_two_places_and_drops_storage_padding(raw, expected):
    assert str(canonical_money(Decimal(raw))) == expected


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("amount", ["12345678.91", "0.10", "999999999999999.9999", "-0.01", "0.0001"])
def test_money_round_trips_through_each_dialects_representation(dialect, amount):
    column = Money()
    stored = column.process_bind_param(Decimal(amount), _Dialect(dialect))
    if dialect == "sqlite":
        assert isinstance(stored, int)  # exact: ten-thousandths, never a float
    assert column.process_result_value(stored, _Dialect(dialect)) == Decimal(amount)


def test_money_refuses_to_round_silently():
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        Money().process_bind_param(Decimal("1.23456"), _Dialect("sqlite"))


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity", "1e", True, None, [1]])
def test_to_decimal_rejects_what_is_not_an_amount(bad):
    with pytest.raises(ValueError):
        to_decimal(bad)


def test_to_decimal_does_not_pass_through_binary_floating_point():
    # Decimal(0.1) would be 0.1000000000000000055511151231257827...
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("  19.99 ") == Decimal("19.99")

"""The pure arithmetic of a Shopify return: reasons, markers and notes, spreading units over
fulfillment line items, sharing money between items, exchange discounts, gift card codes."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import issuing as I


@pytest.mark.parametrize("reason, handle", [
    ("Faulty", "damaged-or-defective"), ("Arrived broken", "damaged-or-defective"),
    ("Too small", "too-small"), ("Too large", "too-big"), ("too big!", "too-big"),
    ("Not as described", "item-not-as-described"), ("Wrong item sent", "received-the-wrong-item"),
    ("Changed my mind", "changed-my-mind"), ("Colour looks different", "color"),
    ("Arrived too late", "other-reason"), ("", "other-reason"), ("\x00\ud800", "other-reason"),
])
def test_every_default_reason_maps_to_a_shopify_reason_definition(reason, handle):
    assert I.reason_handle(reason) == handle


def test_markers_of_one_return_never_prefix_each_other():
    first, second, legacy = I.return_marker("R-100001", 1), I.return_marker("R-100001", 2), I.legacy_marker("R-100001")
    assert (first, second) == ("R-100001", "R-100001/2")
    note = I.reason_note(second, "Too small", None)
    assert I.has_marker(note, second) and not I.has_marker(note, first)
    assert not I.has_marker(I.reason_note(legacy, "x", None), first)
    assert not I.has_marker(I.reason_note("R-1000011", "x", None), "R-100001")  # another return's RMA


@given(st.text(max_size=2000), st.text(max_size=2000))
def test_a_note_is_at_most_255_characters_and_starts_with_the_marker(reason, customer_note):
    note = I.reason_note("R-123456/3", reason, customer_note)
    assert len(note) <= I.REASON_NOTE_MAX and I.has_marker(note, "R-123456/3")


def test_units_spread_oldest_fulfillment_first_and_never_twice():
    units = [I.Returnable(11, 1, 1), I.Returnable(12, 2, 3), I.Returnable(21, 1, 1)]
    taken = {}
    assert I.spread(1, 2, units, taken) == [(units[0], 1), (units[2], 1)]
    assert I.spread(1, 1, units, taken) is None  # both units of line 1 are taken now
    assert I.spread(2, 3, units, taken) == [(units[1], 3)]
    assert taken == {11: 1, 21: 1, 12: 3}


def test_a_shortfall_takes_nothing():
    units, taken = [I.Returnable(11, 1, 1)], {}
    assert I.spread(1, 2, units, taken) is None and taken == {}


@given(st.decimals(min_value=0, max_value=100000, places=2),
       st.lists(st.decimals(min_value=0, max_value=1000, places=2), min_size=1, max_size=6))
def test_shares_sum_exactly_to_the_total(total, weights):
    shares = I.allocate(total, weights)
    assert sum(shares) == total and len(shares) == len(weights)


def test_shares_follow_the_weights():
    assert I.allocate(Decimal("100.00"), [Decimal(1), Decimal(3)]) == [Decimal("25.00"), Decimal("75.00")]
    assert I.allocate(Decimal("10.00"), [Decimal(1)] * 3) == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]


@pytest.mark.parametrize("price, value, discount", [
    ("60.00", "45.00", "15.00"), ("45.00", "45.00", "0"), ("40.00", "45.00", "0"), ("59.999", "45", "15.00"),
])
def test_an_exchanged_unit_nets_to_zero_against_the_returned_one(price, value, discount):
    assert I.exchange_discount(Decimal(price), Decimal(value)) == Decimal(discount)


def test_gift_card_codes_are_stable_secret_and_within_shopifys_rules():
    code = I.gift_card_code(b"secret", "credit", 7, 3)
    assert code == I.gift_card_code(b"secret", "credit", 7, 3)
    assert code != I.gift_card_code(b"other secret", "credit", 7, 3)
    assert code != I.gift_card_code(b"secret", "credit", 7, 4)
    assert 8 <= len(code) <= 20 and code.isalnum()  # Shopify: 8–20 letters and digits

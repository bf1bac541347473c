"""Return windows per shipped unit: counted from the order date or from each parcel's delivery
(its shipping date while delivery is unknown), and what the shopper is told."""
from datetime import date, datetime, timedelta, timezone

from app.domain.eligibility import LineFacts, OrderFacts, Policy, Reason, line_eligibility
from app.domain.return_window import DELIVERY, ORDER, Parcel, UnitWindow, line_windows, return_by

ORDERED = datetime(2026, 11, 1, 15, 0, tzinfo=timezone.utc)
SHIPPED = ORDERED + timedelta(days=2)
ARRIVED = ORDERED + timedelta(days=6)
LINE = 11


def windows(parcels, basis=DELIVERY, fulfilled=2, latest=None):
    return line_windows(LINE, fulfilled, ORDERED, parcels, basis, 30, latest)


def test_the_order_date_basis_ignores_parcels():
    assert windows([Parcel(SHIPPED, ARRIVED, {LINE: 2})], basis=ORDER) == (UnitWindow(date(2026, 12, 1), 2),)


def test_delivery_counts_from_the_day_the_parcel_arrived():
    assert windows([Parcel(SHIPPED, ARRIVED, {LINE: 2})]) == (UnitWindow(date(2026, 12, 7), 2),)


def test_an_undelivered_parcel_counts_from_its_shipping_day():
    assert windows([Parcel(SHIPPED, None, {LINE: 2})]) == (UnitWindow(date(2026, 12, 3), 2),)


def test_a_line_split_over_two_parcels_counts_each_unit_from_its_parcel():
    later = ARRIVED + timedelta(days=5)
    got = windows([Parcel(SHIPPED, later, {LINE: 1}), Parcel(SHIPPED, ARRIVED, {LINE: 1, 99: 3})])
    assert got == (UnitWindow(date(2026, 12, 7), 1), UnitWindow(date(2026, 12, 12), 1))
    assert return_by(got) == "Return 1 by 7 December 2026 and 1 by 12 December 2026"


def test_parcels_known_by_dates_only_count_from_the_earliest():
    got = windows([Parcel(SHIPPED + timedelta(days=4), None), Parcel(SHIPPED, None)])
    assert got == (UnitWindow(date(2026, 12, 3), 2),)


def test_orders_whose_parcels_were_never_read_count_from_the_order_date():
    assert windows(None) == (UnitWindow(date(2026, 12, 1), 2),)


def test_units_no_parcel_names_count_from_the_order_date():
    assert windows([Parcel(SHIPPED, ARRIVED, {LINE: 1})]) == (
        UnitWindow(date(2026, 12, 1), 1), UnitWindow(date(2026, 12, 7), 1))


def test_no_window_ends_after_the_cap():
    assert windows([Parcel(SHIPPED, ARRIVED, {LINE: 2})], latest=date(2026, 12, 5)) == (
        UnitWindow(date(2026, 12, 5), 2),)


def test_the_window_holds_all_of_its_last_day():
    window = UnitWindow(date(2026, 12, 7), 1)
    assert window.open_at(datetime(2026, 12, 7, 23, 59, 59, tzinfo=timezone.utc))
    assert not window.open_at(datetime(2026, 12, 8, 0, 0, tzinfo=timezone.utc))


POLICY = Policy(return_window_days=30, storage_months=3, window_basis=DELIVERY)


def verdict(now, parcels, refunded=0):
    facts = LineFacts(quantity=2, fulfilled=2, refunded=refunded, in_returns=0,
                      windows=line_windows(LINE, 2, ORDERED, parcels, DELIVERY, 30))
    return line_eligibility(OrderFacts(created_at=ORDERED), facts, POLICY, now)


def test_units_of_a_parcel_whose_window_closed_are_not_returnable():
    split = [Parcel(SHIPPED, ARRIVED, {LINE: 1}), Parcel(SHIPPED, ARRIVED + timedelta(days=5), {LINE: 1})]
    between = datetime(2026, 12, 9, tzinfo=timezone.utc)
    result = verdict(between, split)
    assert result.returnable == 1 and result.return_by == "Return by 12 December 2026"
    after = verdict(datetime(2026, 12, 13, tzinfo=timezone.utc), split)
    assert after.returnable == 0 and after.reason == Reason.OUTSIDE_WINDOW
    assert after.message == "The return window for this item closed on 12 December 2026."


def test_an_order_delivered_late_is_returnable_after_thirty_days_from_the_order():
    late = [Parcel(SHIPPED, ORDERED + timedelta(days=20), {LINE: 2})]
    result = verdict(ORDERED + timedelta(days=35), late)
    assert result.returnable == 2 and result.return_by == "Return by 21 December 2026"


def test_units_already_refunded_are_taken_from_closed_windows_first():
    split = [Parcel(SHIPPED, ARRIVED, {LINE: 1}), Parcel(SHIPPED, ARRIVED + timedelta(days=5), {LINE: 1})]
    assert verdict(datetime(2026, 12, 9, tzinfo=timezone.utc), split, refunded=1).returnable == 1

"""When each shipped unit's return window closes (pure: plain values in and out).

The retailer picks what the window counts from: the order date, or the day the parcel arrived
(its fulfilment date while the delivery date is unknown). A line shipped in two parcels has two
windows, one per parcel. A window lasts `days` whole days and closes at the end of its last day
(UTC), so "Return by 3 January" holds all of 3 January.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping, Sequence

from app.domain.formatting import format_date

ORDER, DELIVERY = "order", "delivery"
BASES = (ORDER, DELIVERY)
BASIS_LABELS = {
    ORDER: "The order date",
    DELIVERY: "Delivery (the shipping date when delivery is unknown)",
}


@dataclass(frozen=True)
class Parcel:
    """One fulfillment: when it shipped, when it arrived (None: unknown) and the units of each
    line it carried (by Shopify line id; None when only the dates are known)."""

    created_at: datetime
    delivered_at: datetime | None = None
    lines: Mapping[int, int] | None = None

    @property
    def start(self) -> datetime:
        """What a delivery-based window counts from."""
        return self.delivered_at or self.created_at


@dataclass(frozen=True)
class UnitWindow:
    """`units` of a line whose window closes at the end of `last_day`."""

    last_day: date
    units: int

    @property
    def closes_at(self) -> datetime:
        """The last moment of the window."""
        return datetime.combine(self.last_day, time.max, tzinfo=timezone.utc)

    def open_at(self, now: datetime) -> bool:
        """Whether a return may still be started at `now`."""
        return now <= self.closes_at


def last_day(start: datetime, days: int, latest: date | None = None) -> date:
    """The window's last day: `days` after `start` (UTC), never after `latest`."""
    day = (start.astimezone(timezone.utc) + timedelta(days=days)).date()
    return min(day, latest) if latest else day


def line_windows(line_id: int, fulfilled: int, order_created: datetime, parcels: Sequence[Parcel] | None,
                 basis: str, days: int, latest: date | None = None) -> tuple[UnitWindow, ...]:
    """The windows of a line's shipped units, earliest first.

    Counted from the order date when that is the retailer's choice or when the order's parcels
    were never read. Otherwise each unit counts from its own parcel; units no parcel names (a
    parcel known by its dates only, as the bulk export gives them) count from the earliest such
    parcel, and any left over from the order date: a date too early, never one too late.
    """
    if fulfilled <= 0:
        return ()
    if basis != DELIVERY or parcels is None:
        return (UnitWindow(last_day(order_created, days, latest), fulfilled),)
    counted: dict[date, int] = {}
    left = fulfilled
    for parcel in sorted((p for p in parcels if p.lines is not None), key=lambda p: p.start):
        units = min(left, max(0, int(parcel.lines.get(line_id, 0))))
        if units:
            day = last_day(parcel.start, days, latest)
            counted[day] = counted.get(day, 0) + units
            left -= units
    if left:
        unnamed = [p.start for p in parcels if p.lines is None]
        day = last_day(min(unnamed) if unnamed else order_created, days, latest)
        counted[day] = counted.get(day, 0) + left
    return tuple(UnitWindow(day, units) for day, units in sorted(counted.items()))


def open_windows(windows: Sequence[UnitWindow], now: datetime) -> tuple[UnitWindow, ...]:
    """The windows still open at `now`."""
    return tuple(w for w in windows if w.open_at(now))


def format_day(day: date) -> str:
    """"3 January 2027", as the shopper reads it."""
    return format_date(day, "long")


def return_by(windows: Sequence[UnitWindow]) -> str | None:
    """"Return by 3 January 2027", or per parcel "Return 1 by 3 January 2027 and 2 by 9 January
    2027" when the units' windows differ; None without windows."""
    if not windows:
        return None
    if len(windows) == 1:
        return f"Return by {format_day(windows[0].last_day)}"
    parts = [f"{w.units} by {format_day(w.last_day)}" for w in windows]
    return "Return " + ", ".join(parts[:-1]) + " and " + parts[-1]

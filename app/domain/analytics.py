"""The arithmetic of the analytics page: date ranges and their periods, rates, shares, changes
against the previous period, percentiles read from a histogram, and the units an order adds to
the units sold. Pure: dates, numbers and plain tuples in, plain values out."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Iterable

# The presets offered beside the date fields (days, ending today).
PRESETS = (30, 90, 365)
DEFAULT_PRESET = 90
# A range longer than this is drawn per week (Monday to Sunday) instead of per day: a day's
# returns rarely meet that day's sales in a small shop, and 90 columns do not fit a phone.
DAILY_UP_TO_DAYS = 31
# The longest range the page reads (a year and a bit, so a full year of weeks fits).
MAX_RANGE_DAYS = 400
# Durations are counted in SQL into these buckets (app/services/analytics.py builds the same):
# whole hours under two days, then whole days, and everything past 90 days in the last bucket.
HOURLY_UNDER_HOURS = 48
LAST_BUCKET_HOURS = 90 * 24


@dataclass(frozen=True)
class DateRange:
    """Days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the range holds."""
        return (self.end - self.start).days + 1

    def previous(self) -> "DateRange":
        """The range of equal length just before this one (what its changes are measured against)."""
        return DateRange(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @property
    def unit(self) -> str:
        """"day" or "week": how finely its charts are drawn."""
        return "day" if self.days <= DAILY_UP_TO_DAYS else "week"


def preset_range(days: int, today: date) -> DateRange:
    """The last `days` days, today included."""
    return DateRange(today - timedelta(days=days - 1), today)


def period_start(day: date, unit: str) -> date:
    """The first day of the period (a day, or the Monday of its week) that holds `day`."""
    return day if unit == "day" else day - timedelta(days=day.weekday())


def periods(span: DateRange) -> list[DateRange]:
    """The range cut into its periods, in order; the first and last week are cut to the range."""
    out, day = [], span.start
    while day <= span.end:
        last = day if span.unit == "day" else min(period_start(day, "week") + timedelta(days=6), span.end)
        out.append(DateRange(day, last))
        day = last + timedelta(days=1)
    return out


def fold_by_period(by_day: dict[date, int], span: DateRange) -> list[int]:
    """Per-day counts summed into the range's periods (in `periods` order)."""
    totals = [0] * len(periods(span))
    index = {p.start: i for i, p in enumerate(periods(span))}
    for day, value in by_day.items():
        if span.start <= day <= span.end:
            totals[index[max(period_start(day, span.unit), span.start)]] += value
    return totals


def cover(span: DateRange, unit: str) -> tuple[DateRange | None, list[DateRange]]:
    """The whole calendar months (`unit` "month") or Monday-to-Sunday weeks ("week") inside
    `span`, as one range (None when there is none), and the days of `span` outside them (at most
    one stretch at either end): a sum over `span` is the whole periods' sum plus the days'."""
    if unit == "month":
        first = span.start if span.start.day == 1 else (span.start.replace(day=28) + timedelta(days=4)).replace(day=1)
        after = span.end + timedelta(days=1)
        last = after if after.day == 1 else after.replace(day=1)  # the day after the last whole month
    else:
        first = span.start + timedelta(days=-span.start.weekday() % 7)
        last = span.end + timedelta(days=1) - timedelta(days=(span.end.weekday() + 1) % 7)
    if first >= last:
        return None, [span]
    edges = [DateRange(span.start, first - timedelta(days=1))] if first > span.start else []
    if last <= span.end:
        edges.append(DateRange(last, span.end))
    return DateRange(first, last - timedelta(days=1)), edges


def rate(part, whole) -> Decimal | None:
    """`part` / `whole` as a fraction (None when `whole` is nothing: no rate without sales)."""
    if not whole:
        return None
    return Decimal(part) / Decimal(whole)


def change(current: Decimal | int | None, previous: Decimal | int | None) -> Decimal | int | None:
    """How much `current` moved since `previous` (None when either is unknown)."""
    if current is None or previous is None:
        return None
    return current - previous


def sold_units(created_at: datetime, cancelled_at: datetime | None, lines: Iterable[tuple],
               cutoff: datetime) -> Counter:
    """What one order adds to the units sold: its lines' quantities per (day, product, variant),
    nothing when it is cancelled, and nothing once it is older than `cutoff` (the retention
    horizon): by then it was counted while stored, and counting it again would count it twice
    when a late webhook brings back an order the purge had deleted. `lines` are
    (product id, variant id, quantity); a missing id is 0."""
    counts: Counter = Counter()
    if cancelled_at is not None or created_at < cutoff:
        return counts
    day = created_at.date()  # stored instants are UTC
    for product_id, variant_id, quantity in lines:
        if quantity:
            counts[(day, product_id or 0, variant_id or 0)] += quantity
    return counts


def difference(before: Counter, after: Counter) -> dict:
    """What changed between two counts, key by key, leaving out what did not (so a replay adds
    nothing at all)."""
    return {key: after.get(key, 0) - before.get(key, 0)
            for key in sorted(set(before) | set(after)) if after.get(key, 0) != before.get(key, 0)}


def bucket_of(hours: float) -> int:
    """The histogram bucket (its lower bound, in hours) of a duration, as the SQL counts it."""
    whole = max(0, math.floor(hours))
    if whole < HOURLY_UNDER_HOURS:
        return whole
    return min(whole // 24 * 24, LAST_BUCKET_HOURS)


def bucket_upper(lower: int) -> int | None:
    """The exclusive upper bound of a bucket in hours (None for the open last one)."""
    if lower < HOURLY_UNDER_HOURS:
        return lower + 1
    return None if lower >= LAST_BUCKET_HOURS else lower + 24


def percentile_bucket(histogram: dict[int, int], q: float) -> int | None:
    """The bucket holding the `q` percentile (nearest rank) of the counted durations; None when
    nothing was counted."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(q * total)), 0
    for lower in sorted(histogram):
        seen += histogram[lower]
        if seen >= rank:
            return lower
    return max(histogram)  # pragma: no cover - the loop always reaches the rank


def duration_words(lower: int | None) -> str:
    """A bucket as people read it: "under 1 hour", "5–6 hours", "3–4 days", "over 90 days"."""
    if lower is None:
        return "—"
    upper = bucket_upper(lower)
    if upper is None:
        return f"over {lower // 24} days"
    if lower < HOURLY_UNDER_HOURS:
        return "under 1 hour" if lower == 0 else f"{lower}–{upper} hours"
    return f"{lower // 24}–{upper // 24} days"


def share_text(fraction: Decimal | None) -> str:
    """A fraction as a percentage to one place ("4.2%"); "—" when there is none."""
    if fraction is None:
        return "—"
    return f"{(fraction * 100).quantize(Decimal('0.1'))}%"


def points_text(change_: Decimal | None) -> str:
    """A change of a share, in percentage points ("+0.8 pts", "−1.5 pts", "no change")."""
    if change_ is None:
        return "no earlier figure"
    points = (change_ * 100).quantize(Decimal("0.1"))
    if not points:
        return "no change"
    return f"{'+' if points > 0 else '−'}{abs(points)} pts"


def signed_text(change_: int | Decimal | None) -> str:
    """A change of a count ("+12", "−3", "no change")."""
    if change_ is None:
        return "no earlier figure"
    if not change_:
        return "no change"
    return f"{'+' if change_ > 0 else '−'}{abs(change_)}"


def units_text(count: int) -> str:
    """"1 unit", "3 units"."""
    return f"{count} unit{'' if count == 1 else 's'}"

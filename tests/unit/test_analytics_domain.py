"""The analytics page's arithmetic and chart geometry, without a database."""
import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.domain import svg_charts
from app.domain.analytics import (DateRange, bucket_of, bucket_upper, cover, difference, duration_words, fold_by_period,
                                  percentile_bucket, periods, points_text, preset_range, share_text, sold_units)

NOW = datetime(2026, 12, 6, 12, tzinfo=timezone.utc)


def test_the_previous_range_is_as_long_and_ends_the_day_before():
    span = preset_range(30, date(2026, 12, 6))
    assert (span.start, span.end, span.days) == (date(2026, 11, 7), date(2026, 12, 6), 30)
    before = span.previous()
    assert (before.start, before.end, before.days) == (date(2026, 10, 8), date(2026, 11, 6), 30)


def test_a_long_range_is_cut_into_weeks_from_monday_clipped_to_the_range():
    span = DateRange(date(2026, 12, 2), date(2027, 1, 20))  # a Wednesday to a Wednesday
    weeks = periods(span)
    assert weeks[0] == DateRange(date(2026, 12, 2), date(2026, 12, 6))
    assert weeks[1].start == date(2026, 12, 7) and weeks[1].days == 7
    assert weeks[-1] == DateRange(date(2027, 1, 18), date(2027, 1, 20))
    assert sum(w.days for w in weeks) == span.days
    assert fold_by_period({date(2026, 12, 3): 2, date(2026, 12, 6): 1, date(2026, 12, 7): 5,
                           date(2026, 11, 30): 99}, span)[:2] == [3, 5]


def test_percentiles_are_read_by_nearest_rank_from_the_histogram():
    hours = [0.5, 3.2, 3.9, 30, 50, 50.5, 75, 200, 3000]
    histogram = Counter(bucket_of(h) for h in hours)
    assert percentile_bucket(histogram, 0.5) == 48  # the 5th of 9: 50 hours, in the 48–72 bucket
    assert percentile_bucket(histogram, 0.9) == 90 * 24  # past 90 days: the open last bucket
    assert bucket_upper(48) == 72 and bucket_upper(3) == 4 and bucket_upper(2160) is None
    assert percentile_bucket(Counter(), 0.5) is None
    assert [duration_words(b) for b in (0, 3, 48, 2160, None)] == [
        "under 1 hour", "3–4 hours", "2–3 days", "over 90 days", "—"]


def test_an_order_counts_its_units_once_and_nothing_when_cancelled_or_past_retention():
    cutoff = NOW - timedelta(days=90)
    lines = [(1, 11, 2), (1, 11, 1), (None, None, 4), (2, 21, 0)]
    counted = sold_units(NOW, None, lines, cutoff)
    assert counted == Counter({(NOW.date(), 1, 11): 3, (NOW.date(), 0, 0): 4})
    assert sold_units(NOW, NOW, lines, cutoff) == Counter()
    assert sold_units(cutoff - timedelta(seconds=1), None, lines, cutoff) == Counter()
    assert difference(counted, counted) == {}
    assert difference(counted, Counter({(NOW.date(), 1, 11): 5})) == {(NOW.date(), 0, 0): -4, (NOW.date(), 1, 11): 2}


def test_shares_and_changes_read_as_people_write_them():
    assert share_text(Decimal(1) / 3) == "33.3%" and share_text(None) == "—"
    assert points_text(Decimal("0.012")) == "+1.2 pts" and points_text(Decimal("-0.005")) == "−0.5 pts"
    assert points_text(Decimal("0")) == "no change" and points_text(None) == "no earlier figure"


def test_columns_scale_to_a_round_top_and_leave_a_gap_for_no_figure():
    chart = svg_charts.columns([("a", 2.0, "two", "/a"), ("b", None, "none", None), ("c", 3.5, "3.5", "/c")],
                               lambda v: f"{v:g}%")
    assert [t.text for t in chart.ticks] == ["0%", "1.25%", "2.5%", "3.75%", "5%"]
    assert [bar.label for bar in chart.bars] == ["a", "c"]
    bottom = chart.height - svg_charts.PLOT_BOTTOM
    assert all(abs(bar.y + bar.height - bottom) < 0.01 for bar in chart.bars)
    assert abs(chart.bars[1].height / chart.bars[0].height - 3.5 / 2) < 0.01
    assert all(svg_charts.PLOT_LEFT <= bar.x and bar.x + bar.width <= chart.width for bar in chart.bars)


def test_a_split_fills_the_width_in_proportion_and_a_ranking_longest_first():
    chart = svg_charts.split([("refund", "Refund", 3, "3", "/r"), ("credit", "Credit", 0, "0", "/c"),
                              ("exchange", "Exchange", 1, "1", "/e")])
    assert [bar.kind for bar in chart.bars] == ["refund", "exchange"]
    assert abs(chart.bars[0].width - svg_charts.WIDTH * 0.75) < 0.01
    assert abs(chart.bars[-1].x + chart.bars[-1].width - svg_charts.WIDTH) < 0.01
    ranking = svg_charts.ranking([("A", 4, "4", "/a"), ("B", 1, "1", "/b")])
    assert ranking.bars[0].width == 4 * ranking.bars[1].width
    assert svg_charts.nice_ceiling(0) == 1 and svg_charts.nice_ceiling(0.031) == 0.05


@pytest.mark.parametrize("unit", ["month", "week"])
def test_whole_periods_and_their_edges_cover_a_range_exactly_once(unit):
    rng = random.Random(unit)
    for _ in range(3000):
        start = date(2025, 1, 1) + timedelta(days=rng.randrange(800))
        span = DateRange(start, start + timedelta(days=rng.randrange(400)))
        whole, edges = cover(span, unit)
        days: list[date] = []
        if whole:
            if unit == "month":
                assert whole.start.day == 1 and (whole.end + timedelta(days=1)).day == 1
            else:
                assert whole.start.weekday() == 0 and whole.end.weekday() == 6
            days += [whole.start + timedelta(days=n) for n in range(whole.days)]
            assert len(edges) <= 2 and all(edge.days < 31 for edge in edges)
        for edge in edges:
            days += [edge.start + timedelta(days=n) for n in range(edge.days)]
        assert sorted(days) == [span.start + timedelta(days=n) for n in range(span.days)]

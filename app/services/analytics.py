"""The analytics page's figures for one account and date range, with the previous range of equal
length beside them, read from the daily aggregates the database keeps as returns change (models in
app/models/analytics.py, triggers in migration 0030_analytics_daily): each figure one GROUP BY over
at most a few thousand rows, whatever the number of returns; the arithmetic is the domain's
(app/domain/analytics.py).

Counted: the returns started in the range (by the day they were submitted, UTC), cancelled and
declined ones left out (nothing came back); a return rate divides their units by the units sold
on the same days (``units_sold_daily``, which outlives the orders).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, and_, case, func, literal, select, union_all

from app.domain import analytics as calc
from app.domain.analytics import DateRange
from app.domain.vocabulary import Option
from app.extensions import db
from app.models import (AnalyticsDurationsDaily, AnalyticsDurationsWeekly, AnalyticsFailedDaily,
                        AnalyticsReturnsDaily, AnalyticsSoldDaily, AnalyticsVariantsDaily, AnalyticsVariantsMonthly,
                        UnitsSoldDaily)
from app.models.analytics import NO_ID
from app.services import analytics_cache

TOP = 10
KEPT_OPTIONS = (Option.CREDIT, Option.EXCHANGE)  # the value the shop keeps instead of refunding


@dataclass
class Totals:
    """One range's headline figures."""

    returned_units: int = 0
    sold_units: int = 0
    returned_value: Decimal = Decimal("0")
    # option code (None: not chosen yet) → (units, value)
    split: dict = field(default_factory=dict)
    durations: Counter = field(default_factory=Counter)  # histogram bucket (hours) → items
    failed_returns: int = 0
    failed_items: int = 0

    @property
    def rate(self) -> Decimal | None:
        """Returned units / units sold."""
        return calc.rate(self.returned_units, self.sold_units)

    @property
    def kept_value(self) -> Decimal:
        """Value returned as store credit or exchanged: revenue the shop kept."""
        return sum((self.split.get(o.value, (0, Decimal(0)))[1] for o in KEPT_OPTIONS), Decimal("0"))

    @property
    def kept_share(self) -> Decimal | None:
        """(Credit + exchange value) / returned value."""
        return calc.rate(self.kept_value, self.returned_value)

    @property
    def median(self) -> int | None:
        """The bucket of the median time from submission to money issued."""
        return calc.percentile_bucket(self.durations, 0.5)

    @property
    def p90(self) -> int | None:
        """The bucket of the 90th percentile of that time."""
        return calc.percentile_bucket(self.durations, 0.9)


@dataclass
class Ranked:
    """One product or variant of a ranking: its returned units, units sold and rate."""

    key: int
    title: str
    returned: int
    sold: int

    @property
    def rate(self) -> Decimal | None:
        """Returned units / units sold (None without sales in the range)."""
        return calc.rate(self.returned, self.sold)


@dataclass
class Figures:
    """Everything the page shows for a range."""

    span: DateRange
    previous: DateRange
    periods: list[DateRange]
    returned: list[int]  # per period
    sold: list[int]
    # per period: items issued, and the buckets of the median and 90th percentile time to money
    durations: list[tuple[int, int | None, int | None]]
    current: Totals
    before: Totals
    reasons: list[tuple[str, int, int]]  # reason, units now, units in the previous range
    products: list[Ranked]
    variants: list[Ranked]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def figures(account_id: int, span: DateRange) -> Figures:
    """The page's figures for `span` and the range before it (kept until the returns change:
    app/services/analytics_cache.py)."""
    return analytics_cache.cached(account_id, span.start, span.end, lambda: compute(account_id, span))


def compute(account_id: int, span: DateRange) -> Figures:
    """The page's figures for `span` and the range before it, read now."""
    previous = span.previous()
    totals = {True: Totals(), False: Totals()}
    returned_by_day: Counter = Counter()
    daily = AnalyticsReturnsDaily
    both = (daily.account_id == account_id, daily.day >= previous.start, daily.day <= span.end, daily.items > 0)
    is_current = daily.day >= span.start
    # Units, value and the split: a row per range and option.
    for current, option, units, amount in db.session.execute(
            select(is_current, daily.option, func.sum(daily.units), func.sum(daily.value))
            .where(*both).group_by(is_current, daily.option)):
        side, units, amount = totals[bool(current)], int(units), _money(amount)
        side.returned_units += units
        side.returned_value += amount
        # "" stands for an item whose option is not chosen yet (a key column cannot be NULL).
        side.split[option or None] = (units, amount)
    for on_day, units in db.session.execute(
            select(daily.day, func.sum(daily.units))
            .where(daily.account_id == account_id, daily.day >= span.start, daily.day <= span.end, daily.items > 0)
            .group_by(daily.day)):
        returned_by_day[_as_date(on_day)] += int(units)
    reasons: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for current, reason, units in db.session.execute(
            select(is_current, daily.reason, func.sum(daily.units)).where(*both).group_by(is_current, daily.reason)):
        reasons[reason][0 if current else 1] += int(units)
    sold_by_day: Counter = Counter()
    for on_day, units in db.session.execute(
            select(AnalyticsSoldDaily.day, AnalyticsSoldDaily.units)
            .where(AnalyticsSoldDaily.account_id == account_id, AnalyticsSoldDaily.day >= previous.start,
                   AnalyticsSoldDaily.day <= span.end)):
        on_day = _as_date(on_day)
        totals[on_day >= span.start].sold_units += int(units)
        if on_day >= span.start:
            sold_by_day[on_day] += int(units)
    durations = _durations(account_id, span, totals)
    _failed(account_id, span, totals)
    return Figures(span, previous, calc.periods(span), calc.fold_by_period(returned_by_day, span),
                   calc.fold_by_period(sold_by_day, span), durations, totals[True], totals[False],
                   sorted(((reason, now, before) for reason, (now, before) in reasons.items() if now),
                          key=lambda row: (-row[1], row[0])),
                   *_rankings(account_id, span))


def _money(amount) -> Decimal:
    """A SUM of a Money column (read back as Money: a Decimal on either database)."""
    return Decimal("0") if amount is None else amount


def _duration_rows(account_id: int, span: DateRange):
    """Items issued per (side: 1 for `span`, 0 for the range before; the start of the period of
    `span` they fall in; bucket): the whole weeks of a range drawn per week from the weekly rows,
    the days at either end (each within one period) and a range drawn per day from the daily ones."""
    weekly, daily = AnalyticsDurationsWeekly, AnalyticsDurationsDaily
    parts = []
    for side, window in ((1, span), (0, span.previous())):
        whole, edges = calc.cover(window, "week") if span.unit == "week" else (None, [window])
        if whole:
            period = weekly.week if side else literal(None, Date)
            parts.append(select(literal(side).label("side"), period.label("period"), weekly.bucket.label("bucket"),
                                weekly.items.label("items"))
                         .where(weekly.account_id == account_id, weekly.week >= whole.start, weekly.week <= whole.end,
                                weekly.items > 0))
        for edge in edges:
            period = literal(None, Date) if not side else daily.day if span.unit == "day" else literal(edge.start, Date)
            parts.append(select(literal(side).label("side"), period.label("period"), daily.bucket.label("bucket"),
                                daily.items.label("items"))
                         .where(daily.account_id == account_id, daily.day >= edge.start, daily.day <= edge.end,
                                daily.items > 0))
    return union_all(*parts).subquery()


def _durations(account_id: int, span: DateRange, totals: dict) -> list[tuple[int, int | None, int | None]]:
    """Per period of `span`: the items issued, and the buckets of the median and the 90th percentile
    of their times (nearest rank, read in SQL from each period's running count); each range's
    histogram in `totals`."""
    rows = _duration_rows(account_id, span)
    for side, bucket, items in db.session.execute(
            select(rows.c.side, rows.c.bucket, func.sum(rows.c["items"])).group_by(rows.c.side, rows.c.bucket)):
        totals[bool(side)].durations[int(bucket)] += int(items)
    rows = _duration_rows(account_id, span)
    per_bucket = (select(rows.c.period, rows.c.bucket, func.sum(rows.c["items"]).label("n"))
                  .where(rows.c.side == 1).group_by(rows.c.period, rows.c.bucket).subquery())
    running = select(per_bucket.c.period, per_bucket.c.bucket,
                     func.sum(per_bucket.c.n).over(partition_by=per_bucket.c.period,
                                                   order_by=per_bucket.c.bucket).label("seen"),
                     func.sum(per_bucket.c.n).over(partition_by=per_bucket.c.period).label("total")).subquery()
    index = {p.start: i for i, p in enumerate(calc.periods(span))}
    out: list[tuple[int, int | None, int | None]] = [(0, None, None)] * len(index)
    # The q percentile's rank is ceil(q × total): the first bucket whose running count reaches
    # q × total (counts are whole, so no rounding is needed).
    for period, total, median, p90 in db.session.execute(
            select(running.c.period, func.max(running.c.total),
                   func.min(case((running.c.seen * 2 >= running.c.total, running.c.bucket))),
                   func.min(case((running.c.seen * 10 >= running.c.total * 9, running.c.bucket))))
            .group_by(running.c.period)):
        out[index[_as_date(period)]] = (int(total), int(median), int(p90))
    return out


def _failed(account_id: int, span: DateRange, totals: dict) -> None:
    """Returns (any status: a failure on a cancelled return is still one to see) with an item
    Shopify did not issue, and those items, per range."""
    kept = AnalyticsFailedDaily
    current = kept.day >= span.start
    for is_current, returns, items in db.session.execute(
            select(current, func.count(), func.sum(kept.items))
            .where(kept.account_id == account_id, kept.day >= span.previous().start, kept.day <= span.end,
                   kept.items > 0)
            .group_by(current)):
        totals[bool(is_current)].failed_returns = int(returns)
        totals[bool(is_current)].failed_items = int(items or 0)


def _returned_per_variant(account_id: int, span: DateRange):
    """Units returned per (product, variant) in `span`, with their greatest titles: the whole
    months of the range from the monthly rows, the days at either end from the daily ones."""
    months, edges = calc.cover(span, "month")
    parts = []
    monthly = [months] if months else []
    for model, column, ranges in ((AnalyticsVariantsMonthly, AnalyticsVariantsMonthly.month, monthly),
                                  (AnalyticsVariantsDaily, AnalyticsVariantsDaily.day, edges)):
        for part in ranges:
            parts.append(select(model.product_id, model.variant_id, model.title, model.variant_title, model.units)
                         .where(model.account_id == account_id, column >= part.start, column <= part.end,
                                model.items > 0))
    if not parts:
        return []
    rows = union_all(*parts).subquery()
    return db.session.execute(
        select(rows.c.product_id, rows.c.variant_id, func.max(rows.c.title), func.max(rows.c.variant_title),
               func.sum(rows.c.units)).group_by(rows.c.product_id, rows.c.variant_id)).all()


def _rankings(account_id: int, span: DateRange) -> tuple[list[Ranked], list[Ranked]]:
    """The TOP products and variants by units returned in `span`, with their units sold there: one
    row per (product, variant) returned, summed per product here."""
    by_product: dict[int, list] = {}
    by_variant: dict[int, list] = {}
    for product, variant, title, variant_title, units in _returned_per_variant(account_id, span):
        product = None if product == NO_ID else product
        variant = None if variant == NO_ID else variant
        if product is not None:
            entry = by_product.setdefault(product, [title or "", 0])
            entry[0], entry[1] = max(entry[0], title or ""), entry[1] + int(units)
        if variant is not None:
            name = f"{title} — {variant_title}" if variant_title else (title or "")
            entry = by_variant.setdefault(variant, [name, 0])
            entry[0], entry[1] = max(entry[0], name), entry[1] + int(units)
    out = []
    for found, sold_column in ((by_product, UnitsSoldDaily.product_id), (by_variant, UnitsSoldDaily.variant_id)):
        top = sorted(found.items(), key=lambda kv: (-kv[1][1], kv[0]))[:TOP]
        keys = [key for key, _ in top]
        sold = dict(db.session.execute(
            select(sold_column, func.sum(UnitsSoldDaily.units))
            .where(and_(UnitsSoldDaily.account_id == account_id, sold_column.in_(keys),
                        UnitsSoldDaily.day >= span.start, UnitsSoldDaily.day <= span.end))
            .group_by(sold_column)).all()) if keys else {}
        out.append([Ranked(int(key), name, units, int(sold.get(key, 0))) for key, (name, units) in top])
    return out[0], out[1]

"""The analytics page's figures for one account and date range, with the previous range of equal
length beside them: each a GROUP BY in SQL over the returns and their items (and the daily units
sold), at most a few thousand rows back whatever the number of returns; the arithmetic is the domain's
(app/domain/analytics.py).

Counted: the returns started in the range (by the day they were submitted, UTC), cancelled and
declined ones left out (nothing came back); a return rate divides their units by the units sold
on the same days (``units_sold_daily``, which outlives the orders).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import Date, Integer, and_, case, cast, extract, func, select, type_coerce

from app.domain import analytics as calc
from app.domain.analytics import DateRange
from app.domain.vocabulary import ItemResolution, Option, ReturnStatus
from app.extensions import db
from app.models import Return, ReturnItem, UnitsSoldDaily
from app.models.types import Money
from app.services import analytics_cache
from app.services.units_sold import day_of

TOP = 10
NOT_COUNTED = (ReturnStatus.CANCELLED, ReturnStatus.DECLINED)
MONEY_OPTIONS = (Option.REFUND, Option.CREDIT)
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
    durations: list[Counter]  # per period: histogram
    current: Totals
    before: Totals
    reasons: list[tuple[str, int, int]]  # reason, units now, units in the previous range
    products: list[Ranked]
    variants: list[Ranked]


def _bounds(span: DateRange) -> tuple[datetime, datetime]:
    return (datetime.combine(span.start, time.min, timezone.utc),
            datetime.combine(span.end + timedelta(days=1), time.min, timezone.utc))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def figures(account_id: int, span: DateRange) -> Figures:
    """The page's figures for `span` and the range before it (kept until the returns change:
    app/services/analytics_cache.py)."""
    return analytics_cache.cached(account_id, span.start, span.end, lambda: compute(account_id, span))


def compute(account_id: int, span: DateRange) -> Figures:
    """The page's figures for `span` and the range before it, read now."""
    previous = span.previous()
    start, end = _bounds(previous)[0], _bounds(span)[1]
    current_start = _bounds(span)[0]
    counted = [Return.account_id == account_id, Return.created_at >= start, Return.created_at < end,
               Return.status.notin_(NOT_COUNTED)]
    is_current = Return.created_at >= current_start
    day = day_of(Return.created_at)
    totals = {True: Totals(), False: Totals()}
    returned_by_day: Counter = Counter()
    reasons: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    value = type_coerce(func.sum(ReturnItem.quantity * ReturnItem.unit_value), Money())
    # One pass for the units, the value, the split and the reasons (days × options × reasons rows).
    for on_day, option, reason, units, amount in db.session.execute(
            select(day, ReturnItem.option, ReturnItem.reason, func.sum(ReturnItem.quantity), value)
            .select_from(Return).join(ReturnItem, ReturnItem.return_id == Return.id).where(*counted)
            .group_by(day, ReturnItem.option, ReturnItem.reason)):
        on_day, units, amount = _as_date(on_day), int(units or 0), amount or Decimal("0")
        current = on_day >= span.start
        side = totals[current]
        side.returned_units += units
        side.returned_value += amount
        old_units, old_value = side.split.get(option, (0, Decimal("0")))
        side.split[option] = (old_units + units, old_value + amount)
        reasons[reason][0 if current else 1] += units
        if current:
            returned_by_day[on_day] += units
    sold_by_day: Counter = Counter()
    for row in db.session.execute(
            select(UnitsSoldDaily.day, func.sum(UnitsSoldDaily.units))
            .where(UnitsSoldDaily.account_id == account_id, UnitsSoldDaily.day >= previous.start,
                   UnitsSoldDaily.day <= span.end).group_by(UnitsSoldDaily.day)):
        on_day = _as_date(row[0])
        totals[on_day >= span.start].sold_units += int(row[1] or 0)
        if on_day >= span.start:
            sold_by_day[on_day] += int(row[1] or 0)
    durations = _durations(counted, span, totals)
    _failed(account_id, start, end, is_current, totals)
    return Figures(span, previous, calc.periods(span), calc.fold_by_period(returned_by_day, span),
                   calc.fold_by_period(sold_by_day, span), durations, totals[True], totals[False],
                   sorted(((reason, now, before) for reason, (now, before) in reasons.items() if now),
                          key=lambda row: (-row[1], row[0])),
                   *_rankings(account_id, counted, is_current, span))


def _hours():
    """Whole hours from a return's submission to its item's money issued, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(extract("epoch", ReturnItem.issued_at - Return.created_at) / 3600), Integer)
    return cast((func.julianday(ReturnItem.issued_at) - func.julianday(Return.created_at)) * 24, Integer)


def _bucket():
    """``domain.analytics.bucket_of`` in SQL."""
    hours = _hours()
    return case((hours < 0, 0), (hours < calc.HOURLY_UNDER_HOURS, hours),
                (hours >= calc.LAST_BUCKET_HOURS, calc.LAST_BUCKET_HOURS), else_=hours / 24 * 24)


def _week_of(column):
    """The Monday (UTC) of a stored instant's week, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)
    return func.date(column, "-6 days", "weekday 1")


def _durations(counted: list, span: DateRange, totals: dict) -> list[Counter]:
    """Per period of `span`, the histogram of times to money issued; each range's in `totals`."""
    period = day_of(Return.created_at) if span.unit == "day" else _week_of(Return.created_at)
    bucket = _bucket().label("bucket")
    index = {p.start: i for i, p in enumerate(calc.periods(span))}
    out = [Counter() for _ in index]
    is_current = Return.created_at >= _bounds(span)[0]
    for row in db.session.execute(
            select(period, is_current, bucket, func.count())
            .select_from(Return).join(ReturnItem, ReturnItem.return_id == Return.id)
            .where(*counted, ReturnItem.issued_at.is_not(None), ReturnItem.option.in_(MONEY_OPTIONS))
            .group_by(period, is_current, bucket)):
        current = bool(row[1])
        totals[current].durations[int(row[2])] += int(row[3])
        if current:
            out[index[max(_as_date(row[0]), span.start)]][int(row[2])] += int(row[3])
    return out


def _failed(account_id: int, start: datetime, end: datetime, is_current, totals: dict) -> None:
    """Returns (any status: a failure on a cancelled return is still one to see) with an item
    Shopify did not issue, and those items, per range."""
    failed = (select(is_current.label("current"), Return.id.label("return_id"), func.count().label("items"))
              .select_from(Return).join(ReturnItem, ReturnItem.return_id == Return.id)
              .where(Return.account_id == account_id, Return.created_at >= start, Return.created_at < end,
                     ReturnItem.resolution == ItemResolution.FAILED)
              .group_by(is_current, Return.id).subquery())
    for current, returns, items in db.session.execute(
            select(failed.c.current, func.count(), func.sum(failed.c["items"])).group_by(failed.c.current)):
        totals[bool(current)].failed_returns = int(returns)
        totals[bool(current)].failed_items = int(items or 0)


def _rankings(account_id: int, counted: list, is_current, span: DateRange) -> tuple[list[Ranked], list[Ranked]]:
    """The TOP products and variants by units returned in `span`, with their units sold there: one
    pass per (product, variant) returned, summed per product here."""
    by_product: dict[int, list] = {}
    by_variant: dict[int, list] = {}
    for product, variant, title, variant_title, units in db.session.execute(
            select(ReturnItem.product_id, ReturnItem.variant_id, func.max(ReturnItem.title),
                   func.max(ReturnItem.variant_title), func.sum(ReturnItem.quantity))
            .select_from(Return).join(ReturnItem, ReturnItem.return_id == Return.id)
            .where(*counted, is_current, ReturnItem.product_id.is_not(None) | ReturnItem.variant_id.is_not(None))
            .group_by(ReturnItem.product_id, ReturnItem.variant_id)):
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

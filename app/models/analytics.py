"""Units sold per day, product and variant: what a return rate is divided by, kept after the
orders it was counted from are purged (app/services/retention.py)."""
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import BigIntPK, Money

# A line without a product or variant (a custom item) is counted under 0: a NULL in the key would
# let two rows of the same day and product stand side by side.
NO_ID = 0


class UnitsSoldDaily(db.Model):
    """Units of one product variant sold by one account on one day (UTC, the order's creation
    day), cancelled orders left out. Kept up to date where orders are written
    (app/services/units_sold.py), by adding the difference each write makes."""

    __tablename__ = "units_sold_daily"
    __table_args__ = (
        # The units sold of the products and variants ranked, each over the range.
        Index("ix_units_sold_daily_product", "account_id", "product_id", "day", "units"),
        Index("ix_units_sold_daily_variant", "account_id", "variant_id", "day", "units"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=NO_ID)
    variant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=NO_ID)
    units: Mapped[int] = mapped_column(Integer, default=0)


# The returns' figures per account and day, kept by database triggers (migration
# 0030_analytics_daily) in the same transaction as every write to a return, an item or the units
# sold: each write adds the difference it makes. The day is the return's submission day (UTC).
# No foreign key to accounts: the triggers subtract while an account is deleted in cascade; the
# reads skip rows that count no item (`items` 0).


class AnalyticsReturnsDaily(db.Model):
    """Items, units and value returned per day, option ("" when none is chosen yet) and reason,
    from returns that count (not cancelled, not declined)."""

    __tablename__ = "analytics_returns_daily"

    account_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    option: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(120), primary_key=True)
    items: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    value: Mapped[Decimal] = mapped_column(Money)


class AnalyticsDurationsDaily(db.Model):
    """Items whose money was issued (refund or credit), per day and duration bucket
    (domain.analytics.bucket_of of the hours from submission to issue), from returns that count."""

    __tablename__ = "analytics_durations_daily"

    account_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    items: Mapped[int] = mapped_column(Integer)


class AnalyticsDurationsWeekly(db.Model):
    """The same per week (`week` is its Monday): a long range reads its whole weeks here."""

    __tablename__ = "analytics_durations_weekly"

    account_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    items: Mapped[int] = mapped_column(Integer)


class AnalyticsFailedDaily(db.Model):
    """Items Shopify did not issue, per day and return (whatever the return's status): a row
    with items is one failed return."""

    __tablename__ = "analytics_failed_daily"

    account_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    return_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    items: Mapped[int] = mapped_column(Integer)


class AnalyticsVariantsDaily(db.Model):
    """Units returned per day, product and variant (NO_ID when the item has none) and their
    titles, from returns that count; items with neither id are left out."""

    __tablename__ = "analytics_variants_daily"

    account_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    variant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(255), primary_key=True)
    variant_title: Mapped[str] = mapped_column(String(255), primary_key=True)
    items: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)


class AnalyticsVariantsMonthly(db.Model):
    """The same per calendar month (`month` is its first day): a year's ranking reads the whole
    months here and only the days at either end from the daily rows."""

    __tablename__ = "analytics_variants_monthly"

    account_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    variant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(255), primary_key=True)
    variant_title: Mapped[str] = mapped_column(String(255), primary_key=True)
    items: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)


class AnalyticsSoldDaily(db.Model):
    """Units sold per account and day: units_sold_daily summed over products, kept by trigger."""

    __tablename__ = "analytics_sold_daily"

    account_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    units: Mapped[int] = mapped_column(Integer)

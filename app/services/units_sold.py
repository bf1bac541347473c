"""Units sold per day, product and variant (``units_sold_daily``), kept where orders are written,
in the same transaction, so a return rate can still be read after the orders are purged.

How a write is counted: each write adds the difference it makes to what the order had counted,
and what an order has counted is read from the order as stored (its lines, its cancellation),
before and after the change (``domain.analytics.sold_units``). A replayed webhook changes nothing
and adds nothing; an order edited twice adds each edit's difference once. Adding differences,
rather than counting a day again from its stored orders, is what two writers of the same day can
do at once without losing either's units (an increment commutes; a recount reads a snapshot), and
what still works once part of a day is purged. An order older than the retention horizon counts
nothing, before or after: it was counted while stored, and a late webhook that stores it again
after the purge must not count it twice.
"""
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone

from sqlalchemy import Date, cast, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.analytics import difference, sold_units
from app.extensions import db
from app.models import Account, Order, OrderLine, UnitsSoldDaily
from app.models.analytics import NO_ID
from app.services import analytics_cache
from app.services.retention import retention_cutoff

_KEY = ("account_id", "day", "product_id", "variant_id")


def day_of(column):
    """The UTC calendar day of a stored instant, in SQL (a date on PostgreSQL, 'YYYY-MM-DD' text
    on SQLite, where instants are stored as naive UTC text)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def cutoff_of(account_id: int) -> datetime:
    """The account's retention horizon now: orders created before it count nothing more."""
    account = db.session.get(Account, account_id)
    return retention_cutoff(account.order_storage_months, _now())


def counted(order: Order, cutoff: datetime) -> Counter:
    """What the order as it stands in the session counts (its lines as they are now)."""
    return sold_units(order.created_at, order.cancelled_at,
                      [(line.product_id, line.variant_id, line.quantity) for line in order.lines], cutoff)


def add_difference(account_id: int, before: Counter, after: Counter) -> None:
    """Add what changed between two counts of one order to the account's daily units."""
    change = difference(before, after)
    if not change:
        return
    analytics_cache.changed(account_id)
    rows = [{"account_id": account_id, "day": day, "product_id": product, "variant_id": variant, "units": units}
            for (day, product, variant), units in change.items()]
    statement = _insert()
    # Rows in key order: two writers increment shared rows in the same order, so neither waits
    # on the other in a cycle.
    db.session.execute(statement.on_conflict_do_update(
        index_elements=list(_KEY), set_={"units": UnitsSoldDaily.units + statement.excluded.units}), rows)


def count_new_order(order: Order) -> None:
    """Count one order just added through the ORM outside the order services (the demo's sample
    orders): all its units are new."""
    add_difference(order.account_id, Counter(), counted(order, cutoff_of(order.account_id)))


def count_new_orders(account_id: int, order_ids: Sequence[int]) -> None:
    """Count orders just inserted by the batch writer (COPY or a multi-row INSERT), in SQL: their
    lines summed per day, product and variant, added to the daily units. The caller holds the
    SAVEPOINT that undoes the insert, and this with it, should the batch be refused."""
    if not order_ids:
        return
    analytics_cache.changed(account_id)
    day = day_of(Order.created_at)
    product = func.coalesce(OrderLine.product_id, literal(NO_ID))
    variant = func.coalesce(OrderLine.variant_id, literal(NO_ID))
    summed = (select(Order.account_id, day, product, variant, func.sum(OrderLine.quantity))
              .select_from(Order).join(OrderLine, OrderLine.order_id == Order.id)
              .where(Order.id.in_(list(order_ids)), Order.account_id == account_id, Order.cancelled_at.is_(None),
                     Order.created_at >= cutoff_of(account_id), OrderLine.quantity != 0)
              .group_by(Order.account_id, day, product, variant)
              .order_by(Order.account_id, day, product, variant))
    statement = _insert().from_select(list(_KEY) + ["units"], summed)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=list(_KEY), set_={"units": UnitsSoldDaily.units + statement.excluded.units}))


def _insert():
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(UnitsSoldDaily)

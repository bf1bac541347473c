"""Everything the rules read about returned items, gathered before evaluation in one query.

One statement per call, however many items (and, for the impact preview, however many returns):
each item with its order's stored values, its product's facts (app.models.Product, or the tags
the order line was imported with while the product is not synced yet) and its customer's
history. The engine (app.domain.rules) then evaluates plain values and stays pure.

Customer history ("serial returners"): the customer's other returns created in the 365 days
before this one, cancelled ones left out, and the value of their items (unit value × quantity).
Returns are kept past the order purge (app.services.retention deletes orders only; a return
keeps its snapshots and its order_id becomes NULL), so history outlives the orders. A customer is
matched by Shopify customer id; a guest (an order with no customer account) by email address,
compared without case: every return with that email counts, whoever placed it.
"""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import DateTime, and_, case, func, literal, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import FunctionElement

from app.domain.rules import ItemFacts, item_facts
from app.domain.vocabulary import ReturnStatus
from app.extensions import db
from app.models import Order, OrderLine, Product, Return, ReturnItem
from app.models.types import Money

HISTORY_DAYS = 365


class days_before(FunctionElement):
    """`instant` minus HISTORY_DAYS days, in SQL (each database says it its own way)."""

    type = DateTime()
    inherit_cache = True
    name = "days_before"


@compiles(days_before, "postgresql")
def _days_before_pg(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} - interval '{HISTORY_DAYS} days')"


@compiles(days_before, "sqlite")
def _days_before_sqlite(element, compiler, **kw):
    # SQLite keeps UTC timestamps as text ("YYYY-MM-DD HH:MM:SS.ffffff"); datetime() answers in
    # the same order, so comparing the texts compares the instants.
    return f"datetime({compiler.process(element.clauses, **kw)}, '-{HISTORY_DAYS} days')"


def _history(account_id, customer_id, email, before, since, exclude_id=None):
    """Scalar subqueries: how many other returns the customer made in [since, before), cancelled
    ones left out, and their items' value. One pair matches by customer id, one by email; a CASE
    picks the one that applies, so each runs on its own index (migration 0022) instead of an OR
    that would scan a store's returns for every item."""
    def pair(same_customer):
        past, past_item = aliased(Return), aliased(ReturnItem)
        where = [past.account_id == account_id, past.status != ReturnStatus.CANCELLED.value,
                 past.created_at < before, past.created_at >= since, same_customer(past)]
        if exclude_id is not None:
            where.append(past.id != exclude_id)
        count = select(func.count(past.id)).where(*where).scalar_subquery()
        value = select(func.coalesce(func.sum(past_item.unit_value * past_item.quantity), 0)) \
            .select_from(past_item).join(past, past.id == past_item.return_id).where(*where).scalar_subquery()
        return count, value

    by_id = pair(lambda past: past.customer_shopify_id == customer_id)
    # Emails are stored lower-cased by every order mapping (app/shopify/mapping.py, lean_mapping.py,
    # order_copy.py) and returns copy the order's: a plain comparison, which the index serves.
    by_email = pair(lambda past: past.customer_email == email)
    count, value = (case((customer_id.isnot(None), by_id[i]), (email.isnot(None), by_email[i]), else_=0)
                    for i in (0, 1))
    return count.label("history_count"), type_coerce(value, Money()).label("history_value")


def _facts(row, reason, title, unit_price) -> ItemFacts:
    """One item's facts from a row of either query."""
    synced = row.product_row_id is not None
    return item_facts(
        tags=row.order_tags or (), total_price=row.total_price, subtotal_price=row.subtotal_price,
        total_discounts=row.total_discounts, country=row.shipping_country, reason=reason,
        codes=row.discount_codes or (), product=title, product_type=row.product_type if synced else None,
        product_tags=(row.product_tags if synced else row.line_product_tags) or (),
        collections=row.collections or () if synced else (), item_price=unit_price,
        customer_returns=row.history_count or 0, customer_returned_value=Decimal(row.history_value or 0))


def _order_columns():
    return (Order.id.label("order_row_id"), Order.tags.label("order_tags"), Order.total_price, Order.subtotal_price,
            Order.total_discounts, Order.shipping_country, Order.discount_codes,
            Product.id.label("product_row_id"), Product.product_type, Product.tags.label("product_tags"),
            Product.collections, OrderLine.product_tags.label("line_product_tags"))


def return_facts(return_ids) -> dict[int, ItemFacts | None]:
    """Each item of the given returns (by item id) → its facts, or None when its order is no
    longer stored (purged past retention: the rules do not guess). One query in all."""
    ids = list(return_ids)
    if not ids:
        return {}
    count, value = _history(Return.account_id, Return.customer_shopify_id, Return.customer_email,
                            before=Return.created_at, since=days_before(Return.created_at), exclude_id=Return.id)
    rows = db.session.execute(
        select(ReturnItem.id.label("item_id"), ReturnItem.reason, ReturnItem.title, ReturnItem.unit_value,
               *_order_columns(), count, value)
        .select_from(ReturnItem).join(Return, Return.id == ReturnItem.return_id)
        .outerjoin(Order, and_(Order.id == Return.order_id, Order.account_id == Return.account_id))
        .outerjoin(OrderLine, OrderLine.id == ReturnItem.order_line_id)
        .outerjoin(Product, and_(Product.account_id == Return.account_id,
                                 Product.shopify_product_id == ReturnItem.product_id))
        .where(ReturnItem.return_id.in_(ids)))
    # Item price: the unit's value snapshot taken at submission (the line's price after its share
    # of discounts: app.services.return_eligibility.item_value).
    return {row.item_id: (_facts(row, row.reason, row.title, row.unit_value) if row.order_row_id is not None else None)
            for row in rows}


def order_line_facts(order: Order, reason: str, now: datetime | None = None) -> dict[int, ItemFacts]:
    """Each line of a stored order (by line id) → its facts as if returned now with `reason`
    (the dry run's "an order and a reason"). One query."""
    now = now or datetime.now(timezone.utc)
    count, value = _history(literal(order.account_id, Return.account_id.type),
                            literal(order.customer_shopify_id, Return.customer_shopify_id.type),
                            literal(order.email, Return.customer_email.type),
                            before=literal(now, Return.created_at.type), since=literal(
                                now - timedelta(days=HISTORY_DAYS), Return.created_at.type))
    rows = db.session.execute(
        select(OrderLine.id.label("line_id"), OrderLine.title, OrderLine.discounted_unit_price,
               *_order_columns(), count, value)
        .select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
        .outerjoin(Product, and_(Product.account_id == Order.account_id,
                                 Product.shopify_product_id == OrderLine.product_id))
        .where(OrderLine.order_id == order.id))
    return {row.line_id: _facts(row, reason, row.title, row.discounted_unit_price) for row in rows}

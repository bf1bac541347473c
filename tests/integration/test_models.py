"""The data model on the configured database: exact money, 64-bit ids, constraints, migrations."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Account, Order, OrderLine, Return, ReturnItem, WebhookDelivery
from tests.factories import make_account, make_order

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("amount", ["12345678.91", "0.10", "0.01", "1.2345", "-5.50"])
def test_money_is_stored_and_read_back_unchanged(app, amount):
    account = make_account()
    order = make_order(account, total_price=Decimal(amount))
    order_id = order.id
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(Order, order_id).total_price
    assert isinstance(stored, Decimal)
    assert stored == Decimal(amount)
    assert str(stored) == amount


def test_money_compares_numerically_in_sql(app):
    account = make_account()
    for index, total in enumerate(["9.99", "10.00", "100.00", "1000.50"]):
        make_order(account, shopify_order_id=100 + index, total_price=Decimal(total))
    db.session.commit()
    over_ten = db.session.scalars(
        select(Order.total_price).where(Order.total_price > Decimal("10")).order_by(Order.total_price)).all()
    assert over_ten == [Decimal("100.00"), Decimal("1000.50")]


def test_shopify_ids_keep_all_64_bits(app):
    big = 9_223_372_036_854_775_807  # the largest signed 64-bit value
    account = make_account()
    order = make_order(account, shopify_order_id=big)
    order.lines.append(OrderLine(shopify_line_id=big - 1, product_id=big - 2, variant_id=big - 3, title="T",
                                 quantity=1, unit_price=Decimal("1.00"), discounted_unit_price=Decimal("1.00")))
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.scalar(select(Order).where(Order.shopify_order_id == big))
    assert stored.shopify_order_id == big
    assert {line.variant_id for line in stored.lines} >= {big - 3}


def test_an_order_is_stored_once_per_store(app):
    account = make_account()
    make_order(account, shopify_order_id=42)
    db.session.commit()
    with pytest.raises(IntegrityError):
        make_order(account, shopify_order_id=42)
        db.session.flush()
    db.session.rollback()
    other = make_account(slug="other", shop_domain="other.myshopify.com")
    make_order(other, shopify_order_id=42)  # the same Shopify id in another store is fine
    db.session.commit()


def test_a_webhook_event_is_stored_once(app):
    fields = dict(shop_domain="a.myshopify.com", topic="orders/create", event_id="e-1", body="{}")
    db.session.add(WebhookDelivery(**fields))
    db.session.commit()
    db.session.add(WebhookDelivery(**fields))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_deleting_an_order_keeps_its_returns_and_their_snapshots(app):
    account = make_account()
    order = make_order(account)
    line = order.lines[0]
    db.session.flush()
    ret = Return(account_id=account.id, order_id=order.id, rma_number="R-100001",
                 shopify_order_id=order.shopify_order_id, order_name=order.name, currency="USD")
    ret.items.append(ReturnItem(order_line_id=line.id, shopify_line_id=line.shopify_line_id, title=line.title,
                                unit_value=Decimal("9.60"), quantity=1, reason="Faulty"))
    db.session.add(ret)
    db.session.commit()
    title = line.title
    db.session.delete(order)
    db.session.commit()
    db.session.expunge_all()
    kept = db.session.scalar(select(Return).where(Return.rma_number == "R-100001"))
    assert kept.order_id is None
    assert kept.items[0].order_line_id is None
    assert kept.items[0].title == title and kept.items[0].unit_value == Decimal("9.60")


def test_deleting_an_account_deletes_its_data(app):
    account = make_account()
    make_order(account)
    db.session.commit()
    db.session.delete(account)
    db.session.commit()
    assert db.session.scalar(select(Order.id)) is None
    assert db.session.scalar(select(OrderLine.id)) is None


def test_the_migrations_build_exactly_the_models(app):
    """`flask db check`: autogenerate against the migrated schema must find nothing to do."""
    context = MigrationContext.configure(db.session.connection(), opts={"compare_type": True})
    differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_timestamps_are_timezone_aware(app):
    account = make_account()
    order = make_order(account, created_at=NOW - timedelta(days=1))
    order_id, account_id = order.id, account.id
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(Order, order_id)
    assert stored.created_at.tzinfo is not None
    assert stored.created_at == NOW - timedelta(days=1)
    assert db.session.get(Account, account_id).created_at is not None


def test_naive_datetimes_are_refused(app):
    account = make_account()
    with pytest.raises(Exception, match="naive datetime"):
        make_order(account, created_at=datetime(2026, 1, 1))
    db.session.rollback()

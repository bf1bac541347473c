"""Every column of a new order and its lines holds the OrderData value it is meant to, whichever
way the order is written (one at a time, or the batch writer: COPY on PostgreSQL, INSERT on
SQLite), and the COPY statements are built from the column names and checked against the tables.

The expectations are written out column by column here, not derived from ``app.order_rows``:
two names swapped there (say the financial and fulfillment statuses) would store each value in
the other's column on every path alike, which a comparison of two paths cannot see.
"""
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from app.domain.order_data import OrderData, OrderLineData
from app.extensions import db
from app.models import Order
from app.services.order_batches import upsert_orders
from app.services.order_copy import LINE_COLUMNS, ORDER_COLUMNS, copy_statement
from app.services.orders import upsert_order
from tests.factories import make_account

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)
PARCELS = [{"id": 71, "created_at": "2026-11-03T10:00:00+00:00", "delivered_at": None,
            "estimated_delivery_at": None, "status": "in_transit", "lines": None}]


def order_data(shopify_order_id: int) -> OrderData:
    """An order whose every stored value differs from every other one of the same type."""
    line = OrderLineData(
        line_id=shopify_order_id * 10 + 1, product_id=501, variant_id=502, title="Linen shirt",
        variant_title="M / Sand", sku="LS-M-SAND", quantity=3, unit_price=Decimal("40.00"),
        discounted_total=Decimal("110.00"), discounted_unit_value=Decimal("36.6667"), fulfilled_quantity=2,
        refunded_quantity=1, image_url="https://cdn.example/shirt.png", product_tags=("summer", "linen"))
    return OrderData(
        shopify_order_id=shopify_order_id, name="#1042", email=" Ann.Lee@Example.COM ",
        customer_id=7001, customer_first_name="Ann", customer_last_name="Lee",
        shipping_address={"city": "Lyon", "country_code": "FR"}, shipping_country_code="FR",
        currency="EUR", total_price=Decimal("110.00"), subtotal_price=Decimal("120.00"),
        total_discounts=Decimal("10.00"), discount_codes=("AUTUMN10",), tags=("vip", "wholesale"),
        financial_status="partially_refunded", fulfillment_status="partial",
        created_at=T0, updated_at=T0.replace(hour=11), cancelled_at=T0.replace(hour=12),
        fulfillments=PARCELS, lines=(line,))


def expected(data: OrderData) -> tuple[dict, dict]:
    """What each column must hold, written out by hand."""
    line = data.lines[0]
    return ({"shopify_order_id": data.shopify_order_id, "name": "#1042", "email": "ann.lee@example.com",
             "customer_shopify_id": 7001, "customer_name": "Ann Lee",
             "shipping_address": {"city": "Lyon", "country_code": "FR"}, "shipping_country": "FR",
             "currency": "EUR", "total_price": Decimal("110.00"), "subtotal_price": Decimal("120.00"),
             "total_discounts": Decimal("10.00"), "discount_codes": ["AUTUMN10"], "tags": ["vip", "wholesale"],
             "financial_status": "partially_refunded", "fulfillment_status": "partial",
             "created_at": T0, "updated_at": T0.replace(hour=11), "cancelled_at": T0.replace(hour=12),
             "fulfillments": PARCELS, "fulfillments_known": True, "redacted_at": None},
            {"shopify_line_id": line.line_id, "product_id": 501, "variant_id": 502, "title": "Linen shirt",
             "variant_title": "M / Sand", "sku": "LS-M-SAND", "product_tags": ["summer", "linen"],
             "quantity": 3, "unit_price": Decimal("40.00"), "discounted_unit_price": Decimal("36.6667"),
             "fulfilled_quantity": 2, "refunded_quantity": 1, "returnable_quantity": None,
             "image_url": "https://cdn.example/shirt.png"})


def stored(account_id: int) -> list[tuple[dict, dict]]:
    """Each stored order's columns and its one line's, but the ids the database chose."""
    db.session.expire_all()
    rows = []
    for order in db.session.scalars(select(Order).where(Order.account_id == account_id)
                                    .order_by(Order.shopify_order_id)):
        columns = {c.key: getattr(order, c.key) for c in Order.__table__.columns
                   if c.key not in ("id", "account_id", "stored_at")}
        (line,) = order.lines
        rows.append((columns, {c.key: getattr(line, c.key) for c in line.__table__.columns
                               if c.key not in ("id", "order_id")}))
    return rows


@pytest.mark.parametrize("way", ["one at a time", "batch writer"])
def test_every_column_holds_its_own_value(app, way):
    account = make_account(shop_domain=None)
    batch = [order_data(9001), order_data(9002)]
    if way == "one at a time":
        for data in batch:
            assert upsert_order(account.id, data) == "created"
    else:
        assert upsert_orders(account.id, batch)["created"] == 2
    db.session.commit()
    assert stored(account.id) == [expected(data) for data in batch]


def test_an_update_keeps_what_the_body_does_not_carry(app):
    account = make_account(shop_domain=None)
    data = order_data(9003)
    upsert_orders(account.id, [data])
    db.session.commit()
    # A webhook body: no parcels, no product tags, no image; a status moved on.
    line = replace(data.lines[0], product_tags=None, image_url=None, refunded_quantity=2)
    later = replace(data, updated_at=T0.replace(hour=13), financial_status="refunded", fulfillments=None,
                    lines=(line,))
    assert upsert_order(account.id, later) == "updated"
    db.session.commit()
    order, line_columns = expected(data)
    order.update(updated_at=T0.replace(hour=13), financial_status="refunded")
    line_columns.update(refunded_quantity=2)
    assert stored(account.id) == [(order, line_columns)]


def test_the_copy_statements_name_every_column_the_writer_fills():
    assert ORDER_COLUMNS[:3] == ("id", "account_id", "stored_at")
    assert set(ORDER_COLUMNS) == {c.name for c in Order.__table__.columns} - {"redacted_at"}
    assert LINE_COLUMNS[0] == "order_id"


@pytest.mark.parametrize("columns,message", [
    (("id", "name"), "not written ['added_later']"),
    (("id", "name", "added_later", "nickname"), "not in the table ['nickname']"),
    (("id", "name", "added_later", "name"), "named twice ['name']"),
])
def test_a_table_and_its_copy_columns_that_disagree_stop_the_app(columns, message):
    table = Table("orders", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(64)),
                  Column("added_later", String(8)), Column("redacted_at", String(8)))
    assert copy_statement(table, ("id", "name", "added_later")) == "COPY orders (id, name, added_later) FROM STDIN"
    with pytest.raises(RuntimeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        copy_statement(table, columns)

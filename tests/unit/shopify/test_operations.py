"""Operations over the stub: shop info, orders (one, paginated), variants, webhook subscriptions."""
import copy
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from app.shopify import errors as E
from app.shopify import operations as ops
from tests.unit.shopify.stub import graphql
from tests.unit.shopify.test_mapping import GRAPHQL_ORDER_1001


def test_shop_info(stub, client):
    stub.add(graphql({"shop": {"id": "gid://shopify/Shop/1", "name": "Demo", "myshopifyDomain": "demo.myshopify.com",
                               "currencyCode": "EUR", "ianaTimezone": "Europe/Paris",
                               "plan": {"publicDisplayName": "Basic", "partnerDevelopment": False,
                                        "shopifyPlus": False}},
                      "currentAppInstallation": {"accessScopes": [{"handle": "read_orders"},
                                                                  {"handle": "read_products"}]}}))
    info = ops.fetch_shop_info(client)
    assert info.name == "Demo" and info.currency_code == "EUR" and info.plan_display_name == "Basic"
    assert info.scopes == frozenset({"read_orders", "read_products"})
    assert "currentAppInstallation" in stub.requests[0].json["query"]
    assert "publicDisplayName" in stub.requests[0].json["query"]


def test_fetch_order_follows_line_item_pages(stub, client):
    first = copy.deepcopy(GRAPHQL_ORDER_1001)
    rest_lines = first["lineItems"]["nodes"][1:]
    first["lineItems"] = {"nodes": first["lineItems"]["nodes"][:1],
                          "pageInfo": {"hasNextPage": True, "endCursor": "c1"}}
    stub.add(graphql({"order": first}),
             graphql({"order": {"id": first["id"], "lineItems": {
                 "nodes": rest_lines, "pageInfo": {"hasNextPage": False, "endCursor": "c2"}}}}))
    order = ops.fetch_order(client, 450789469)
    assert [line.line_id for line in order.lines] == [466157049, 518995019, 703073504]
    assert stub.requests[0].json["variables"] == {"id": "gid://shopify/Order/450789469",
                                                  "lineItemsFirst": ops.ORDER_LINE_ITEMS}
    assert stub.requests[1].json["variables"]["after"] == "c1"


def test_fetch_missing_order_is_none(stub, client):
    stub.add(graphql({"order": None}))
    assert ops.fetch_order(client, "gid://shopify/Order/5") is None


def test_iter_orders_paginates_lazily(stub, client):
    def page(name, has_next, cursor):
        node = copy.deepcopy(GRAPHQL_ORDER_1001)
        node["name"] = name
        return graphql({"orders": {"nodes": [node], "pageInfo": {"hasNextPage": has_next, "endCursor": cursor}}})

    stub.add(page("#1", True, "p1"), page("#2", False, "p2"))
    since = datetime(2026, 1, 1, tzinfo=timezone.utc)
    orders = ops.iter_orders(client, updated_at_min=since)
    assert next(orders).name == "#1"
    assert len(stub.requests) == 1  # a generator: page 2 not fetched yet
    assert [o.name for o in orders] == ["#2"]
    first, second = (r.json["variables"] for r in stub.requests)
    assert first == {"first": 5, "after": None, "query": "updated_at:>='2026-01-01T00:00:00Z'",
                     "sortKey": "UPDATED_AT", "lineItemsFirst": 10}
    assert second["after"] == "p1"


def test_search_query_bounds():
    low = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert ops.orders_search_query(created_at_min=low, created_at_max="2026-02-01T00:00:00Z") == \
        "created_at:>='2026-01-01T00:00:00Z' AND created_at:<'2026-02-01T00:00:00Z'"
    with pytest.raises(ValueError):
        ops.orders_search_query(created_at_min=datetime(2026, 1, 1))


def test_product_variants(stub, client):
    stub.add(graphql({"product": {"id": "gid://shopify/Product/632910392", "title": "IPod Nano", "status": "ACTIVE",
                                  "variants": {"nodes": [
        {"id": "gid://shopify/ProductVariant/808950810", "title": "Pink", "sku": "IPOD2008PINK", "price": "199.00",
         "availableForSale": True, "inventoryQuantity": 10, "inventoryPolicy": "DENY",
         "selectedOptions": [{"name": "Color", "value": "Pink"}], "inventoryItem": {"tracked": True},
         "media": {"nodes": [{"image": {"url": "https://cdn.shopify.com/pink.jpg"}}]}},
        {"id": "gid://shopify/ProductVariant/49148385", "title": "Red", "sku": "", "price": "199.00",
         "availableForSale": True, "inventoryQuantity": 0, "inventoryPolicy": "DENY",
         "selectedOptions": [{"name": "Color", "value": "Red"}], "inventoryItem": {"tracked": True},
         "media": {"nodes": [{}]}},  # a video first: the MediaImage fragment selects nothing
        {"id": "gid://shopify/ProductVariant/49148386", "title": "Blue", "sku": "IPOD2008BLUE",
         "price": "199.00", "availableForSale": False, "inventoryQuantity": 0, "inventoryPolicy": "DENY",
         "selectedOptions": [{"name": "Color", "value": "Blue"}], "inventoryItem": {"tracked": True},
         "media": {"nodes": []}},
    ], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}))
    pink, red, blue = ops.fetch_product_variants(client, 632910392)
    assert pink.variant_id == 808950810 and pink.options == (("Color", "Pink"),)
    assert pink.price == Decimal("199.00") and pink.in_stock
    assert red.sku is None and not red.in_stock
    assert (pink.image_url, red.image_url, blue.image_url) == ("https://cdn.shopify.com/pink.jpg", None, None)
    assert stub.requests[0].json["variables"]["first"] == ops.VARIANTS_PAGE_SIZE


def test_webhook_subscription_create_uses_uri(stub, client):
    stub.add(graphql({"webhookSubscriptionCreate": {"webhookSubscription": {
        "id": "gid://shopify/WebhookSubscription/7", "topic": "ORDERS_CREATE", "format": "JSON"},
        "userErrors": []}}))
    sub = ops.create_webhook_subscription(client, "orders/create", "https://app.example/webhooks/shopify")
    assert sub.id == "gid://shopify/WebhookSubscription/7"
    sent = stub.requests[0].json
    assert sent["variables"] == {"topic": "ORDERS_CREATE", "uri": "https://app.example/webhooks/shopify"}
    assert "uri: $uri" in sent["query"] and "callbackUrl:" not in sent["query"]


def test_webhook_subscription_user_errors(stub, client):
    stub.add(graphql({"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": [
        {"field": ["webhookSubscription", "callbackUrl"],
         "message": "Address for this topic has already been taken"}]}}))
    with pytest.raises(E.UserErrorsError) as info:
        ops.create_webhook_subscription(client, "ORDERS_CREATE", "https://app.example/w")
    assert info.value.messages == ["Address for this topic has already been taken"]
    assert info.value.items[0].field == ("webhookSubscription", "callbackUrl")
    assert len(stub.requests) == 1


def test_list_and_delete_webhooks(stub, client):
    stub.add(graphql({"webhookSubscriptions": {"nodes": [
        {"id": "gid://shopify/WebhookSubscription/7", "topic": "ORDERS_CREATE", "format": "JSON",
         "uri": "https://app.example/w"},
        {"id": "gid://shopify/WebhookSubscription/8", "topic": "ORDERS_UPDATED", "format": "JSON",
         "uri": "pubsub://project:topic"}],
        "pageInfo": {"hasNextPage": False, "endCursor": None}}}),
        graphql({"webhookSubscriptionDelete": {"deletedWebhookSubscriptionId": "gid://shopify/WebhookSubscription/7",
                                               "userErrors": []}}))
    sub, pubsub = ops.list_webhook_subscriptions(client)
    assert (sub.topic, sub.uri) == ("ORDERS_CREATE", "https://app.example/w")
    assert pubsub.uri == "pubsub://project:topic"
    assert ops.delete_webhook_subscription(client, sub.id) == sub.id

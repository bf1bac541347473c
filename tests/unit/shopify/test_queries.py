"""Every GraphQL document is valid against Shopify's real schema as the tests hold it, uses
nothing that schema deprecates, and the page sizes keep each request well under the 1,000-point
single-query limit. The app asks for that schema's version by default."""
import os
import time

import pytest
from graphql import parse, validate
from graphql.language import FieldNode, FragmentSpreadNode
from graphql.validation import NoDeprecatedCustomRule

from app.config import Config
from app.shopify import issuing, operations as ops, products
from app.shopify.client import DEFAULT_API_VERSION, ShopifyClient
from app.shopify.documents import document_names, load_document, operation_type
from tests.fixture_files import ADMIN_SCHEMA_VERSION
from tests.support.shopify_cost import MAX_SINGLE_QUERY_COST, requested_cost
from tests.support.shopify_schema import admin_schema, validation_errors


def test_schema_loads_once_and_is_cached():
    admin_schema.cache_clear()
    started = time.perf_counter()
    first = admin_schema()
    elapsed = time.perf_counter() - started
    print(f"\nadmin schema (3.4 MB SDL) parsed and built in {elapsed:.2f}s")
    assert admin_schema() is first  # the same object: nothing parsed again (a timing would follow the host's load)


def test_there_are_documents():
    assert {"shop_info", "order", "orders_page", "bulk_orders", "bulk_run_query", "bulk_operation",
            "latest_bulk_query",
            "product_variants", "webhook_subscription_create", "webhook_subscriptions",
            "webhook_subscription_delete", "suggested_refund", "refund_create", "order_refunds",
            "gift_card_create", "gift_cards_search", "draft_order_create", "draft_order_complete",
            "draft_order", "draft_orders_search", "variant_inventory", "locations",
            "inventory_adjust"} <= set(document_names())


@pytest.mark.parametrize("name", document_names())
def test_every_document_is_valid(name):
    assert validation_errors(load_document(name)) == []


def deprecated_uses(document: str) -> list[str]:
    """Messages for every deprecated field, argument, input field or enum value ``document`` uses
    (graphql-core's NoDeprecatedCustomRule against the real schema)."""
    return [e.message for e in validate(admin_schema(), parse(document), [NoDeprecatedCustomRule])]


@pytest.mark.parametrize("name", document_names())
def test_no_document_uses_anything_deprecated(name):
    assert deprecated_uses(load_document(name)) == []


@pytest.mark.parametrize("document,deprecated", [
    ("query { shop { plan { displayName } } }", "ShopPlan.displayName"),
    ("query { currentBulkOperation(type: QUERY) { id } }", "QueryRoot.currentBulkOperation"),
    ('query { productVariant(id: "gid://shopify/ProductVariant/1") { image { url } } }',
     "ProductVariant.image"),
    ("query { webhookSubscriptions(first: 1) { nodes { endpoint { __typename } } } }",
     "WebhookSubscription.endpoint"),
])
def test_the_deprecation_check_catches_a_deprecated_field(document, deprecated):
    assert validation_errors(document) == []  # valid, and still refused for being deprecated
    assert any(deprecated in message for message in deprecated_uses(document))


def test_the_default_api_version_is_the_schema_the_tests_hold():
    assert DEFAULT_API_VERSION == ADMIN_SCHEMA_VERSION
    assert ShopifyClient("demo.myshopify.com", "t").api_version == ADMIN_SCHEMA_VERSION
    if "SHOPIFY_API_VERSION" not in os.environ:  # the setting overrides the default
        assert Config.SHOPIFY_API_VERSION == ADMIN_SCHEMA_VERSION


@pytest.mark.parametrize("document", [
    "query { shop { nme } }",                                             # unknown field
    "query Order($id: ID!) { order(id: $id) { lineItems { nodes { id } } } }",  # fine shape, see below
    'mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {callbackUrl: "https://x"}) '
    '{ userErrors { message } } }',
    'mutation { refundCreate(input: {orderId: "gid://shopify/Order/1"}) @idempotent { userErrors { message } } }',
    "query { shop { name } ",                                             # syntax
])
def test_invalid_documents_are_rejected(document):
    if "lineItems { nodes" in document:
        document = document.replace("lineItems {", "lineItems(frist: 5) {")  # misspelt argument
    assert validation_errors(document) != []


def test_documented_later_changes_are_accepted():
    keyed = ('mutation { refundCreate(input: {orderId: "gid://shopify/Order/1"}) '
             '@idempotent(key: "3f6c") { refund { id } userErrors { field message } } }')
    assert validation_errors(keyed) == []
    uri = ('mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: '
           '{uri: "pubsub://project:topic", format: JSON}) { userErrors { message } } }')
    assert validation_errors(uri) == []


def test_operation_types():
    assert operation_type("orders_page") == "query"
    assert operation_type("webhook_subscription_create") == "mutation"
    with pytest.raises(KeyError):
        load_document("no_such_document")


def _fields(selection_set, fragments) -> dict:
    """Field name → nested dict, with fragment spreads expanded and connections flattened."""
    out = {}
    for sel in selection_set.selections:
        if isinstance(sel, FragmentSpreadNode):
            out.update(_fields(fragments[sel.name.value].selection_set, fragments))
        elif isinstance(sel, FieldNode) and sel.name.value != "pageInfo":
            sub = _fields(sel.selection_set, fragments) if sel.selection_set else None
            if sub and len(sub) == 1 and next(iter(sub)) in ("nodes", "edges", "node"):
                sub = next(iter(sub.values()))  # nodes{…} and edges{node{…}} compare equal
            out[sel.name.value] = sub
    return out


def _order_selection(name: str) -> dict:
    doc = parse(load_document(name))
    fragments = {d.name.value: d for d in doc.definitions if d.kind == "fragment_definition"}
    operation = next(d for d in doc.definitions if d.kind == "operation_definition")
    return _fields(operation.selection_set, fragments)


def test_bulk_document_selects_the_same_fields_as_the_fragments():
    bulk = _order_selection("bulk_orders")["orders"]
    paged = _order_selection("orders_page")["orders"]
    assert bulk == paged


def test_page_costs_follow_the_documented_formula():
    P, L = ops.ORDERS_PAGE_SIZE, ops.ORDERS_PAGE_LINE_ITEMS
    cost = requested_cost(load_document("orders_page"), admin_schema(),
                          {"first": P, "lineItemsFirst": L})
    assert cost == 2 + P * (12 + 9 * L + 10)
    assert cost <= MAX_SINGLE_QUERY_COST * 0.6


@pytest.mark.parametrize("name,variables", [
    ("order_fulfillments", {"first": 10, "linesFirst": ops.PARCEL_LINE_ITEMS}),
    ("order_fulfillment_dates", {"first": 10, "ids": ["x"] * ops.PARCEL_DATES_BATCH}),
    ("order", {"lineItemsFirst": ops.ORDER_LINE_ITEMS}),
    ("order_line_items", {"first": ops.LINE_ITEMS_PAGE_SIZE}),
    ("product_variants", {"first": ops.VARIANTS_PAGE_SIZE}),
    ("webhook_subscriptions", {"first": ops.WEBHOOKS_PAGE_SIZE}),
    ("product_facts", {"first": products.PRODUCTS_PAGE_SIZE, "collections": products.PRODUCT_COLLECTIONS}),
    ("product_facts_one", {"collections": products.PRODUCT_COLLECTIONS}),
    ("shop_info", {}),
    ("latest_bulk_query", {}),
    ("bulk_operation", {}),
    ("suggested_refund", {}),
    ("order_refunds", {}),
    ("gift_cards_search", {"first": issuing.SEARCH_PAGE_SIZE}),
    ("draft_orders_search", {"first": issuing.SEARCH_PAGE_SIZE}),
    ("locations", {"first": issuing.LOCATIONS_PAGE_SIZE}),
])
def test_every_paged_document_stays_under_the_single_query_limit(name, variables):
    assert requested_cost(load_document(name), admin_schema(), variables) < MAX_SINGLE_QUERY_COST * 0.6


def test_cost_estimator_can_exceed_the_limit():
    too_big = requested_cost(load_document("orders_page"), admin_schema(),
                             {"first": 50, "lineItemsFirst": 50})
    assert too_big > MAX_SINGLE_QUERY_COST


def test_the_confirm_batch_costs_one_order_per_id_and_fits_one_query():
    from app.services import order_confirm

    def cost(ids):
        return requested_cost(load_document("orders_confirm"), admin_schema(),
                              {"ids": ["x"] * ids, "lineItemsFirst": order_confirm.CONFIRM_LINE_ITEMS})

    assert cost(1) == order_confirm.ORDER_CONFIRM_COST
    assert cost(order_confirm.CONFIRM_BATCH) == order_confirm.CONFIRM_BATCH * order_confirm.ORDER_CONFIRM_COST
    assert cost(order_confirm.CONFIRM_BATCH) <= MAX_SINGLE_QUERY_COST < cost(order_confirm.CONFIRM_BATCH + 1)
    assert requested_cost(load_document("bucket_status"), admin_schema(), {}) == 0

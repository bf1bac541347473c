"""Order mapping on every real order fixture; REST and GraphQL shapes give the same OrderData."""
import copy
import dataclasses
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from app.domain.order_data import OrderData, OrderLineData
from app.shopify.errors import ShopifyDataError
from app.shopify.mapping import order_from_graphql, order_from_rest
from app.shopify.values import parse_id, parse_money, split_tags, unit_value
from tests.unit.shopify.conftest import load_fixture

UTC = timezone.utc


def money(amount):
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def gql_line(line_id, variant_id, colour, sku, refundable):
    # Shopify's GraphQL Decimal strings drop trailing zeros ("199.0"), unlike REST ("199.00").
    return {
        "id": f"gid://shopify/LineItem/{line_id}", "title": "IPod Nano - 8gb",
        "variantTitle": colour, "sku": sku, "quantity": 1,
        "unfulfilledQuantity": 1, "nonFulfillableQuantity": 0, "refundableQuantity": refundable,
        "originalUnitPriceSet": money("199.0"), "discountAllocations": [],
        # Product tags come from the real product fixture of this product (632910392).
        "product": {"id": "gid://shopify/Product/632910392",
                    "tags": ["Emotive", "Flash Memory", "MP3", "Music"]},
        "variant": {"id": f"gid://shopify/ProductVariant/{variant_id}"},
        "image": None,
    }


# The REST docs order #1001 (order_rest_docs_450789469.json) as the GraphQL Admin API returns it
# for OrderFields + LineItemFields: same facts, GraphQL names, UTC times, enums, gids. Its refunds
# (lines 703073504 and 466157049, one unit each) show as refundableQuantity 0; its only
# fulfillment has status "failure", so every unit is still unfulfilled.
GRAPHQL_ORDER_1001 = {
    "id": "gid://shopify/Order/450789469", "name": "#1001", "email": "bob.norman@hostmail.com",
    "createdAt": "2008-01-10T16:00:00Z", "updatedAt": "2008-01-10T16:00:00Z", "cancelledAt": None,
    "currencyCode": "USD", "totalPriceSet": money("409.94"), "subtotalPriceSet": money("398.0"),
    "totalDiscountsSet": money("0.0"), "discountCodes": ["TENOFF"], "tags": [],
    "displayFinancialStatus": "AUTHORIZED", "displayFulfillmentStatus": "UNFULFILLED",
    "customer": {"id": "gid://shopify/Customer/207119551", "firstName": "Bob", "lastName": "Norman"},
    "shippingAddress": {
        "firstName": "Bob", "lastName": "Norman", "company": None, "address1": "Chestnut Street 92",
        "address2": "", "city": "Louisville", "province": "Kentucky", "provinceCode": "KY",
        "country": "United States", "countryCodeV2": "US", "zip": "40202", "phone": "555-625-1199"},
    "billingAddress": {"countryCodeV2": "US"},
    "lineItems": {"nodes": [
        gql_line(466157049, 39072856, "green", "IPOD2008GREEN", 0),
        gql_line(518995019, 49148385, "red", "IPOD2008RED", 1),
        gql_line(703073504, 457924702, "black", "IPOD2008BLACK", 0),
    ], "pageInfo": {"hasNextPage": False, "endCursor": None}},
}


def without_graphql_only_fields(order: OrderData) -> OrderData:
    """REST bodies carry no product tags or images; blank those to compare the rest."""
    lines = tuple(dataclasses.replace(line, product_tags=None, image_url=None) for line in order.lines)
    return dataclasses.replace(order, lines=lines)


def test_rest_and_graphql_give_the_same_order():
    rest = order_from_rest(load_fixture("order_rest_docs_450789469.json"))
    graphql = order_from_graphql(copy.deepcopy(GRAPHQL_ORDER_1001))
    # Parcels differ by shape (REST names their units, GraphQL's order read their dates): see
    # test_parcels.py. This body's one fulfillment failed: it shipped nothing.
    assert rest.fulfillments == [] and graphql.fulfillments is None
    assert without_graphql_only_fields(graphql) == dataclasses.replace(rest, fulfillments=None)
    assert graphql.lines[0].product_tags == ("Emotive", "Flash Memory", "MP3", "Music")
    assert rest.lines[0].product_tags is None


def test_rest_and_graphql_differ_when_a_fact_differs():
    graphql = copy.deepcopy(GRAPHQL_ORDER_1001)
    graphql["lineItems"]["nodes"][1]["refundableQuantity"] = 0  # pretend line 2 was refunded too
    rest = order_from_rest(load_fixture("order_rest_docs_450789469.json"))
    assert without_graphql_only_fields(order_from_graphql(graphql)) != rest


def test_rest_docs_order_450789469():
    order = order_from_rest(load_fixture("order_rest_docs_450789469.json"))
    assert order.shopify_order_id == 450789469
    assert order.name == "#1001"
    assert order.email == "bob.norman@hostmail.com"
    assert order.created_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert order.currency == "USD"
    assert (order.total_price, order.subtotal_price, order.total_discounts) == (
        Decimal("409.94"), Decimal("398.00"), Decimal("0.00"))
    assert order.discount_codes == ("TENOFF",)
    assert order.tags == ()
    assert order.customer_id == 207119551 and order.customer_name == "Bob Norman"
    assert order.shipping_country_code == "US"
    assert order.shipping_address["address1"] == "Chestnut Street 92"
    assert order.shipping_address["address2"] is None  # "" normalised
    assert order.financial_status == "authorized" and order.fulfillment_status == "unfulfilled"
    by_id = {line.line_id: line for line in order.lines}
    assert by_id[703073504].refunded_quantity == 1 and by_id[466157049].refunded_quantity == 1
    assert by_id[518995019].refunded_quantity == 0
    assert all(line.fulfilled_quantity == 0 for line in order.lines)  # its fulfillment "failure"d
    assert by_id[466157049] == OrderLineData(
        line_id=466157049, product_id=632910392, variant_id=39072856, title="IPod Nano - 8gb",
        variant_title="green", sku="IPOD2008GREEN", quantity=1, unit_price=Decimal("199.00"),
        discounted_total=Decimal("199.00"), discounted_unit_value=Decimal("199.00"),
        fulfilled_quantity=0, refunded_quantity=1)


def test_python_api_vintage_of_the_same_order():
    order = order_from_rest(load_fixture("order_rest_python_api_fixture_450789469.json"))
    assert order.shopify_order_id == 450789469 and order.discount_codes == ("TENOFF",)
    assert [line.sku for line in order.lines] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert all(line.discounted_unit_value == Decimal("199.00") for line in order.lines)


def test_docs_webhook_2026_04_keeps_19_digit_ids_exact():
    body = load_fixture("webhook_orders_create_docs_2026-04.metadata.json")["response"]
    order = order_from_rest(body)
    # The numeric "id" went through a JS double (…500); the gid string kept every digit.
    assert body["id"] == 820982911946154500
    assert order.shopify_order_id == 820982911946154508
    assert order.customer_id == 115310627314723954
    assert [line.line_id for line in order.lines][:2] == [487817672276298554, 789012345678901234]
    assert order.tags == ("tag1", "tag2")
    assert order.total_discounts == Decimal("20.00") and order.discount_codes == ()
    assert order.cancelled_at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)
    assert order.email == "jon@example.com"
    assert order.financial_status == "voided"
    assert order.lines[0].variant_id is None and order.lines[1].product_id is None
    assert order.lines[0].variant_title is None


REAL_DEVSTORE = "order_webhook_real_devstore_NIO_5361640702167.json"


def test_partial_real_capture_is_refused_naming_what_is_missing():
    with pytest.raises(ShopifyDataError, match="name, created_at, currency, total_price"):
        order_from_rest(load_fixture(REAL_DEVSTORE))


def test_real_devstore_webhook_with_its_missing_top_level_keys_supplied():
    body = load_fixture(REAL_DEVSTORE)
    # The capture kept only some top-level keys; supply the ones a webhook always carries.
    body.update({"name": "#1001", "created_at": "2023-11-22T02:53:43-05:00", "currency": "NIO",
                 "total_price": "97.58", "subtotal_price": "84.85", "total_discounts": "0.00",
                 "discount_codes": [], "tags": ""})
    order = order_from_rest(body)
    assert order.shopify_order_id == 5361640702167  # from the escaped gid "gid:\/\/shopify\/Order\/…"
    assert order.shipping_address is None and order.shipping_country_code is None
    assert order.customer_id is None and order.customer_name is None and order.email is None
    assert order.discount_codes == () and order.tags == ()
    assert [line.line_id for line in order.lines] == [13375446745303, 13375446778071, 13375446810839]
    assert [line.variant_id for line in order.lines] == [44258260058327, 44258260091095, 44258260123863]
    assert all(line.sku is None for line in order.lines)  # "" in the payload
    assert [line.unit_price for line in order.lines] == [Decimal("24.95"), Decimal("49.95"), Decimal("9.95")]
    assert order.currency == "NIO"


def rest_order(**line_overrides):
    line = {"id": 1, "product_id": 2, "variant_id": 3, "title": "Shirt", "quantity": 3,
            "price": "10.00", "sku": "S", "variant_title": "M",
            "discount_allocations": [{"amount": "4.00"}, {"amount": "6.00"}]}
    line.update(line_overrides)
    return {"id": 9, "name": "#1", "created_at": "2026-01-01T00:00:00Z", "currency": "eur",
            "total_price": "20.00", "subtotal_price": "20.00", "total_discounts": "10.00",
            "tags": " VIP, ,wholesale ,, ", "line_items": [line],
            "billing_address": {"country_code": "ca"}, "email": "  Jane@Example.COM "}


def test_discounted_value_exact_total_and_rounded_unit():
    line = order_from_rest(rest_order()).lines[0]
    assert line.discounted_total == Decimal("20.00")
    assert line.discounted_unit_value == Decimal("6.6667")  # 20/3, half-even to 4 places
    assert line.value_of(3) == Decimal("20.00")
    assert line.value_of(1) == Decimal("6.6667")


def test_normalisations():
    order = order_from_rest(rest_order())
    assert order.tags == ("VIP", "wholesale")
    assert order.email == "jane@example.com"
    assert order.shipping_country_code == "CA"  # billing fallback, upper-cased
    assert order.currency == "EUR"
    assert order.updated_at == order.created_at


def test_fulfilled_quantity_counts_only_successful_fulfillments():
    body = rest_order()
    body["fulfillments"] = [
        {"status": "success", "line_items": [{"id": 1, "quantity": 2}]},
        {"status": "cancelled", "line_items": [{"id": 1, "quantity": 1}]},
    ]
    assert order_from_rest(body).lines[0].fulfilled_quantity == 2


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", "-inf", "1e5", "12.3.4", "", " ",
                                 "1,000.00", "0x10", "12.", ".5", None, True, [], {}, float("nan")])
def test_bad_money_raises(bad):
    with pytest.raises(ShopifyDataError):
        parse_money(bad)


def test_bad_money_in_a_payload_raises():
    with pytest.raises(ShopifyDataError, match="line price"):
        order_from_rest(rest_order(price="19,99"))


def test_money_from_json_numbers_goes_through_str():
    assert parse_money(195.67) == Decimal("195.67")  # not 195.669999999999987494447850622236728668212890625
    assert parse_money(3) == Decimal(3)
    assert parse_money("-5.00") == Decimal("-5.00")


@pytest.mark.parametrize("value,kind,expected", [
    ("gid://shopify/Order/820982911946154508", "Order", 820982911946154508),
    ("gid:\\/\\/shopify\\/Order\\/5361640702167", "Order", 5361640702167),
    ("gid://shopify/LineItem/1?foo=bar", "LineItem", 1),
    (450789469, None, 450789469),
    ("450789469", None, 450789469),
])
def test_ids_parse(value, kind, expected):
    assert parse_id(value, kind) == expected


@pytest.mark.parametrize("value", [8.2e17, 1.0, "gid://shopify/Customer/1", "abc", -1, 0, 2 ** 63, None, True])
def test_bad_ids_raise(value):
    with pytest.raises(ShopifyDataError):
        parse_id(value, "Order")


def test_graphql_line_quantities_and_discounts():
    node = copy.deepcopy(GRAPHQL_ORDER_1001)
    line = node["lineItems"]["nodes"][0]
    line.update(quantity=4, unfulfilledQuantity=1, nonFulfillableQuantity=1, refundableQuantity=3,
                discountAllocations=[{"allocatedAmountSet": money("10.0")}],
                image={"url": "https://cdn.shopify.com/x.jpg"})
    mapped = order_from_graphql(node).lines[0]
    assert (mapped.fulfilled_quantity, mapped.refunded_quantity) == (2, 1)
    assert mapped.discounted_total == Decimal("786.0") and mapped.discounted_unit_value == Decimal("196.5")
    assert mapped.image_url == "https://cdn.shopify.com/x.jpg"


def test_graphql_missing_total_raises():
    node = copy.deepcopy(GRAPHQL_ORDER_1001)
    node["totalPriceSet"] = None
    with pytest.raises(ShopifyDataError, match="totalPriceSet"):
        order_from_graphql(node)


def test_split_tags_and_unit_value_helpers():
    assert split_tags("a, b,,  ,c ") == ("a", "b", "c")
    assert split_tags(["x ", ""]) == ("x",)
    assert unit_value(Decimal("10.00"), 4) == Decimal("2.50")

"""The bulk import's lean node → COPY fields path gives exactly what the full OrderData path gives.

``lean_mapping.graphql_order_values`` writes COPY text fields; read back by column type they must
equal ``order_copy.order_values(order_from_graphql(node))`` value for value, each field read
the way its column (named in ``app.order_rows``) reads it (money as the same
exact amount, instants the same instant, JSON the same JSON), or it returns None (the full way
then decides). Checked on the GraphQL twin of the real docs order, on a real sandbox bulk export,
and on many variations of them: blanks, nulls, odd types, escaped ids, amounts of every scale.
"""
import copy
import json
import random
from datetime import datetime
from decimal import Decimal

import pytest

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String

from app.models import Order, OrderLine
from app.models.types import Money, UTCDateTime
from app.order_rows import LINE_FIELDS, ORDER_FIELDS, copy_fields
from app.services.order_copy import order_values
from app.shopify.bulk import iter_bulk_objects
from app.shopify.errors import ShopifyDataError
from app.shopify.lean_mapping import graphql_order_values
from app.shopify.mapping import order_from_graphql
from tests.unit.shopify.test_bulk import jsonl_for, second_order
from tests.unit.shopify.test_mapping import GRAPHQL_ORDER_1001


def full_values(node):
    """The reference: OrderData first, then its stored values; None when it cannot be read or
    stored (unreadable, or e.g. an amount of more places than the money columns keep)."""
    try:
        return order_values(order_from_graphql(copy.deepcopy(node)))
    except Exception:  # noqa: BLE001 - any refusal: the lean path must then refuse too
        return None


def column_kinds(table, names):
    """How PostgreSQL reads each COPY field of these columns, from the table definition."""
    kinds = {BigInteger: "int", Integer: "int", Boolean: "bool", Money: "money", UTCDateTime: "time",
             JSON: "json", String: "text"}  # String covers Text
    return tuple(next(kind for cls, kind in kinds.items() if isinstance(table.c[name].type, cls))
                 for name in names)


ORDER_TYPES = column_kinds(Order.__table__, ORDER_FIELDS)
LINE_TYPES = column_kinds(OrderLine.__table__, LINE_FIELDS)
UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def read_field(text: str, kind: str):
    """A text-format COPY field read back the way the column of that kind stores it."""
    assert isinstance(text, str)
    if text == "\\N":
        return None
    assert "\t" not in text and "\n" not in text and "\r" not in text
    plain, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            plain.append(UNESCAPE[text[i:i + 2]])
            i += 2
        else:
            plain.append(text[i])
            i += 1
    value = "".join(plain)
    if kind == "int":
        return int(value)
    if kind == "money":  # numeric(19,4): the exact amount, at most four places
        amount = Decimal(value)
        assert amount.is_finite() and amount == amount.quantize(Decimal("0.0001"))
        return amount
    if kind == "time":
        return datetime.fromisoformat(value)
    if kind == "json":
        return json.loads(value)
    if kind == "bool":
        return {"t": True, "f": False}[value]
    return value


def read_fields(fields, types):
    assert len(fields) == len(types)
    return tuple(read_field(text, kind) for text, kind in zip(fields, types, strict=True))


def stored(values, types):
    """A full-path value the way its column stores it (JSON as JSON reads it back)."""
    return tuple(json.loads(json.dumps(v)) if kind == "json" else v
                 for v, kind in zip(values, types, strict=True))


def assert_same(node):
    lean = graphql_order_values(copy.deepcopy(node))
    full = full_values(node)
    if lean is None:
        return False  # the full way decides: nothing to compare
    assert full is not None, "lean path accepted an order the full mapping refuses"
    (order, lines), (full_order, full_lines) = lean, full
    assert read_fields(order, ORDER_TYPES) == stored(full_order, ORDER_TYPES)
    assert len(lines) == len(full_lines)
    for line, full_line in zip(lines, full_lines, strict=True):
        assert read_fields(line, LINE_TYPES) == stored(full_line, LINE_TYPES)
    # The full path's own fields (copy_fields: an order that is not of the plain shape) too.
    assert read_fields(copy_fields(full_order), ORDER_TYPES) == stored(full_order, ORDER_TYPES)
    for full_line in full_lines:
        assert read_fields(copy_fields(full_line), LINE_TYPES) == stored(full_line, LINE_TYPES)
    return True


def bulk_nodes(orders):
    return list(iter_bulk_objects(jsonl_for(orders)))


def test_docs_order_through_bulk_takes_the_lean_path_and_matches():
    for node in bulk_nodes([GRAPHQL_ORDER_1001, second_order()]):
        assert assert_same(node)


@pytest.fixture(scope="module")
def sandbox_nodes():
    """A real sandbox bulk export (the bench's input), reassembled."""
    from bench.bulk_jsonl import sandbox_export_lines

    return list(iter_bulk_objects(sandbox_export_lines(120)))


def test_sandbox_export_matches_order_for_order(sandbox_nodes):
    assert len(sandbox_nodes) == 120
    assert all(assert_same(node) for node in sandbox_nodes)


ODD_VALUES = [None, "", "  ", 0, 1, -3, 2.5, True, False, [], {}, ["x"], {"a": 1}, "abc",
              " Mixed Case@Example.COM ", "gid://shopify/Order/12", "gid:\\/\\/shopify\\/Order\\/5",
              "gid://shopify/Order/12?x=1", "0012", "19.99", "19.999", "19.99999", "-0.00",
              "1e3", "NaN", " 5.00", "٣", "2026-01-02T03:04:05Z", "2026-01-02T03:04:05+02:00",
              "2026-01-02T03:04:05", "US", "us", "u1", "ÉÉ", 10 ** 20]
ORDER_KEYS = ["id", "name", "email", "createdAt", "updatedAt", "cancelledAt", "currencyCode",
              "totalPriceSet", "subtotalPriceSet", "totalDiscountsSet", "discountCodes", "tags",
              "displayFinancialStatus", "displayFulfillmentStatus", "customer", "shippingAddress",
              "billingAddress", "lineItems"]
LINE_KEYS = ["id", "title", "variantTitle", "sku", "quantity", "unfulfilledQuantity",
             "nonFulfillableQuantity", "refundableQuantity", "originalUnitPriceSet",
             "discountAllocations", "product", "variant", "image"]


def variations(node, rng, count):
    """Copies of the node with one to three values replaced by odd ones, here and there."""
    for _ in range(count):
        varied = copy.deepcopy(node)
        for _ in range(rng.randrange(1, 4)):
            where = rng.random()
            connection = varied.get("lineItems")
            line_nodes = connection.get("nodes") if isinstance(connection, dict) else None
            if not isinstance(line_nodes, list) or not all(isinstance(node, dict) for node in line_nodes):
                line_nodes = []
            value = copy.deepcopy(rng.choice(ODD_VALUES))
            if where < 0.35:
                varied[rng.choice(ORDER_KEYS)] = value
            elif where < 0.7 and line_nodes:
                rng.choice(line_nodes)[rng.choice(LINE_KEYS)] = value
            elif where < 0.8:
                varied["totalPriceSet"] = {"shopMoney": {"amount": value}}
            elif where < 0.9 and line_nodes:
                line = rng.choice(line_nodes)
                line["originalUnitPriceSet"] = {"shopMoney": {"amount": value}}
                line["discountAllocations"] = [{"allocatedAmountSet": {"shopMoney": {"amount": "0.015"}}}]
            elif isinstance(varied.get("shippingAddress"), dict):
                varied["shippingAddress"][rng.choice(list(varied["shippingAddress"]))] = value
        yield varied


@pytest.mark.parametrize("seed", range(4))
def test_odd_variations_match_or_fall_back(seed, sandbox_nodes):
    rng = random.Random(seed)
    bases = bulk_nodes([GRAPHQL_ORDER_1001]) + sandbox_nodes[seed * 10:seed * 10 + 10]
    lean = 0
    for base in bases:
        for varied in variations(base, rng, 60):
            lean += assert_same(varied)
    assert lean > 80  # most variations are still of the plain shape (a count is a JSON integer)


@pytest.mark.parametrize("amount,quantity", [("199.0", 3), ("0.01", 3), ("10", 7), ("1.0001", 16),
                                             ("-5.50", 2), ("0", 0), ("999999999999999.9999", 999999)])
def test_money_is_the_same_exact_decimal(amount, quantity):
    node = bulk_nodes([GRAPHQL_ORDER_1001])[0]
    line = node["lineItems"]["nodes"][0]
    line["quantity"] = quantity
    line["originalUnitPriceSet"] = {"shopMoney": {"amount": amount, "currencyCode": "USD"}}
    line["discountAllocations"] = [{"allocatedAmountSet": {"shopMoney": {"amount": "0.03"}}}]
    assert assert_same(node)


def test_unreadable_order_is_left_to_the_full_mapping():
    node = bulk_nodes([GRAPHQL_ORDER_1001])[0]
    del node["totalPriceSet"]
    assert graphql_order_values(node) is None
    with pytest.raises(ShopifyDataError):
        order_from_graphql(node)


def test_values_serialise_as_the_columns_expect():
    (order, lines) = graphql_order_values(bulk_nodes([GRAPHQL_ORDER_1001])[0])
    assert order[0] == "450789469" and order[2] == "bob.norman@hostmail.com"
    assert json.loads(order[5])["country_code"] == "US"
    assert order[8] == "409.94" and lines[0][8] == "199.0"


def test_text_with_copy_specials_is_escaped_and_reads_back():
    node = bulk_nodes([GRAPHQL_ORDER_1001])[0]
    node["name"] = "#10\\01\tA\nB\rC"
    node["lineItems"]["nodes"][0]["title"] = "Tab\there\\"
    node["shippingAddress"]["city"] = "Zürich \"Nord\""
    assert assert_same(node)
    (order, lines) = graphql_order_values(node)
    assert order[1] == "#10\\\\01\\tA\\nB\\rC" and lines[0][3] == "Tab\\there\\\\"


PARCEL = {"id": "gid://shopify/Fulfillment/255858046", "status": "SUCCESS", "createdAt": "2026-01-02T10:00:00Z",
          "deliveredAt": "2026-01-05T16:30:00Z", "estimatedDeliveryAt": None, "displayStatus": "DELIVERED"}
ODD_PARCELS = [
    None, [], "lots", [None], [{**PARCEL, "status": "CANCELLED"}], [{**PARCEL, "status": None}],
    [{**PARCEL, "createdAt": "2026-01-02T12:00:00.123+02:00"}], [{**PARCEL, "createdAt": None}],
    [{**PARCEL, "deliveredAt": "yesterday"}], [{**PARCEL, "displayStatus": "delivered"}],
    [{**PARCEL, "displayStatus": None}], [{**PARCEL, "displayStatus": 7}], [{**PARCEL, "id": "gid://shopify/Fulfillment/٣"}],
    [{**PARCEL, "fulfillmentLineItems": {"nodes": []}}],
    [PARCEL, {**PARCEL, "id": "gid://shopify/Fulfillment/2", "createdAt": "2026-01-01T08:00:00Z", "deliveredAt": None}],
]


@pytest.mark.parametrize("parcels", ODD_PARCELS, ids=range(len(ODD_PARCELS)))
def test_parcels_match_or_fall_back(parcels):
    """The export's parcel dates: written the lean way exactly as the full mapping stores them,
    or left to the full mapping (which stores them or refuses the order)."""
    node = copy.deepcopy(GRAPHQL_ORDER_1001)
    node["fulfillments"] = copy.deepcopy(parcels)
    assert_same(node)


def test_plain_parcels_take_the_lean_path():
    node = copy.deepcopy(GRAPHQL_ORDER_1001)
    node["fulfillments"] = [PARCEL]
    assert assert_same(node)

"""Shopify order payloads → ``OrderData``: one value from both of Shopify's shapes.

- REST-style JSON: webhook bodies (``orders/create``, ``orders/updated``) and REST order responses
  (``{"order": {...}}`` or the bare order). snake_case, money as strings (``price``) with optional
  ``*_set.shop_money`` twins, tags as one comma-separated string.
- GraphQL order node (``OrderFields`` + ``LineItemFields`` in ``queries/_order_fields.graphql``),
  including the node ``bulk.py`` rebuilds from JSONL. camelCase, ``gid://`` ids, money bags.

Field choices (so the two shapes agree):
- Money is the shop currency: REST ``*_set.shop_money.amount`` when present, else the plain field
  (documented as shop currency); GraphQL ``*Set.shopMoney.amount``. Totals are the order's original
  figures (REST ``total_price`` = GraphQL ``totalPriceSet``), not the ``current_*`` ones.
- Ids: the ``admin_graphql_api_id`` gid is preferred to the numeric ``id`` in REST payloads —
  it is a string and cannot have passed through a float (Shopify's docs examples scraped through
  JavaScript carry ``820982911946154500`` beside ``gid://shopify/Order/820982911946154508``).
- Fulfilled quantity: REST sums ``fulfillments[status=success].line_items[].quantity``; GraphQL
  uses quantity − unfulfilledQuantity − nonFulfillableQuantity (schema: quantity includes refunded
  and removed units; unfulfilled = not yet fulfilled; non-fulfillable = refunded/removed before
  fulfilment). Refunded quantity: REST sums ``refunds[].refund_line_items[].quantity``; GraphQL
  uses quantity − refundableQuantity ("units ordered, excluding refunded units").
- Discounted value: unit price × quantity − Σ discount allocations (line and order level, codes
  included), per unit by ``values.unit_value``.
- Strings Shopify sends as "" or null (sku, variant title, address parts) become None.

Missing essentials (id, name, created_at, currency, total and subtotal) raise ShopifyDataError
naming them: an order stored without them could never be found in the portal.
"""
from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, Iterable

from app.domain.order_data import ADDRESS_KEYS, OrderData, OrderLineData
from app.shopify import parcels
from app.shopify.errors import ShopifyDataError
from app.shopify.values import (
    blank_to_none, parse_datetime, parse_id, parse_money, parse_optional_datetime,
    parse_optional_id, split_tags, unit_value,
)

_REST_FULFILLMENT = {None: "unfulfilled", "": "unfulfilled", "partial": "partially_fulfilled"}
_GRAPHQL_ADDRESS = {
    "first_name": "firstName", "last_name": "lastName", "company": "company",
    "address1": "address1", "address2": "address2", "city": "city", "province": "province",
    "province_code": "provinceCode", "country": "country", "country_code": "countryCodeV2",
    "zip": "zip", "phone": "phone",
}


# Quantities are stored as 32-bit integers; no order holds anywhere near this many units.
_MAX_COUNT = 2 ** 31 - 1


def _count(value, what: str) -> int:
    """A unit count: a non-negative JSON integer or ASCII digit string (absent: 0). Anything
    else (a float, "²", a list, more than a 32-bit column holds) is refused, never guessed at."""
    if value is None or value == "":
        return 0
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNT:
        raise ShopifyDataError(f"{what} is not a unit count: {value!r}"[:200])
    return value


def _objects(value, what: str) -> list[dict]:
    """A JSON list of objects (absent: empty); anything else is refused."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ShopifyDataError(f"{what} is not a list of objects")
    return value


def _refusing_surprises(mapper):
    """A mapper that refuses a payload of a shape it does not expect (a string where an object
    belongs, a date past the calendar…) with ShopifyDataError, the one error callers handle,
    instead of whatever Python raised on the way."""
    @functools.wraps(mapper)
    def mapped(payload):
        try:
            return mapper(payload)
        except ShopifyDataError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError, RecursionError) as error:
            raise ShopifyDataError(f"unexpected order shape ({type(error).__name__}: {error})"[:300]) from error
    return mapped


def order_id_of(payload) -> int | None:
    """The order id a REST order body names (``admin_graphql_api_id`` first, else ``id``), even
    when the rest of it cannot be mapped; None when it names none that is valid."""
    order = payload.get("order", payload) if isinstance(payload, dict) else None
    if not isinstance(order, dict):
        return None
    for value, kind in ((order.get("admin_graphql_api_id"), "Order"), (order.get("id"), None)):
        try:
            return parse_id(value, kind)
        except ShopifyDataError:
            continue
    return None


def _require(source: dict, keys: Iterable[str], shape: str) -> None:
    missing = [k for k in keys if source.get(k) in (None, "")]
    if missing:
        ident = source.get("admin_graphql_api_id") or source.get("id")
        raise ShopifyDataError(f"{shape} order {ident!r} lacks {', '.join(missing)}")


def _currency(value) -> str:
    """An ISO 4217 code (three letters), upper-case; anything else is refused. Shopify's
    CurrencyCode values are all three-letter codes
    (https://shopify.dev/docs/api/admin-graphql/2024-04/enums/currencycode); the sandbox makes
    shops only in such currencies (sandbox/store.py ``create_shop``)."""
    if not isinstance(value, str) or not (len(value.strip()) == 3 and value.strip().isascii()
                                          and value.strip().isalpha()):
        raise ShopifyDataError(f"not a currency code: {value!r}"[:200])
    return value.strip().upper()


def _email(value) -> str | None:
    value = blank_to_none(value)
    return value.lower() if isinstance(value, str) else None


def _country(value) -> str | None:
    value = blank_to_none(value)
    if isinstance(value, str) and len(value) == 2 and value.isalpha():
        return value.upper()
    return None


def _address(raw: dict | None, keys: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The exchange-order address in ADDRESS_KEYS spelling, or None when there is none."""
    if not isinstance(raw, dict):
        return None
    keys = keys or {k: k for k in ADDRESS_KEYS}
    address = {ours: blank_to_none(raw.get(theirs)) for ours, theirs in keys.items()}
    address["country_code"] = _country(address["country_code"])
    if not any(address.values()):
        return None
    return address


# --- REST / webhook shape ----------------------------------------------------------------------

def _rest_money(obj: dict, key: str, what: str) -> Decimal:
    """``key`` in shop money: the ``<key>_set.shop_money.amount`` twin first, else ``key``."""
    money_set = obj.get(f"{key}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        return parse_money(money_set["shop_money"].get("amount"), what)
    return parse_money(obj.get(key), what)


def _rest_id(obj: dict, kind: str) -> int:
    gid = obj.get("admin_graphql_api_id")
    return parse_id(gid, kind) if gid else parse_id(obj.get("id"), kind)


def _rest_ids(obj: dict, kind: str) -> set[int]:
    """Every id an object is known by: its gid and its numeric id, which must agree.

    They may differ only as a float would round the gid's number (Shopify's docs examples, scraped
    through JavaScript, carry ``820982911946154500`` beside ``…/820982911946154508``); any other
    disagreement is refused, since the object could be taken for another one."""
    ids = {_rest_id(obj, kind)}
    if isinstance(obj.get("id"), (int, str)) and not isinstance(obj.get("id"), bool):
        ids.add(parse_id(obj["id"]))
    if len(ids) > 1 and len({float(i) for i in ids}) > 1:
        raise ShopifyDataError(f"{kind} ids disagree: {obj.get('admin_graphql_api_id')!r} and {obj.get('id')!r}"[:300])
    return ids


def _line_index(items: list[dict]) -> dict[int, int]:
    """Each id the order's lines are known by → the line's own id. Two lines known by one id
    are refused: their units would be merged into one line."""
    index: dict[int, int] = {}
    for item in items:
        line_id = _rest_id(item, "LineItem")
        for known in _rest_ids(item, "LineItem"):
            if known in index:
                raise ShopifyDataError(f"two line items of the order are known by the id {known}")
        index.update(dict.fromkeys(_rest_ids(item, "LineItem"), line_id))
    return index


def _line_of(index: dict[int, int], ids: set[int], what: str) -> int | None:
    """The order line that ids of a fulfillment or refund entry name (None: no line of the order)."""
    lines = {index[i] for i in ids if i in index}
    if len(lines) > 1:
        raise ShopifyDataError(f"a {what} entry names two different line items: {sorted(lines)}")
    return lines.pop() if lines else None


@_refusing_surprises
def order_from_rest(payload: dict) -> OrderData:
    """Map a REST order (webhook body, ``{"order": …}`` or bare) to ``OrderData``."""
    order = payload.get("order", payload) if isinstance(payload, dict) else None
    if not isinstance(order, dict):
        raise ShopifyDataError("REST order payload is not an object")
    _require(order, ("name", "created_at", "currency", "total_price", "subtotal_price"), "REST")
    if order.get("id") is None and not order.get("admin_graphql_api_id"):
        raise ShopifyDataError("REST order lacks id")

    items = _objects(order.get("line_items"), "line_items")
    index = _line_index(items)
    fulfilled: dict[int, int] = {}
    for fulfillment in _objects(order.get("fulfillments"), "fulfillments"):
        if str(fulfillment.get("status") or "").lower() != "success":
            continue  # pending/open/cancelled/error/failure shipped nothing
        for item in _objects(fulfillment.get("line_items"), "fulfillment line_items"):
            line_id = _line_of(index, _rest_ids(item, "LineItem"), "fulfillment")
            if line_id is not None:
                fulfilled[line_id] = fulfilled.get(line_id, 0) + _count(item.get("quantity"), "fulfilled quantity")
    refunded: dict[int, int] = {}
    for refund in _objects(order.get("refunds"), "refunds"):
        for item in _objects(refund.get("refund_line_items"), "refund_line_items"):
            line_id = _line_of(index, {parse_id(item.get("line_item_id"))}, "refund")
            if line_id is not None:
                refunded[line_id] = refunded.get(line_id, 0) + _count(item.get("quantity"), "refunded quantity")

    lines = tuple(_line_from_rest(item, fulfilled, refunded) for item in items)
    customer = order.get("customer") if isinstance(order.get("customer"), dict) else None
    shipping = _address(order.get("shipping_address"))
    billing = order.get("billing_address") if isinstance(order.get("billing_address"), dict) else {}
    created_at = parse_datetime(order.get("created_at"), "created_at")
    fulfillment_status = order.get("fulfillment_status")
    return OrderData(
        shopify_order_id=_rest_id(order, "Order"),
        name=str(order["name"]),
        email=_email(order.get("email")),
        created_at=created_at,
        updated_at=parse_optional_datetime(order.get("updated_at"), "updated_at") or created_at,
        cancelled_at=parse_optional_datetime(order.get("cancelled_at"), "cancelled_at"),
        currency=_currency(order["currency"]),
        total_price=_rest_money(order, "total_price", "total_price"),
        subtotal_price=_rest_money(order, "subtotal_price", "subtotal_price"),
        total_discounts=(_rest_money(order, "total_discounts", "total_discounts")
                         if order.get("total_discounts") is not None else Decimal("0.00")),
        customer_id=_rest_id(customer, "Customer") if customer and (
            customer.get("id") or customer.get("admin_graphql_api_id")) else None,
        customer_first_name=blank_to_none(customer.get("first_name")) if customer else None,
        customer_last_name=blank_to_none(customer.get("last_name")) if customer else None,
        shipping_address=shipping,
        shipping_country_code=(shipping or {}).get("country_code") or _country(billing.get("country_code")),
        discount_codes=tuple(str(d["code"]).strip() for d in order.get("discount_codes") or ()
                             if isinstance(d, dict) and blank_to_none(d.get("code"))),
        tags=split_tags(order.get("tags")),
        financial_status=(order.get("financial_status") or "").lower() or None,
        fulfillment_status=_REST_FULFILLMENT.get(fulfillment_status, str(fulfillment_status).lower()),
        lines=lines,
        fulfillments=parcels.from_rest_order(order["fulfillments"]) if "fulfillments" in order else None,
    )


def _line_from_rest(item: dict, fulfilled: dict[int, int], refunded: dict[int, int]) -> OrderLineData:
    line_id = _rest_id(item, "LineItem")
    quantity = _count(item.get("quantity"), "line quantity")
    unit_price = _rest_money(item, "price", "line price")
    allocations = item.get("discount_allocations")
    if allocations is not None:
        discount = sum((_rest_money(a, "amount", "discount allocation") for a in allocations),
                       Decimal("0"))
    else:  # payloads older than discount allocations: the line-level total discount only
        discount = (_rest_money(item, "total_discount", "total_discount")
                    if item.get("total_discount") is not None else Decimal("0"))
    total = unit_price * quantity - discount
    return OrderLineData(
        line_id=line_id,
        product_id=parse_optional_id(item.get("product_id")),
        variant_id=parse_optional_id(item.get("variant_id")),
        title=str(item.get("title") or item.get("name") or ""),
        variant_title=blank_to_none(item.get("variant_title")),
        sku=blank_to_none(item.get("sku")),
        quantity=quantity,
        unit_price=unit_price,
        discounted_total=total,
        discounted_unit_value=unit_value(total, quantity),
        fulfilled_quantity=fulfilled.get(line_id, 0),
        refunded_quantity=refunded.get(line_id, 0),
        product_tags=None,  # REST order bodies do not carry product tags
        image_url=None,     # nor images
    )


# --- GraphQL shape -----------------------------------------------------------------------------

def _shop_money(bag, what: str, required: bool = True) -> Decimal | None:
    if not isinstance(bag, dict) or not isinstance(bag.get("shopMoney"), dict):
        if required:
            raise ShopifyDataError(f"{what}: missing shopMoney")
        return None
    return parse_money(bag["shopMoney"].get("amount"), what)


def _connection_nodes(connection) -> list[dict]:
    """Nodes of a connection given as ``{nodes: […]}``, ``{edges: [{node}]}`` or a plain list."""
    if connection is None:
        return []
    if isinstance(connection, list):
        return connection
    if "nodes" in connection:
        return list(connection["nodes"] or ())
    return [edge["node"] for edge in connection.get("edges") or ()]


@_refusing_surprises
def order_from_graphql(node: dict) -> OrderData:
    """Map a GraphQL ``Order`` node (query result or bulk-reassembled) to ``OrderData``."""
    if not isinstance(node, dict):
        raise ShopifyDataError("GraphQL order node is not an object")
    _require(node, ("id", "name", "createdAt", "currencyCode"), "GraphQL")
    customer = node.get("customer") if isinstance(node.get("customer"), dict) else None
    shipping = _address(node.get("shippingAddress"), _GRAPHQL_ADDRESS)
    billing = node.get("billingAddress") if isinstance(node.get("billingAddress"), dict) else {}
    created_at = parse_datetime(node.get("createdAt"), "createdAt")
    discounts = _shop_money(node.get("totalDiscountsSet"), "totalDiscountsSet", required=False)
    return OrderData(
        shopify_order_id=parse_id(node["id"], "Order"),
        name=str(node["name"]),
        email=_email(node.get("email")),
        created_at=created_at,
        updated_at=parse_optional_datetime(node.get("updatedAt"), "updatedAt") or created_at,
        cancelled_at=parse_optional_datetime(node.get("cancelledAt"), "cancelledAt"),
        currency=_currency(node["currencyCode"]),
        total_price=_shop_money(node.get("totalPriceSet"), "totalPriceSet"),
        subtotal_price=_shop_money(node.get("subtotalPriceSet"), "subtotalPriceSet"),
        total_discounts=discounts if discounts is not None else Decimal("0.00"),
        customer_id=parse_optional_id(customer.get("id"), "Customer") if customer else None,
        customer_first_name=blank_to_none(customer.get("firstName")) if customer else None,
        customer_last_name=blank_to_none(customer.get("lastName")) if customer else None,
        shipping_address=shipping,
        shipping_country_code=(shipping or {}).get("country_code") or _country(billing.get("countryCodeV2")),
        discount_codes=tuple(c.strip() for c in node.get("discountCodes") or () if blank_to_none(c)),
        tags=split_tags(node.get("tags")),
        financial_status=(node.get("displayFinancialStatus") or "").lower() or None,
        fulfillment_status=(node.get("displayFulfillmentStatus") or "").lower() or None,
        lines=_distinct_lines(tuple(_line_from_graphql(item) for item in _connection_nodes(node.get("lineItems")))),
        fulfillments=parcels.from_graphql(node["fulfillments"]) if "fulfillments" in node else None,
    )


def _distinct_lines(lines: tuple[OrderLineData, ...]) -> tuple[OrderLineData, ...]:
    """The lines, once none is known by another's id (refused: they would be merged)."""
    ids = [line.line_id for line in lines]
    if len(set(ids)) != len(ids):
        raise ShopifyDataError("two line items of the order share an id")
    return lines


def _line_from_graphql(item: dict) -> OrderLineData:
    quantity = _count(item.get("quantity"), "line quantity")
    unit_price = _shop_money(item.get("originalUnitPriceSet"), "originalUnitPriceSet")
    discount = sum(
        (_shop_money(a.get("allocatedAmountSet"), "allocatedAmountSet")
         for a in item.get("discountAllocations") or ()),
        Decimal("0"),
    )
    total = unit_price * quantity - discount
    product = item.get("product") if isinstance(item.get("product"), dict) else None
    variant = item.get("variant") if isinstance(item.get("variant"), dict) else None
    image = item.get("image") if isinstance(item.get("image"), dict) else None
    unfulfilled = _count(item.get("unfulfilledQuantity"), "unfulfilledQuantity")
    non_fulfillable = _count(item.get("nonFulfillableQuantity"), "nonFulfillableQuantity")
    refundable = item.get("refundableQuantity")
    return OrderLineData(
        line_id=parse_id(item.get("id"), "LineItem"),
        product_id=parse_optional_id(product.get("id"), "Product") if product else None,
        variant_id=parse_optional_id(variant.get("id"), "ProductVariant") if variant else None,
        title=str(item.get("title") or ""),
        variant_title=blank_to_none(item.get("variantTitle")),
        sku=blank_to_none(item.get("sku")),
        quantity=quantity,
        unit_price=unit_price,
        discounted_total=total,
        discounted_unit_value=unit_value(total, quantity),
        fulfilled_quantity=max(0, quantity - unfulfilled - non_fulfillable),
        refunded_quantity=max(0, quantity - _count(refundable, "refundableQuantity")) if refundable is not None else 0,
        product_tags=split_tags(product["tags"]) if product and "tags" in product else None,
        image_url=blank_to_none(image.get("url")) if image else None,
    )


# --- GraphQL node → storage values, for the bulk import ----------------------------------------
#

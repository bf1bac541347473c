"""The initial import's fast path: a bulk-export order node of the plain shape straight to the
values stored for it, skipping the OrderData objects (``mapping.order_from_graphql`` is the full,
authoritative way; anything unusual falls back to it)."""
from __future__ import annotations

import re
from decimal import Decimal
from json import dumps as _dumps

from app.shopify.mapping import _GRAPHQL_ADDRESS, _country
from app.shopify.values import parse_datetime, parse_optional_datetime, split_tags, unit_value

# The import's hot path skips the OrderData objects: ``graphql_order_values`` reads a node of the
# plain shape Shopify sends (gid ids, money strings with at most four places, lists where lists
# belong) straight into the values ``order_batches.order_values`` derives from
# ``order_from_graphql``'s OrderData — the same values, in the same column order. Anything else
# (a missing essential, an odd id or amount, an unexpected type) returns None, and the caller
# maps that node the full way, which stores it or raises exactly as it always did. The test
# ``tests/unit/shopify/test_lean_rows.py`` compares the two paths value for value.

_MAX_ID = 2 ** 63 - 1
_ZERO_DISCOUNTS = Decimal("0.00")
_NO_DISCOUNT = Decimal("0")
# Plain ASCII amounts of at most four places: exactly what parse_money reads, and what the money
# columns take without rounding or refusing, so these need no further check on the way out.
_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,4})?").fullmatch
_ADDRESS_PAIRS = tuple(_GRAPHQL_ADDRESS.items())


class _NotPlain(Exception):
    """The node is not of the plain shape: map it the full way."""


_ID_DIGITS: dict[str, object] = {}


def _plain_id(value, prefix: str) -> int:
    match = _ID_DIGITS.get(prefix)
    if match is None:  # one compiled pattern per gid type: a single C call per id
        match = _ID_DIGITS[prefix] = re.compile(re.escape(prefix) + "([0-9]+)").fullmatch
    found = match(value) if type(value) is str else None
    if found is not None:
        number = int(found[1])
        if 0 < number <= _MAX_ID:
            return number
    raise _NotPlain


# Amounts repeat (prices, shipping, zero discounts): each distinct string is checked and made a
# Decimal once. Keys are the exact strings Shopify sent, so the digits stored are theirs.
_AMOUNTS: dict[str, Decimal] = {}


def _plain_money(bag) -> Decimal:
    amount = bag["shopMoney"]["amount"]
    if type(amount) is not str:
        raise _NotPlain
    value = _AMOUNTS.get(amount)
    if value is None:
        if not _PLAIN_AMOUNT(amount):
            raise _NotPlain
        if len(_AMOUNTS) >= 8192:
            _AMOUNTS.clear()
        value = _AMOUNTS[amount] = Decimal(amount)
    return value


def _plain_text(value):
    """``blank_to_none`` for the common case, inline."""
    if type(value) is str:
        return value.strip() or None
    return value


_JSON_LISTS: dict[tuple, str] = {}
_TAGS: dict = {}


def _tags_json(value) -> str:
    """``_json_list(split_tags(value))``, remembered by the value as sent (a string or a list)."""
    if value is None:
        return "[]"
    key = value if type(value) is str else tuple(value)
    text = _TAGS.get(key)
    if text is None:
        if len(_TAGS) >= 4096:
            _TAGS.clear()
        text = _TAGS[key] = _json_list(split_tags(value))
    return text


def _json_list(values) -> str:
    """``json.dumps(list(values))`` (strings only), remembered: tags repeat from order to order."""
    if not values:
        return "[]"
    key = tuple(values)
    text = _JSON_LISTS.get(key)
    if text is None:
        if len(_JSON_LISTS) >= 4096:
            _JSON_LISTS.clear()
        text = _JSON_LISTS[key] = _dumps(list(key))
    return text


def graphql_order_values(node: dict) -> tuple[tuple, list[tuple]] | None:
    """The storage values of a GraphQL order node of the plain shape, or None for any other node.

    Returns ``(order values, [line values, …])``, equal to
    ``order_batches.order_values(order_from_graphql(node))``; None means "map it the full way".
    """
    try:
        return _graphql_order_values(node)
    except Exception:  # noqa: BLE001 - whatever it is, the full mapping decides (stores or raises)
        return None


def _graphql_order_values(node: dict) -> tuple[tuple, list[tuple]]:
    get = node.get
    name, created, currency = get("name"), get("createdAt"), get("currencyCode")
    if type(name) is not str or not name or type(currency) is not str or not currency:
        raise _NotPlain
    order_id = _plain_id(get("id"), "gid://shopify/Order/")
    created_at = parse_datetime(created, "createdAt")
    updated_at = parse_optional_datetime(get("updatedAt"), "updatedAt") or created_at
    cancelled_at = parse_optional_datetime(get("cancelledAt"), "cancelledAt")
    total_price = _plain_money(get("totalPriceSet"))
    subtotal_price = _plain_money(get("subtotalPriceSet"))
    bag = get("totalDiscountsSet")
    if type(bag) is dict and type(bag.get("shopMoney")) is dict:
        total_discounts = _plain_money(bag)
    elif bag is None:
        total_discounts = _ZERO_DISCOUNTS
    else:
        raise _NotPlain

    email = get("email")
    if type(email) is str:
        email = email.strip()
        email = email.lower().strip().lower() if email else None
    elif email is not None:
        raise _NotPlain
    customer = get("customer")
    customer_id = customer_name = None
    if type(customer) is dict:
        raw_id = customer.get("id")
        customer_id = None if raw_id is None else _plain_id(raw_id, "gid://shopify/Customer/")
        first, last = _plain_text(customer.get("firstName")), _plain_text(customer.get("lastName"))
        if (first is not None and type(first) is not str) or (last is not None and type(last) is not str):
            raise _NotPlain
        customer_name = " ".join([p for p in (first, last) if p]) or None
    elif customer is not None:
        raise _NotPlain

    raw = get("shippingAddress")
    address = None
    if type(raw) is dict:
        address = {ours: (v.strip() or None) if type(v := raw.get(theirs)) is str else v
                   for ours, theirs in _ADDRESS_PAIRS}
        address["country_code"] = _country(address["country_code"])
        if not any(address.values()):
            address = None
    elif raw is not None:
        raise _NotPlain
    billing = get("billingAddress")
    country = address.get("country_code") if address else None
    if not country:
        country = _country(billing.get("countryCodeV2")) if type(billing) is dict else None

    codes = get("discountCodes")
    if codes:
        if type(codes) is not list or any(type(c) is not str for c in codes):
            raise _NotPlain
        codes = [c.strip() for c in codes if c.strip()]
    financial, fulfillment = get("displayFinancialStatus"), get("displayFulfillmentStatus")
    if (financial and type(financial) is not str) or (fulfillment and type(fulfillment) is not str):
        raise _NotPlain

    connection = get("lineItems")
    if type(connection) is not dict or type(connection.get("nodes")) is not list:
        raise _NotPlain
    lines = [_graphql_line_values(item) for item in connection["nodes"]]
    return (
        (order_id, name, email, customer_id, customer_name,
         _dumps(address) if address else None, country, currency.upper(), total_price,
         subtotal_price, total_discounts, _json_list(codes), _tags_json(get("tags")),
         (financial or "").lower() or None, (fulfillment or "").lower() or None,
         created_at, updated_at, cancelled_at),
        lines,
    )


def _graphql_line_values(item: dict) -> tuple:
    get = item.get
    quantity = int(get("quantity") or 0)
    allocations = get("discountAllocations") or ()
    # Bounds that keep every product and sum exact in Decimal's 28 digits (amounts < 10**15).
    if not -1_000_000 < quantity < 1_000_000 or len(allocations) > 1000:
        raise _NotPlain
    unit_price = _plain_money(get("originalUnitPriceSet"))
    discount = _NO_DISCOUNT
    for allocation in allocations:
        discount = discount + _plain_money(allocation["allocatedAmountSet"])
    total = unit_price * quantity - discount
    product, variant, image = get("product"), get("variant"), get("image")
    for value in (product, variant, image):
        if value is not None and type(value) is not dict:
            raise _NotPlain
    product_id = variant_id = None
    if product:
        raw_id = product.get("id")
        product_id = None if raw_id is None else _plain_id(raw_id, "gid://shopify/Product/")
    if variant:
        raw_id = variant.get("id")
        variant_id = None if raw_id is None else _plain_id(raw_id, "gid://shopify/ProductVariant/")
    title, variant_title, sku = get("title"), _plain_text(get("variantTitle")), _plain_text(get("sku"))
    if (title and type(title) is not str) or (variant_title is not None and type(variant_title) is not str):
        raise _NotPlain
    url = _plain_text(image.get("url")) if image else None
    unfulfilled = int(get("unfulfilledQuantity") or 0)
    non_fulfillable = int(get("nonFulfillableQuantity") or 0)
    refundable = get("refundableQuantity")
    return (
        _plain_id(get("id"), "gid://shopify/LineItem/"), product_id, variant_id, title or "",
        variant_title, sku or None,
        _tags_json(product["tags"]) if product and "tags" in product else "[]",
        quantity, unit_price, unit_value(total, quantity),
        max(0, quantity - unfulfilled - non_fulfillable),
        max(0, quantity - int(refundable)) if refundable is not None else 0,
        url or None,
    )

"""The initial import's fast path: a bulk-export order node of the plain shape straight to the
COPY text of the values stored for it, skipping the OrderData objects, Decimals and datetimes
(``mapping.order_from_graphql`` is the full, authoritative way; anything unusual falls back to it)."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from json import dumps as _dumps

from orjson import dumps as _fast_dumps

from app.order_rows import NULL, copy_text
from app.shopify.mapping import _GRAPHQL_ADDRESS, _country
from app.shopify.values import parse_datetime, split_tags, unit_value

# The import's hot path skips the OrderData objects: ``graphql_order_values`` reads a node of the
# plain shape Shopify sends (gid ids, money strings with at most four places, lists where lists
# belong) straight into the values ``order_copy.order_values`` derives from
# ``order_from_graphql``'s OrderData — the same values, in the order ``app.order_rows`` names
# the columns (ORDER_FIELDS, LINE_FIELDS) — written as the fields of a text-format COPY row,
# spelled as ``app.order_rows`` spells them (``copy_text``; NULL as ``\N``). Money goes as the very
# digits Shopify sent (checked to be what numeric(19,4) stores exactly); a Decimal is made only
# for a line whose discounts must be subtracted. Anything else (a missing essential, an odd id or
# amount, an unexpected type) returns None, and the caller maps that node the full way, which
# stores it or raises exactly as it always did. ``tests/unit/shopify/test_lean_rows.py`` reads
# the fields back and compares the two paths value for value.

_MAX_ID = 2 ** 63 - 1
_NO_DISCOUNT = Decimal("0")
# Plain ASCII amounts of at most four places: exactly what parse_money reads, and what the money
# columns take without rounding or refusing, so these need no further check on the way out.
_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,4})?").fullmatch
_ENUM_WORD = re.compile(r"[A-Z][A-Z_]*").fullmatch
_CURRENCY = re.compile(r"[A-Za-z]{3}").fullmatch
_MAX_COUNT = 2 ** 31 - 1
_CANONICAL_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z").fullmatch
_fromisoformat = datetime.fromisoformat


def _optional_text(value: str | None) -> str:
    return NULL if value is None else copy_text(value)


_ADDRESS_PAIRS = tuple(_GRAPHQL_ADDRESS.items())


class _NotPlain(Exception):
    """The node is not of the plain shape: map it the full way."""


_ID_DIGITS: dict[str, object] = {}


def _plain_id(value, prefix: str) -> str:
    """The id's digits (a bigint the way COPY reads it)."""
    match = _ID_DIGITS.get(prefix)
    if match is None:  # one compiled pattern per gid type: a single C call per id
        match = _ID_DIGITS[prefix] = re.compile(re.escape(prefix) + "([0-9]+)").fullmatch
    found = match(value) if type(value) is str else None
    if found is not None:
        digits = found[1]
        # Under 19 digits without a leading zero: a positive bigint, no int() needed.
        if (len(digits) < 19 and digits[0] != "0") or 0 < int(digits) <= _MAX_ID:
            return digits
    raise _NotPlain


def _optional_id(value, prefix: str) -> str:
    return NULL if value is None else _plain_id(value, prefix)


# Product and variant ids repeat from line to line: each distinct gid is read once.
_PRODUCT_IDS: dict[str, str] = {}
_VARIANT_IDS: dict[str, str] = {}


def _repeated_id(value, prefix: str, known: dict) -> str:
    digits = known.get(value) if type(value) is str else None
    if digits is None:
        digits = _optional_id(value, prefix)
        if type(value) is str:
            if len(known) >= 8192:
                known.clear()
            known[value] = digits
    return digits


def _plain_money(bag) -> str:
    """The amount as Shopify sent it, when it is plain (see ``_PLAIN_AMOUNT``)."""
    amount = bag["shopMoney"]["amount"]
    if type(amount) is str and _PLAIN_AMOUNT(amount):
        return amount
    raise _NotPlain


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
    """``json.dumps(list(values))`` (strings only) as COPY text, remembered: tags repeat."""
    if not values:
        return "[]"
    key = tuple(values)
    text = _JSON_LISTS.get(key)
    if text is None:
        if len(_JSON_LISTS) >= 4096:
            _JSON_LISTS.clear()
        text = _JSON_LISTS[key] = copy_text(_dumps(list(key)))
    return text


def graphql_order_values(node: dict) -> tuple[tuple, list[tuple]] | None:
    """The stored values of a GraphQL order node of the plain shape as COPY text fields, or None
    for any other node.

    Returns ``(order fields, [line fields, …])``: ``order_copy.order_values(order_from_graphql
    (node))`` as ``order_copy.copy_fields`` writes it, up to spelling (the same numbers,
    instants and JSON); None means "map it the full way".
    """
    try:
        return _graphql_order_values(node)
    except Exception:  # noqa: BLE001 - whatever it is, the full mapping decides (stores or raises)
        return None


def _datetime_text(value, what: str) -> str:
    """``parse_datetime(value).isoformat()``, up to spelling: Shopify's own "…Z" form as sent
    (PostgreSQL reads it as the same instant) once ``fromisoformat`` has checked its ranges."""
    if type(value) is str and _CANONICAL_UTC(value):
        _fromisoformat(value)
        return value
    return parse_datetime(value, what).isoformat()


def _address_json(address: dict) -> str:
    """``json.dumps(address)`` as the jsonb column reads it; orjson's spelling when every value
    is a string or None (same JSON), json's own for anything odder."""
    for value in address.values():
        if value is not None and type(value) is not str:
            return _dumps(address)
    return _fast_dumps(address).decode()


def _graphql_order_values(node: dict) -> tuple[tuple, list[tuple]]:
    get = node.get
    name, created, currency = get("name"), get("createdAt"), get("currencyCode")
    if type(name) is not str or not name or type(currency) is not str or not _CURRENCY(currency):
        raise _NotPlain
    order_id = _plain_id(get("id"), "gid://shopify/Order/")
    created_at = _datetime_text(created, "createdAt")
    updated = get("updatedAt")
    updated_at = created_at if updated is None or updated == "" else _datetime_text(updated, "updatedAt")
    cancelled = get("cancelledAt")
    cancelled_at = NULL if cancelled is None or cancelled == "" else _datetime_text(cancelled, "cancelledAt")
    total_price = _plain_money(get("totalPriceSet"))
    subtotal_price = _plain_money(get("subtotalPriceSet"))
    bag = get("totalDiscountsSet")
    if type(bag) is dict and type(bag.get("shopMoney")) is dict:
        total_discounts = _plain_money(bag)
    elif bag is None:
        total_discounts = "0.00"
    else:
        raise _NotPlain

    email = get("email")
    if type(email) is str:
        email = email.strip()
        email = copy_text(email.lower().strip().lower()) if email else NULL
    elif email is None:
        email = NULL
    else:
        raise _NotPlain
    customer = get("customer")
    customer_id = customer_name = NULL
    if type(customer) is dict:
        customer_id = _optional_id(customer.get("id"), "gid://shopify/Customer/")
        first, last = _plain_text(customer.get("firstName")), _plain_text(customer.get("lastName"))
        if (first is not None and type(first) is not str) or (last is not None and type(last) is not str):
            raise _NotPlain
        customer_name = copy_text(" ".join([p for p in (first, last) if p])) or NULL
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
    if len({line[0] for line in lines}) != len(lines):
        raise _NotPlain  # two lines known by one id: the full way refuses the order
    fulfillments, known = _parcels_fields(get("fulfillments")) if "fulfillments" in node else (NULL, "f")
    return (
        (order_id, copy_text(name), email, customer_id, customer_name,
         copy_text(_address_json(address)) if address else NULL, _optional_text(country),
         copy_text(currency.upper()), total_price, subtotal_price, total_discounts,
         _json_list(codes), _tags_json(get("tags")),
         _optional_text((financial or "").lower() or None),
         _optional_text((fulfillment or "").lower() or None),
         created_at, updated_at, cancelled_at, fulfillments, known),
        lines,
    )


def _utc_text(value) -> str:
    """``parse_datetime(value).isoformat()`` of Shopify's "…Z" form (checked as _datetime_text)."""
    if type(value) is str and _CANONICAL_UTC(value):
        _fromisoformat(value)
        return value[:-1] + "+00:00"
    raise _NotPlain


def _optional_utc(value) -> str:
    return "null" if value is None else f'"{_utc_text(value)}"'


def _parcels_fields(items) -> tuple[str, str]:
    """``order_copy.parcel_values(parcels.from_graphql(items))`` for the bulk export's parcels
    (dates only, canonical instants): the JSON written directly, the same values."""
    if items is None:
        return "[]", "t"
    if type(items) is not list:
        raise _NotPlain
    rows = []
    for item in items:
        if type(item) is not dict or "fulfillmentLineItems" in item:
            raise _NotPlain
        status = item.get("status")
        if (status or "SUCCESS") != "SUCCESS":
            continue  # shipped nothing
        display = item.get("displayStatus")
        if display is not None and (type(display) is not str or not _ENUM_WORD(display)):
            raise _NotPlain
        created = _utc_text(item.get("createdAt"))
        rows.append((created, f'{{"id": {_plain_id(item.get("id"), "gid://shopify/Fulfillment/")}, '
                              f'"created_at": "{created}", "delivered_at": {_optional_utc(item.get("deliveredAt"))}, '
                              f'"estimated_delivery_at": {_optional_utc(item.get("estimatedDeliveryAt"))}, '
                              f'"status": {chr(34) + display.lower() + chr(34) if display else "null"}, '
                              f'"lines": null}}'))
    rows.sort(key=lambda row: row[0])
    return "[" + ", ".join(text for _created, text in rows) + "]", "t" if len(rows) <= 1 else "f"


def _count(value) -> int:
    """A unit count of the plain shape: a JSON integer a 32-bit column holds (absent: 0)."""
    if value is None:
        return 0
    if type(value) is not int or not 0 <= value <= _MAX_COUNT:
        raise _NotPlain
    return value


def _graphql_line_values(item: dict) -> tuple:
    get = item.get
    quantity = _count(get("quantity"))
    allocations = get("discountAllocations") or ()
    # Bounds that keep every product and sum exact in Decimal's 28 digits (amounts < 10**15).
    if not -1_000_000 < quantity < 1_000_000 or len(allocations) > 1000:
        raise _NotPlain
    unit_price = _plain_money(get("originalUnitPriceSet"))
    if allocations or quantity <= 0:
        discount = _NO_DISCOUNT
        for allocation in allocations:
            discount = discount + Decimal(_plain_money(allocation["allocatedAmountSet"]))
        discounted = str(unit_value(Decimal(unit_price) * quantity - discount, quantity))
    else:  # (unit × quantity) / quantity: the unit price itself, exactly
        discounted = unit_price
    product, variant, image = get("product"), get("variant"), get("image")
    product_id = variant_id = NULL
    if type(product) is dict:
        if product:
            product_id = _repeated_id(product.get("id"), "gid://shopify/Product/", _PRODUCT_IDS)
    elif product is not None:
        raise _NotPlain
    if type(variant) is dict:
        if variant:
            variant_id = _repeated_id(variant.get("id"), "gid://shopify/ProductVariant/",
                                      _VARIANT_IDS)
    elif variant is not None:
        raise _NotPlain
    if image is not None and type(image) is not dict:
        raise _NotPlain
    title, variant_title, sku = get("title"), _plain_text(get("variantTitle")), _plain_text(get("sku"))
    if (title and type(title) is not str) or (variant_title is not None and type(variant_title) is not str):
        raise _NotPlain
    url = _plain_text(image.get("url")) if image else None
    unfulfilled = _count(get("unfulfilledQuantity"))
    non_fulfillable = _count(get("nonFulfillableQuantity"))
    refundable = get("refundableQuantity")
    return (
        _plain_id(get("id"), "gid://shopify/LineItem/"), product_id, variant_id,
        copy_text(title or ""), _optional_text(variant_title), copy_text(sku) if sku else NULL,
        _tags_json(product["tags"]) if product and "tags" in product else "[]",
        str(quantity), unit_price, discounted,
        str(max(0, quantity - unfulfilled - non_fulfillable)),
        str(max(0, quantity - _count(refundable))) if refundable is not None else "0",
        copy_text(url) if url else NULL,
    )

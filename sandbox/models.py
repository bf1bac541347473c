"""Compact in-memory records for the fake Shopify.

Orders are the bulk of the data (a benchmark seeds 100,000), so every record
uses ``__slots__`` and keeps money in integer minor units; everything Shopify
derives (totals, statuses, money bags) is computed on read in ``views.py``.
"""
from __future__ import annotations

PLANS = {
    # plan -> (display name, restore rate points/s, bucket size, shopifyPlus)
    # Restore rates: shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits.
    # Bucket = 20 s of restore (2,000 / 4,000 / 20,000 / 40,000), Shopify's
    # published pairing for the 2024+ limits.
    "basic": ("Basic", 100.0, 2000.0, False),
    "advanced": ("Advanced", 200.0, 4000.0, False),
    "plus": ("Shopify Plus", 1000.0, 20000.0, True),
    "enterprise": ("Shopify Plus", 2000.0, 40000.0, True),
}
# plan -> ShopPlan.publicDisplayName, one of the names its schema description lists ("Advanced,
# ..., Basic, ..., Plus, ..."); the display name above is the REST shop's plan_display_name.
PUBLIC_PLAN_NAMES = {"basic": "Basic", "advanced": "Advanced", "plus": "Plus", "enterprise": "Plus"}


class Slotted:
    """Base giving slotted records keyword construction, equality and repr."""

    __slots__ = ()

    def __init__(self, **kw):
        for name in self.__slots__:
            setattr(self, name, kw.pop(name, None))
        if kw:
            raise TypeError(f"unknown fields for {type(self).__name__}: {sorted(kw)}")

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __repr__(self):
        return f"<{type(self).__name__} {getattr(self, 'id', '')}>"

    def __getstate__(self):
        return {n: getattr(self, n) for n in self.__slots__}

    def __setstate__(self, state):
        for n in self.__slots__:
            setattr(self, n, state.get(n))


class Address(Slotted):
    __slots__ = ("first_name", "last_name", "company", "address1", "address2", "city",
                 "province", "province_code", "zip", "country", "country_code", "phone")


class Customer(Slotted):
    __slots__ = ("id", "first_name", "last_name", "email", "phone", "address", "created_at",
                 "currency")


class Variant(Slotted):
    __slots__ = ("id", "product_id", "title", "sku", "price", "options", "inventory", "grams")


class Product(Slotted):
    __slots__ = ("id", "title", "handle", "vendor", "product_type", "tags", "options",
                 "variants", "created_at", "image_url", "collections", "updated_at")


class Line(Slotted):
    """One order line. ``discount`` is the line's total allocated discount; ``tax`` the line's
    total tax (None = untaxed, as every seeded order is). ``exchange`` is the id of the return's
    exchange line a processed exchange added this line for (None on the order's own lines)."""
    __slots__ = ("id", "variant_id", "product_id", "quantity", "price", "discount",
                 "fulfilled", "tax", "exchange")


class RefundRec(Slotted):
    """A refund: ``lines`` is a list of (line index, quantity, restock type). ``location_id``
    is where RETURN restocks went (refunds made by refundCreate only). ``amount`` is everything
    refunded, ``store_credit`` the part of it paid as store credit (the rest goes back through
    ``transaction_id``); ``status`` is that transaction's status (None: SUCCESS); ``return_id``
    the Shopify return whose processing made it (None for refundCreate and seeded refunds)."""
    __slots__ = ("id", "created_at", "lines", "amount", "note", "transaction_id",
                 "location_id", "return_id", "status", "store_credit")


class GiftCardRec(Slotted):
    """A gift card made by giftCardCreate; money in minor units of the shop currency."""
    __slots__ = ("id", "code", "initial", "balance", "note", "customer_id", "created_at",
                 "search_at", "client_id")


class DraftOrderRec(Slotted):
    """A draft order. ``lines``: dicts {variant_id, quantity, price, discount, discount_input};
    ``discount`` is the order-level applied discount input (or None)."""
    __slots__ = ("id", "number", "status", "email", "note", "tags", "lines", "ship_to",
                 "created_at", "updated_at", "completed_at", "order_id", "search_at",
                 "client_id", "discount")


class Order(Slotted):
    __slots__ = ("id", "number", "created_at", "updated_at", "cancelled_at", "cancel_reason",
                 "customer_id", "email", "currency", "rate", "lines", "discount_code",
                 "discount_pct", "tags", "shipping", "financial", "refunds", "note",
                 "ship_to", "search_at", "search_prev_updated", "gateway", "locale",
                 "fulfillments")


class App(Slotted):
    """An app: one client id and one client secret, whichever shops it is installed on (its
    installations are ``Installation`` records). ``scopes`` are what it asks for unless an install
    names others; ``shop`` is the shop that registered it first; ``installed`` is only read when a
    state file from before installations is loaded (sandbox/apps.py)."""
    __slots__ = ("client_id", "client_secret", "scopes", "shop", "name", "installed",
                 "api_version")


class Installation(Slotted):
    """An app installed on one shop: the scopes the shop granted it, and whether it still is
    (uninstalling revokes its tokens and subscriptions on that shop only)."""
    __slots__ = ("shop", "client_id", "scopes", "installed", "installed_at")


class Token(Slotted):
    __slots__ = ("token", "client_id", "shop", "scopes", "kind", "expires_at",
                 "refresh_token", "refresh_expires_at", "created_at")


class Subscription(Slotted):
    __slots__ = ("id", "shop", "client_id", "topic", "uri", "format", "include_fields",
                 "filter", "created_at", "updated_at", "via_api", "failures", "api_version")


class Delivery(Slotted):
    __slots__ = ("id", "webhook_id", "event_id", "subscription_id", "shop", "topic", "uri",
                 "body", "headers", "attempts", "status", "last_code", "last_error",
                 "triggered_at", "delivered_at", "duplicate")


class BulkOp(Slotted):
    __slots__ = ("id", "shop", "client_id", "query", "status", "type", "created_at",
                 "completed_at", "object_count", "root_object_count", "result", "url",
                 "error_code", "scopes", "file_size")


class Shop(Slotted):
    __slots__ = ("id", "domain", "name", "email", "currency", "plan", "protected_data",
                 "timezone", "products", "variants", "customers", "orders", "order_list",
                 "next_number", "next_id", "faults", "created_at", "issuing")


DEFAULT_FAULTS = {
    "latency_ms": 0,            # added to every Admin API response
    "error_rate": 0.0,          # share of requests answered 502/503/504 with an HTML page
    "timeout_rate": 0.0,        # share of requests that hang for timeout_seconds
    "timeout_seconds": 30.0,    # longer than any sane client timeout
    "duplicate_webhooks": 0.0,  # share of deliveries sent twice (same event id)
    "out_of_order_webhooks": False,  # hold deliveries in pairs and send them reversed
    "search_lag_seconds": None,  # None: use the app-wide default
    # Share of mutations that are applied and whose response is then lost (502 from the edge),
    # so the client sees a failure although the effect exists.
    "drop_response_after_mutation": 0.0,
    # Seconds a keyed (@idempotent) mutation stays "in progress" after it was applied; its
    # answer is lost, and a repeat with the same key meanwhile gets IDEMPOTENCY_CONCURRENT_REQUEST.
    "keyed_in_progress_seconds": 0.0,
}

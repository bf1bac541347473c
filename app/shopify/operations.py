"""Admin API operations, each returning plain values: shop, orders, variants, webhooks.

Page sizes — from Shopify's cost rules (see ``tests/support/shopify_cost.py``): scalars/enums 0,
objects 1, a connection 2 + first × (cost of one node). One order (``OrderFields``) costs 1 + 3
money bags × 2 (MoneyBag + MoneyV2) + customer + shippingAddress + billingAddress = 10, plus its
line-item connection 2 + L × 9 (LineItem 1 + originalUnitPriceSet 2 + discountAllocations 3 +
product 1 + variant 1 + image 1),
plus its parcels' dates (fulfillments(first: 10), a list of objects: 10).
A page of P orders therefore requests 2 + P × (12 + 9L + 10) points. With P=5, L=10 that is 562 —
about half the 1,000-point single-query limit, and under a Standard bucket after one second of refill.
Orders with more than L lines get the rest through ``order_line_items`` (50 per page: 2 + 50 × 9 +
1 = 453). One variant costs 7: itself, selectedOptions, inventoryItem and its first media (a
connection: 2 + 1 × (MediaImage + Image)). ``tests/unit/shopify/test_queries.py`` checks these
figures against the real schema.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterator

from app.domain.order_data import OrderData
from app.shopify import errors as E
from app.shopify import parcels
from app.shopify.client import ShopifyClient
from app.shopify.mapping import order_from_graphql
from app.shopify.values import blank_to_none, parse_id, parse_money

ORDERS_PAGE_SIZE = 5
ORDERS_PAGE_LINE_ITEMS = 10
ORDER_LINE_ITEMS = 50        # first page of lines when fetching one order (cost 462)
LINE_ITEMS_PAGE_SIZE = 50
# An order's parcels with their units: 1 + 10 × (1 + 2 + 20 × 2) = 431.
PARCEL_LINE_ITEMS = 20
# Parcel dates of many orders: 50 × (1 + 10) = 550.
PARCEL_DATES_BATCH = 50
VARIANTS_PAGE_SIZE = 50      # 2 + 50 × 7 + 1 = 353
WEBHOOKS_PAGE_SIZE = 50


def raise_for_user_errors(operation: str, payload: dict | None) -> None:
    """Raise ``UserErrorsError`` when a mutation payload carries ``userErrors``."""
    items = (payload or {}).get("userErrors") or []
    if items:
        raise E.UserErrorsError(operation, [
            E.UserErrorItem(message=str(i.get("message", "")),
                            field=tuple(str(f) for f in (i.get("field") or ())),
                            code=i.get("code"))
            for i in items
        ])


def order_gid(order_id: int | str) -> str:
    """``gid://shopify/Order/<id>`` from an int id or a gid."""
    return f"gid://shopify/Order/{parse_id(order_id, 'Order')}"


# --- shop ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShopInfo:
    """Who the shop is, and the scopes this token was granted."""

    name: str
    myshopify_domain: str
    currency_code: str
    plan_display_name: str | None   # ShopPlan.publicDisplayName, e.g. "Basic", "Plus"
    partner_development: bool
    shopify_plus: bool
    iana_timezone: str | None
    scopes: frozenset[str]
    customer_accounts_version: str | None = None   # CLASSIC or NEW_CUSTOMER_ACCOUNTS


def fetch_shop_info(client: ShopifyClient) -> ShopInfo:
    """Shop name, domain, plan, currency and granted scopes (the connect check)."""
    data = client.run("shop_info")
    shop = data.get("shop") or {}
    plan = shop.get("plan") or {}
    scopes = ((data.get("currentAppInstallation") or {}).get("accessScopes")) or []
    return ShopInfo(
        name=str(shop.get("name") or ""),
        myshopify_domain=str(shop.get("myshopifyDomain") or ""),
        currency_code=str(shop.get("currencyCode") or ""),
        plan_display_name=plan.get("publicDisplayName"),
        partner_development=bool(plan.get("partnerDevelopment")),
        shopify_plus=bool(plan.get("shopifyPlus")),
        iana_timezone=shop.get("ianaTimezone"),
        scopes=frozenset(s["handle"] for s in scopes if s.get("handle")),
        customer_accounts_version=(shop.get("customerAccountsV2") or {}).get("customerAccountsVersion"),
    )


def fetch_gift_card_limit(client: ShopifyClient) -> Decimal | None:
    """The most a gift card made by an app may hold on this shop (shop currency), or None when
    Shopify does not say (it needs the gift card scope)."""
    try:
        data = client.run("gift_card_limit")
    except E.MissingScopeError:
        return None
    amount = (((data.get("giftCardConfiguration") or {}).get("issueLimit")) or {}).get("amount")
    return None if amount in (None, "") else parse_money(amount, "gift card issue limit")


def fetch_primary_locale(client: ShopifyClient) -> str | None:
    """The shop's primary language as Shopify names it (an ISO code such as "fr" or "pt-BR"), or
    None when Shopify does not say (the token lacks read_locales, or no locale is primary)."""
    try:
        data = client.run("shop_locales")
    except E.MissingScopeError:
        return None
    locales = data.get("shopLocales") if isinstance(data, dict) else None
    for locale in locales if isinstance(locales, list) else ():
        if isinstance(locale, dict) and locale.get("primary") is True and isinstance(locale.get("locale"), str):
            return locale["locale"]
    return None


# --- orders --------------------------------------------------------------------------------------

def _complete_line_items(client: ShopifyClient, node: dict) -> dict:
    """Fetch the remaining line-item pages of an order node in place; returns the node."""
    connection = node.get("lineItems") or {}
    nodes = list(connection.get("nodes") or ())
    page = connection.get("pageInfo") or {}
    while page.get("hasNextPage"):
        data = client.run("order_line_items", {
            "id": node["id"], "first": LINE_ITEMS_PAGE_SIZE, "after": page.get("endCursor")})
        more = ((data.get("order") or {}).get("lineItems")) or {}
        nodes.extend(more.get("nodes") or ())
        page = more.get("pageInfo") or {}
    node["lineItems"] = {"nodes": nodes}
    return node


def fetch_order(client: ShopifyClient, order_id: int | str) -> OrderData | None:
    """One order with all its lines, or None when Shopify has no such order (or hides it:
    orders older than 60 days are invisible without ``read_all_orders``)."""
    data = client.run("order", {"id": order_gid(order_id), "lineItemsFirst": ORDER_LINE_ITEMS})
    node = data.get("order")
    if node is None:
        return None
    order = order_from_graphql(_complete_line_items(client, node))
    if order.fulfillments and len(order.fulfillments) > 1:
        # Parcels read by their dates only: which units each carried is one more read.
        detailed = fetch_order_parcels(client, order.shopify_order_id)
        if detailed is not None:
            order = dataclasses.replace(order, fulfillments=parcels.merge(order.fulfillments, detailed))
    return order


def fetch_order_parcels(client: ShopifyClient, order_id: int | str) -> list[dict] | None:
    """The order's parcels with the units of each line they carried (``parcels`` stored form);
    None when Shopify has no such order."""
    data = client.run("order_fulfillments", {"id": order_gid(order_id), "first": parcels.MAX_PARCELS,
                                             "linesFirst": PARCEL_LINE_ITEMS})
    node = data.get("order")
    return None if node is None else parcels.from_graphql(node.get("fulfillments"))


def fetch_parcel_dates(client: ShopifyClient, order_ids: list[int]) -> dict[int, list[dict]]:
    """The parcels (dates only) of up to PARCEL_DATES_BATCH orders, by order id; orders Shopify
    no longer shows are left out."""
    data = client.run("order_fulfillment_dates", {"ids": [order_gid(i) for i in order_ids],
                                                  "first": parcels.MAX_PARCELS})
    found = {}
    for node in data.get("nodes") or ():
        if isinstance(node, dict) and node.get("id"):
            found[parse_id(node["id"], "Order")] = parcels.from_graphql(node.get("fulfillments"))
    return found


def _search_time(value: datetime | str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("use an aware datetime for order filters")
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def orders_search_query(*, created_at_min=None, created_at_max=None,
                        updated_at_min=None, updated_at_max=None) -> str:
    """Shopify search syntax for the date filters, e.g. ``created_at:>='2026-01-01T00:00:00Z'``
    (lower bounds inclusive, upper bounds exclusive)."""
    terms = []
    for field, low, high in (("created_at", created_at_min, created_at_max),
                             ("updated_at", updated_at_min, updated_at_max)):
        if low is not None:
            terms.append(f"{field}:>='{_search_time(low)}'")
        if high is not None:
            terms.append(f"{field}:<'{_search_time(high)}'")
    return " AND ".join(terms)


def iter_orders(client: ShopifyClient, *, created_at_min=None, created_at_max=None,
                updated_at_min=None, updated_at_max=None,
                page_size: int = ORDERS_PAGE_SIZE) -> Iterator[OrderData]:
    """Every order matching the date filters, page by page (cursor pagination), as OrderData.

    Sorted by the filtered field so a resumed sweep sees oldest changes first.
    """
    search = orders_search_query(created_at_min=created_at_min, created_at_max=created_at_max,
                                 updated_at_min=updated_at_min, updated_at_max=updated_at_max)
    sort_key = "UPDATED_AT" if (updated_at_min or updated_at_max) else "CREATED_AT"
    after = None
    while True:
        data = client.run("orders_page", {
            "first": page_size, "after": after, "query": search or None,
            "sortKey": sort_key, "lineItemsFirst": ORDERS_PAGE_LINE_ITEMS})
        connection = data.get("orders") or {}
        for node in connection.get("nodes") or ():
            yield order_from_graphql(_complete_line_items(client, node))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return
        after = page.get("endCursor")


# --- products (exchanges) ------------------------------------------------------------------------

@dataclass(frozen=True)
class VariantData:
    """One variant a customer may exchange to."""

    variant_id: int
    title: str
    sku: str | None
    price: Decimal
    available_for_sale: bool
    inventory_quantity: int | None
    inventory_policy: str | None   # "DENY" or "CONTINUE" (sell when out of stock)
    tracked: bool | None
    options: tuple[tuple[str, str], ...]   # (name, value) pairs, e.g. (("Size", "M"),)
    image_url: str | None = None

    @property
    def in_stock(self) -> bool:
        """Sellable now: Shopify says available, and stock is positive unless not tracked or
        the policy lets it oversell."""
        if not self.available_for_sale:
            return False
        if self.tracked is False or self.inventory_policy == "CONTINUE":
            return True
        return (self.inventory_quantity or 0) > 0


def fetch_product_variants(client: ShopifyClient, product_id: int | str) -> tuple[VariantData, ...]:
    """All variants of a product (empty tuple when the product no longer exists)."""
    gid = f"gid://shopify/Product/{parse_id(product_id, 'Product')}"
    variants: list[VariantData] = []
    after = None
    while True:
        data = client.run("product_variants", {"id": gid, "first": VARIANTS_PAGE_SIZE, "after": after})
        product = data.get("product")
        if product is None:
            return ()
        connection = product.get("variants") or {}
        for v in connection.get("nodes") or ():
            variants.append(VariantData(
                variant_id=parse_id(v["id"], "ProductVariant"),
                title=str(v.get("title") or ""),
                sku=blank_to_none(v.get("sku")),
                price=parse_money(v.get("price"), "variant price"),
                available_for_sale=bool(v.get("availableForSale")),
                inventory_quantity=v.get("inventoryQuantity"),
                inventory_policy=v.get("inventoryPolicy"),
                tracked=(v.get("inventoryItem") or {}).get("tracked"),
                options=tuple((o["name"], o["value"]) for o in v.get("selectedOptions") or ()),
                image_url=_first_image_url(v.get("media")),
            ))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return tuple(variants)
        after = page.get("endCursor")


def _first_image_url(media: dict | None) -> str | None:
    """The URL of a variant's first media when it is an image (a video or 3D model selects no
    ``image``: schema MediaImage.image; the inline fragment leaves other media empty)."""
    nodes = (media or {}).get("nodes") or ()
    image = (nodes[0] or {}).get("image") if nodes else None
    return blank_to_none((image or {}).get("url"))


# --- webhook subscriptions -----------------------------------------------------------------------

@dataclass(frozen=True)
class WebhookSubscriptionData:
    """One of this app's webhook subscriptions on the shop."""

    id: str
    topic: str          # GraphQL enum, e.g. "ORDERS_CREATE"
    uri: str | None
    format: str | None = None


def topic_enum(topic: str) -> str:
    """``orders/create`` → ``ORDERS_CREATE`` (enum names pass through)."""
    return topic.replace("/", "_").upper()


def create_webhook_subscription(client: ShopifyClient, topic: str, uri: str) -> WebhookSubscriptionData:
    """Subscribe ``uri`` to ``topic`` (JSON format). Not retried on ambiguous failures: list the
    subscriptions before creating again (a duplicate means every delivery arrives twice)."""
    data = client.run("webhook_subscription_create", {"topic": topic_enum(topic), "uri": uri})
    payload = data.get("webhookSubscriptionCreate") or {}
    raise_for_user_errors("webhookSubscriptionCreate", payload)
    sub = payload.get("webhookSubscription") or {}
    return WebhookSubscriptionData(id=sub["id"], topic=sub.get("topic") or topic_enum(topic),
                                   uri=uri, format=sub.get("format"))


def list_webhook_subscriptions(client: ShopifyClient) -> list[WebhookSubscriptionData]:
    """Every webhook subscription this app has on the shop."""
    found: list[WebhookSubscriptionData] = []
    after = None
    while True:
        data = client.run("webhook_subscriptions", {"first": WEBHOOKS_PAGE_SIZE, "after": after})
        connection = data.get("webhookSubscriptions") or {}
        for node in connection.get("nodes") or ():
            # uri: the callback address of an HTTP subscription, pubsub://project:topic or the
            # EventBridge ARN otherwise (schema: WebhookSubscription.uri).
            found.append(WebhookSubscriptionData(id=node["id"], topic=node.get("topic") or "",
                                                 uri=node.get("uri") or None,
                                                 format=node.get("format")))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return found
        after = page.get("endCursor")


def delete_webhook_subscription(client: ShopifyClient, subscription_id: str) -> str:
    """Delete one subscription; returns the deleted id."""
    data = client.run("webhook_subscription_delete", {"id": subscription_id})
    payload = data.get("webhookSubscriptionDelete") or {}
    raise_for_user_errors("webhookSubscriptionDelete", payload)
    return payload.get("deletedWebhookSubscriptionId") or subscription_id

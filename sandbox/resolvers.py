"""Root query and mutation resolvers, and the executable schema."""
from __future__ import annotations

import functools
import re

from graphql import GraphQLError, build_schema

from . import (bulk, calc, issuing_api, refunds, returns_api, reverse_deliveries, runtime_rules, search,
               shop_address)
from .models import PLANS, PUBLIC_PLAN_NAMES, Subscription
from .schema_subset import load_served_sdl
from .views import (CustomerView, Ctx, OrderView, ProductView, VariantView, access_denied, connection, gid,
                    paged, parse_gid, require)

SIXTY_DAYS = 60 * 86400
TOPIC_SCOPES = {"ORDERS": "read_orders", "PRODUCTS": "read_products",
                "CUSTOMERS": "read_customers", "REFUNDS": "read_orders",
                "FULFILLMENTS": "read_fulfillments", "ORDER": "read_orders",
                # schema: WebhookSubscriptionTopic (returns and reverse logistics, §6.11)
                "RETURNS": "read_returns", "REVERSE": "read_returns"}
# Topic resources named by more than one word (WEBHOOK enum value -> resource/event).
MULTI_WORD = ("BULK_OPERATIONS_", "ORDER_TRANSACTIONS_", "REVERSE_FULFILLMENT_ORDERS_",
              "REVERSE_DELIVERIES_", "FULFILLMENT_ORDERS_", "FULFILLMENT_EVENTS_",
              "FULFILLMENT_HOLDS_", "DRAFT_ORDERS_")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)


@functools.lru_cache(maxsize=1)
def executable_schema():
    """Build the served schema once per process and attach abstract-type resolvers."""
    schema = build_schema(load_served_sdl())

    def by_typename(value, _info, _type):
        return value.get("__typename") if isinstance(value, dict) else value.typename

    for name in ("Node", "Media", "DisplayableError", "ReverseDeliveryDeliverable", *returns_api.ABSTRACT_TYPES):
        schema.type_map[name].resolve_type = by_typename
    return schema


def topic_name(enum_value: str) -> str:
    """ORDERS_CREATE -> orders/create (first underscore becomes the slash, after a
    multi-word resource such as REVERSE_FULFILLMENT_ORDERS_DISPOSE)."""
    for prefix in MULTI_WORD:
        if enum_value.startswith(prefix):
            return prefix[:-1].lower() + "/" + enum_value[len(prefix):].lower()
    head, _, tail = enum_value.lower().partition("_")
    return f"{head}/{tail}"


def topic_enum(topic: str) -> str:
    """orders/create -> ORDERS_CREATE."""
    return topic.upper().replace("/", "_")


def sub_view(sub: Subscription) -> dict:
    """WebhookSubscription as a dict for the default resolver."""
    return {"__typename": "WebhookSubscription", "id": gid("WebhookSubscription", sub.id),
            "legacyResourceId": str(sub.id), "topic": topic_enum(sub.topic),
            "format": sub.format, "includeFields": list(sub.include_fields or []),
            # Every sandbox subscription is HTTP, whose uri is its callback address
            # (schema: WebhookSubscription.uri).
            "filter": sub.filter, "uri": sub.uri,
            "apiVersion": {"handle": sub.api_version, "displayName": sub.api_version,
                           "supported": True},
            "createdAt": calc.iso(sub.created_at), "updatedAt": calc.iso(sub.updated_at)}


def _order_visible(info, order) -> bool:
    c = info.context
    if "read_all_orders" in c["scopes"]:
        return True
    return order.created_at >= c["now"] - SIXTY_DAYS


class QueryRoot:
    """Root ``QueryRoot`` fields."""

    typename = "QueryRoot"

    def shop(self, info):
        s = info.context["shop"]
        plus = PLANS[s.plan][3]
        return {"id": gid("Shop", s.id), "name": s.name, "email": s.email,
                "contactEmail": s.email, "myshopifyDomain": s.domain,
                "currencyCode": s.currency, "ianaTimezone": s.timezone,
                "plan": {"publicDisplayName": PUBLIC_PLAN_NAMES[s.plan],
                         "partnerDevelopment": False, "shopifyPlus": plus},
                "customerAccountsV2": customer_accounts(s), "shopAddress": shop_address.address(s)}

    def shopLocales(self, info, published=False):
        # Needs read_locales or read_markets_home (shopify.dev, queries/shopLocales). The shop has
        # one locale, its primary one, published (shop_settings.py).
        if not {"read_locales", "read_markets_home"} & set(info.context["scopes"]):
            raise access_denied("shopLocales", "read_locales")
        from .shop_settings import settings
        code = settings(info.context["shop"])["primary_locale"]
        return [{"locale": code, "name": code, "primary": True, "published": True}]

    def currentAppInstallation(self, info):
        tok = info.context["token"]
        return {"id": gid("AppInstallation", abs(hash(tok.client_id)) % 10**10),
                "accessScopes": [{"handle": s, "description": s.replace("_", " ")}
                                 for s in tok.scopes]}

    def order(self, info, id):
        require(info, "read_orders", "order")
        parsed = parse_gid(id)
        if not parsed or parsed[0] != "Order":
            raise GraphQLError(f"Invalid global id '{id}'",
                               extensions={"code": "argumentLiteralsIncompatible"})
        order = info.context["shop"].orders.get(parsed[1])
        if order is None or not _order_visible(info, order):
            return None
        return OrderView(info.context["ctx"], order)

    def orders(self, info, first=None, after=None, query=None, sortKey="PROCESSED_AT",
               reverse=False):
        require(info, "read_orders", "orders")
        c = info.context
        first = c.get("bulk_first") or first
        if first is not None and first > 250 and not c.get("bulk"):
            raise GraphQLError("The maximum page size is 250.",
                               extensions={"code": "BAD_REQUEST"})
        try:
            nodes, cursors, has_next, has_prev = search.list_orders(
                c["shop"], c["now"], "read_all_orders" in c["scopes"], first or 250, after,
                query, sortKey, reverse)
        except (ValueError, search.SearchError) as exc:
            raise GraphQLError(str(exc), extensions={"code": "BAD_REQUEST"}) from exc
        return paged([OrderView(c["ctx"], o) for o in nodes], cursors, has_next, has_prev)

    def products(self, info, first=None, after=None):
        """The shop's products in id order (schema: QueryRoot.products; sortKey ID is its default)."""
        require(info, "read_products", "products")
        if first is None or first > 250:
            raise GraphQLError("The maximum page size is 250." if first else "You must provide one of first or last.",
                               extensions={"code": "BAD_REQUEST"})
        shop = info.context["shop"]
        return connection([ProductView(info.context["ctx"], shop.products[pid]) for pid in sorted(shop.products)],
                          first, after)

    def product(self, info, id):
        require(info, "read_products", "product")
        parsed = parse_gid(id)
        p = info.context["shop"].products.get(parsed[1]) if parsed else None
        return ProductView(info.context["ctx"], p) if p else None

    def node(self, info, id):
        parsed = parse_gid(id)
        if not parsed:
            return None
        kind, num = parsed
        c, shop = info.context, info.context["shop"]
        if kind == "Order":
            return self.order(info, id)
        if kind == "Product":
            return self.product(info, id)
        if kind == "ProductVariant":
            require(info, "read_products", "node")
            v = shop.variants.get(num)
            return VariantView(c["ctx"], v) if v else None
        if kind == "Customer":
            require(info, "read_customers", "node")
            cu = shop.customers.get(num)
            return CustomerView(c["ctx"], cu) if cu else None
        if kind == "BulkOperation":
            return bulk.get_operation(c, id)
        if kind == "WebhookSubscription":
            return self.webhookSubscription(info, id)
        if kind in returns_api.NODE_KINDS:
            return returns_api.node(info, kind, num)
        return None

    def nodes(self, info, ids):
        return returns_api.nodes(info, self, ids)

    def returnableFulfillments(self, info, orderId, first=None, after=None):
        return returns_api.returnable_fulfillments(info, orderId, first, after)

    def returnCalculate(self, info, input):
        return returns_api.return_calculate(info, input)

    def returnReasonDefinitions(self, info, first=None, after=None, handles=None, ids=None):
        return returns_api.return_reason_definitions(info, first, after, handles, ids)

    def giftCardConfiguration(self, info):
        return issuing_api.gift_card_configuration(info)

    def _subs(self, info):
        c = info.context
        return sorted((s for s in c["store"].state["subs"].values()
                       if s.shop == c["shop"].domain and s.client_id == c["token"].client_id),
                      key=lambda s: s.id)

    def webhookSubscriptions(self, info, first=None, after=None, topics=None):
        from .views import connection
        subs = [sub_view(s) for s in self._subs(info)
                if not topics or topic_enum(s.topic) in topics]
        return connection(subs, first, after)

    def webhookSubscription(self, info, id):
        parsed = parse_gid(id)
        for s in self._subs(info):
            if parsed and s.id == parsed[1]:
                return sub_view(s)
        return None

    def giftCards(self, info, first=None, after=None, query=None):
        return issuing_api.gift_cards(info, first, after, query)

    def draftOrders(self, info, first=None, after=None, query=None):
        return issuing_api.draft_orders(info, first, after, query)

    def draftOrder(self, info, id):
        return issuing_api.draft_order(info, id)

    def locations(self, info, first=None, after=None):
        return issuing_api.locations(info, first, after)

    def productVariant(self, info, id):
        return issuing_api.product_variant(info, id)

    def bulkOperations(self, info, first=None, after=None, query=None, sortKey="CREATED_AT",
                       reverse=False):
        return bulk.list_operations(info.context, first, after, query, sortKey, reverse)

    def bulkOperation(self, info, id):
        return bulk.get_operation(info.context, id)


class MutationRoot:
    """Root ``Mutation`` fields."""

    typename = "Mutation"

    def webhookSubscriptionCreate(self, info, topic, webhookSubscription):
        c = info.context
        store, shop, tok = c["store"], c["shop"], c["token"]
        scope = TOPIC_SCOPES.get(topic.split("_", 1)[0])
        if scope and scope not in tok.scopes:
            raise access_denied("webhookSubscriptionCreate", scope)
        refused = runtime_rules.webhook_refusal(store, tok.client_id, topic)
        if refused:
            return {"webhookSubscription": None, "userErrors": [refused]}
        ws = webhookSubscription
        uri = ws.get("uri") or ws.get("callbackUrl")
        if ws.get("uri") and ws.get("callbackUrl"):
            return {"webhookSubscription": None, "userErrors": [
                {"field": ["webhookSubscription"], "message": "Only one of uri or callbackUrl "
                 "may be provided"}]}
        if not uri or not URL_RE.match(uri):
            return {"webhookSubscription": None, "userErrors": [
                {"field": ["webhookSubscription", "callbackUrl"], "message": "Address is invalid"}]}
        name = topic_name(topic)
        with store.lock:
            for s in store.state["subs"].values():
                if (s.shop, s.client_id, s.topic, s.uri) == (shop.domain, tok.client_id, name, uri):
                    return {"webhookSubscription": None, "userErrors": [
                        {"field": ["webhookSubscription", "callbackUrl"],
                         "message": "Address for this topic has already been taken"}]}
            app = store.state["apps"][tok.client_id]
            sub = Subscription(id=store.next_seq(), shop=shop.domain, client_id=tok.client_id,
                               topic=name, uri=uri, format=ws.get("format") or "JSON",
                               include_fields=ws.get("includeFields") or [],
                               filter=ws.get("filter"), created_at=c["now"], updated_at=c["now"],
                               via_api=True, failures=0,
                               api_version=c.get("api_version") or app.api_version)
            store.state["subs"][sub.id] = sub
        return {"webhookSubscription": sub_view(sub), "userErrors": []}

    def webhookSubscriptionDelete(self, info, id):
        c = info.context
        parsed = parse_gid(id)
        with c["store"].lock:
            sub = c["store"].state["subs"].get(parsed[1]) if parsed else None
            if sub is None or sub.client_id != c["token"].client_id or sub.shop != c["shop"].domain:
                return {"deletedWebhookSubscriptionId": None, "userErrors": [
                    {"field": ["id"], "message": "Webhook subscription does not exist"}]}
            del c["store"].state["subs"][sub.id]
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}

    def tagsAdd(self, info, id, tags):
        parsed = parse_gid(id)
        if not parsed or parsed[0] != "Order":
            return {"node": None, "userErrors": [{"field": ["id"], "message": "Invalid id"}]}
        require(info, "write_orders", "tagsAdd")
        c = info.context
        order = c["shop"].orders.get(parsed[1])
        if order is None or not _order_visible(info, order):
            return {"node": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
        too_long = runtime_rules.tag_errors(tags, ["tags"])
        if too_long:
            return {"node": None, "userErrors": too_long}
        merged = list(order.tags) + [t for t in tags if t not in order.tags]
        c["store"].update_order(c["shop"].domain, order.id, tags=merged)
        return {"node": OrderView(c["ctx"], order), "userErrors": []}

    def bulkOperationRunQuery(self, info, query):
        return info.context["store"].bulk.start(info.context, query)

    def bulkOperationCancel(self, info, id):
        return info.context["store"].bulk.cancel(info.context, id)

    def refundCreate(self, info, input):
        return refunds.refund_create(info, input)

    def giftCardCreate(self, info, input):
        return issuing_api.gift_card_create(info, input)

    def draftOrderCreate(self, info, input):
        return issuing_api.draft_order_create(info, input)

    def draftOrderComplete(self, info, id, paymentGatewayId=None, sourceName=None):
        return issuing_api.draft_order_complete(info, id, paymentGatewayId, sourceName)

    def inventoryAdjustQuantities(self, info, input):
        return issuing_api.inventory_adjust(info, input)

    def giftCardSendNotificationToCustomer(self, info, id):
        return issuing_api.gift_card_notify(info, id)

    def returnCreate(self, info, returnInput):
        return returns_api.return_create(info, returnInput)

    def returnRequest(self, info, input):
        return returns_api.return_request(info, input)

    def returnApproveRequest(self, info, input):
        return returns_api.return_approve_request(info, input)

    def returnDeclineRequest(self, info, input):
        return returns_api.return_decline_request(info, input)

    def returnProcess(self, info, input):
        return returns_api.return_process(info, input)

    def returnClose(self, info, id):
        return returns_api.return_close(info, id)

    def returnCancel(self, info, id):
        return returns_api.return_cancel(info, id)

    def removeFromReturn(self, info, returnId, returnLineItems=None, exchangeLineItems=None):
        return returns_api.remove_from_return(info, returnId, returnLineItems, exchangeLineItems)

    def reverseFulfillmentOrderDispose(self, info, dispositionInputs):
        return returns_api.reverse_fulfillment_order_dispose(info, dispositionInputs)

    def reverseDeliveryCreateWithShipping(self, info, reverseFulfillmentOrderId, reverseDeliveryLineItems,
                                          trackingInput=None, labelInput=None, notifyCustomer=True):
        return reverse_deliveries.create_with_shipping(info, reverseFulfillmentOrderId, reverseDeliveryLineItems,
                                                       trackingInput, labelInput, notifyCustomer)


def customer_accounts(shop) -> dict:
    """Shop.customerAccountsV2 from the shop's setting (shop_settings.py)."""
    from .shop_settings import settings
    new = settings(shop)["customer_accounts"] == "new"
    return {"customerAccountsVersion": "NEW_CUSTOMER_ACCOUNTS" if new else "CLASSIC",
            "loginRequiredAtCheckout": False, "loginLinksVisibleOnStorefrontAndCheckout": new}


# ``return`` is a Python keyword, so QueryRoot.return is attached by name.
setattr(QueryRoot, "return", lambda self, info, id: returns_api.return_(info, id))
ROOT = QueryRoot()
# Every mutation passes Shopify's runtime rules for @idempotent first (runtime_rules.py).
MUTATION_ROOT = runtime_rules.guard(MutationRoot())


def make_context(store, shop, token, now, api_version=None, **extra) -> dict:
    """The per-request context views read (scopes, clock time, shop, store)."""
    ctx = {"store": store, "shop": shop, "token": token, "scopes": set(token.scopes),
           "now": now, "ctx": Ctx(store, shop), "api_version": api_version}
    ctx.update(extra)
    return ctx

"""Resolver objects for Shopify types.

graphql-core's default resolver reads an attribute of the same name as the
field and, when it is a method, calls it with ``(info, **args)``; so each view
class below simply has one attribute or method per served field.  Access rules
(scopes, protected customer data) live here because they are per-field on
Shopify too.
"""
from __future__ import annotations

import base64
import re
import zlib

from graphql import GraphQLError

from . import calc, issuing

DOCS = "https://shopify.dev/api/usage/access-scopes"


def access_denied(field: str, scope: str) -> GraphQLError:
    """Shopify's ACCESS_DENIED error naming the missing scope."""
    need = f"`{scope}` access scope."
    return GraphQLError(f"Access denied for {field} field. Required access: {need}",
                        extensions={"code": "ACCESS_DENIED", "documentation": DOCS,
                                    "requiredAccess": need})


def require(info, scope: str, field: str) -> None:
    """Raise ACCESS_DENIED unless the token holds ``scope``."""
    if scope not in info.context["scopes"]:
        raise access_denied(field, scope)


def gid(kind: str, num) -> str:
    """Global id ``gid://shopify/Kind/123``."""
    return f"gid://shopify/{kind}/{num}"


def parse_gid(value: str) -> tuple[str, int] | None:
    """(kind, number) from a gid, or None when malformed."""
    parts = str(value or "").split("/")
    if len(parts) != 5 or parts[:3] != ["gid:", "", "shopify"]:
        return None
    try:
        return parts[3], int(parts[4].split("?")[0])
    except ValueError:
        return None


def connection(items: list, first: int | None, after: str | None = None) -> dict:
    """A connection over a small in-memory list, cursor = base64 position."""
    start = 0
    if after:
        try:
            start = int(base64.b64decode(after).decode().split(":")[1]) + 1
        except Exception as exc:
            raise GraphQLError("Invalid cursor", extensions={"code": "BAD_REQUEST"}) from exc
    n = len(items) if first is None else first
    page = items[start:start + n]
    cursors = [base64.b64encode(f"pos:{start + i}".encode()).decode() for i in range(len(page))]
    return paged(page, cursors, start + n < len(items), start > 0)


def paged(nodes, cursors, has_next, has_prev) -> dict:
    """Connection dict from a page of nodes and their cursors."""
    return {"edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
            "nodes": nodes,
            "pageInfo": {"hasNextPage": has_next, "hasPreviousPage": has_prev,
                         "startCursor": cursors[0] if cursors else None,
                         "endCursor": cursors[-1] if cursors else None}}


class Ctx:
    """What views need: shop, currency and whether customer data is protected."""

    def __init__(self, store, shop):
        self.store, self.shop = store, shop
        self.hidden = not shop.protected_data


def bag(ctx: Ctx, order, cents: int) -> dict:
    """MoneyBag in shop and presentment currencies."""
    return {"shopMoney": {"amount": calc.fmt(cents), "currencyCode": ctx.shop.currency},
            "presentmentMoney": {"amount": calc.fmt(calc.present(order, cents)),
                                 "currencyCode": order.currency}}


def address(ctx: Ctx, a, owner_id: int):
    """MailingAddress, or None when protected data is not readable."""
    if a is None or ctx.hidden:
        return None
    return {"id": gid("MailingAddress", owner_id) + "?model_name=Address",
            "firstName": a.first_name, "lastName": a.last_name,
            "name": f"{a.first_name} {a.last_name}", "company": a.company,
            "address1": a.address1, "address2": a.address2, "city": a.city,
            "province": a.province, "provinceCode": a.province_code, "zip": a.zip,
            "country": a.country, "countryCodeV2": a.country_code, "phone": a.phone}


def product_image(p) -> dict | None:
    """A product's picture as an ``Image`` (what line items and variant media show)."""
    if p is None or not p.image_url:
        return None
    return {"id": gid("ProductImage", p.id), "url": p.image_url, "altText": p.title,
            "width": 800, "height": 800}


class CustomerView:
    typename = "Customer"

    def __init__(self, ctx: Ctx, c):
        self.ctx, self.c = ctx, c
        self.id = gid("Customer", c.id)
        self.legacyResourceId = str(c.id)
        hidden = ctx.hidden
        self.firstName = None if hidden else c.first_name
        self.lastName = None if hidden else c.last_name
        self.displayName = "Customer" if hidden else f"{c.first_name} {c.last_name}"
        self.email = None if hidden else c.email
        self.phone = None if hidden else c.phone
        self.defaultEmailAddress = None if hidden else {"emailAddress": c.email}


class InventoryItemView:
    """A variant's inventory item; its level at a location reads the sandbox's stock there."""

    typename = "InventoryItem"

    def __init__(self, ctx: Ctx, v):
        self.ctx, self.v = ctx, v
        self.id, self.tracked, self.sku = gid("InventoryItem", v.id), True, v.sku

    def inventoryLevel(self, info, locationId):
        require(info, "read_inventory", "inventoryLevel")
        parsed = parse_gid(locationId)
        loc = issuing.location(self.ctx.shop, parsed[1]) if parsed and parsed[0] == "Location" else None
        if loc is None:
            return None
        available = issuing.level(self.ctx.shop, self.v, loc["id"])
        return {"id": gid("InventoryLevel", self.v.id * 100 + loc["id"] % 100),
                "quantities": lambda info, names: [
                    {"id": gid("InventoryQuantity", self.v.id * 1000 + i), "name": name,
                     # Only "available" is modelled; the other quantity names read 0.
                     "quantity": available if name == "available" else 0}
                    for i, name in enumerate(names)]}


class VariantView:
    typename = "ProductVariant"

    def __init__(self, ctx: Ctx, v):
        self.ctx, self.v = ctx, v
        self.id = gid("ProductVariant", v.id)
        self.legacyResourceId = str(v.id)
        self.title, self.sku = v.title, v.sku
        self.price = calc.fmt(v.price)
        self.compareAtPrice = None
        self.inventoryQuantity = v.inventory
        self.availableForSale = v.inventory > 0
        # Catalogue variants are stock-tracked and never oversold.
        self.inventoryPolicy = "DENY"
        self.inventoryItem = InventoryItemView(ctx, v)
        p = ctx.shop.products[v.product_id]
        self.displayName = f"{p.title} - {v.title}"
        self.selectedOptions = [{"name": name, "value": val}
                                for (name, _vals), val in zip(p.options, v.options, strict=True)]

    def product(self, info):
        return ProductView(self.ctx, self.ctx.shop.products[self.v.product_id])

    def media(self, info, first=None, after=None):
        """The variant's media (schema: ProductVariant.media): every catalogue variant has its
        product's picture attached, as one image (no videos or 3D models here)."""
        p = self.ctx.shop.products[self.v.product_id]
        image = product_image(p)
        items = [{"__typename": "MediaImage", "id": gid("MediaImage", p.id), "alt": p.title,
                  "mediaContentType": "IMAGE", "status": "READY", "image": image}] if image else []
        return connection(items, first, after)


class ProductView:
    typename = "Product"

    def __init__(self, ctx: Ctx, p):
        self.ctx, self.p = ctx, p
        self.id = gid("Product", p.id)
        self.legacyResourceId = str(p.id)
        self.title, self.handle, self.vendor = p.title, p.handle, p.vendor
        self.productType, self.status, self.tags = p.product_type, "ACTIVE", list(p.tags)
        self.createdAt = calc.iso(p.created_at)
        self.updatedAt = calc.iso(p.updated_at or p.created_at)
        self.totalInventory = sum(ctx.shop.variants[v].inventory for v in p.variants)

    def options(self, info, first=None):
        opts = [{"id": gid("ProductOption", self.p.id * 10 + i), "name": name,
                 "position": i + 1, "values": list(values)}
                for i, (name, values) in enumerate(self.p.options)]
        return opts[:first] if first else opts

    def variants(self, info, first=None, after=None):
        vs = [VariantView(self.ctx, self.ctx.shop.variants[v]) for v in self.p.variants]
        return connection(vs, first, after)

    def collections(self, info, first=None, after=None):
        """The collections that include the product (schema: Product.collections)."""
        return connection([collection_node(title) for title in self.p.collections or ()], first, after)


def collection_node(title: str) -> dict:
    """A collection by its title: a stable id and a handle made the way Shopify makes them."""
    handle = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return {"id": gid("Collection", zlib.crc32(title.encode("utf-8"))), "title": title, "handle": handle}


class LineItemView:
    typename = "LineItem"

    def __init__(self, ctx: Ctx, order, idx: int, refunded: int):
        ln = order.lines[idx]
        self.ctx, self.order, self.ln = ctx, order, ln
        shop = ctx.shop
        self._v = shop.variants.get(ln.variant_id)
        self._p = shop.products.get(ln.product_id)
        self.id = gid("LineItem", ln.id)
        self.title = self._p.title if self._p else "Custom item"
        self.variantTitle = self._v.title if self._v else None
        self.name = (f"{self.title} - {self.variantTitle}"
                     if self.variantTitle and self.variantTitle != "Default Title" else self.title)
        self.sku = self._v.sku if self._v else None
        self.vendor = self._p.vendor if self._p else None
        self.quantity = ln.quantity
        self.currentQuantity = ln.quantity - refunded
        self.refundableQuantity = ln.quantity - refunded
        self.unfulfilledQuantity = max(0, self.currentQuantity - ln.fulfilled)
        self.fulfillableQuantity = self.unfulfilledQuantity
        # Units refunded *before* fulfilment can never ship; a unit refunded after it shipped
        # stays fulfilled (as the REST body's fulfillments say), so that
        # quantity = fulfilled + unfulfilled + nonFulfillable holds as on Shopify.
        self.nonFulfillableQuantity = ln.quantity - ln.fulfilled - self.unfulfilledQuantity
        self.requiresShipping = True
        self.originalUnitPriceSet = bag(ctx, order, ln.price)
        self.discountedUnitPriceSet = bag(ctx, order, ln.price)
        self.discountedUnitPriceAfterAllDiscountsSet = bag(
            ctx, order, calc.line_total(ln) // ln.quantity)
        self.originalTotalSet = bag(ctx, order, ln.price * ln.quantity)
        self.totalDiscountSet = bag(ctx, order, ln.discount)
        self.discountAllocations = ([{"allocatedAmountSet": bag(ctx, order, ln.discount)}]
                                    if ln.discount else [])
        self.image = product_image(self._p)

    def product(self, info):
        require(info, "read_products", "product")
        return ProductView(self.ctx, self._p) if self._p else None

    def variant(self, info):
        require(info, "read_products", "variant")
        return VariantView(self.ctx, self._v) if self._v else None


class OrderView:
    typename = "Order"

    def __init__(self, ctx: Ctx, order):
        self.ctx, self.o = ctx, order
        o, hidden = order, ctx.hidden
        t = self._t = calc.totals(o)
        self.id = gid("Order", o.id)
        self.legacyResourceId = str(o.id)
        self.name = f"#{o.number}"
        self.email = None if hidden else o.email
        self.phone = None
        self.note = o.note
        self.createdAt = self.processedAt = calc.iso(o.created_at)
        self.updatedAt = calc.iso(o.updated_at)
        self.cancelledAt = calc.iso(o.cancelled_at)
        self.cancelReason = o.cancel_reason
        self.closed = False
        self.closedAt = None
        self.test = False
        self.displayFinancialStatus = calc.financial_status(o)
        self.displayFulfillmentStatus = calc.fulfillment_status(o)
        self.currencyCode = ctx.shop.currency
        self.presentmentCurrencyCode = o.currency
        self.totalPriceSet = bag(ctx, o, t["total"])
        self.subtotalPriceSet = bag(ctx, o, t["subtotal"])
        self.totalDiscountsSet = bag(ctx, o, t["discounts"])
        self.currentTotalPriceSet = bag(ctx, o, t["current_total"])
        self.currentSubtotalPriceSet = bag(ctx, o, t["subtotal"])
        self.currentTotalDiscountsSet = bag(ctx, o, t["discounts"])
        self.totalRefundedSet = bag(ctx, o, t["refunded"])
        self.discountCode = o.discount_code
        self.discountCodes = [o.discount_code] if o.discount_code else []
        self.tags = list(o.tags)
        self.customerLocale = o.locale
        self.shippingAddress = address(ctx, o.ship_to, o.id * 2)
        self.billingAddress = address(ctx, o.ship_to, o.id * 2 + 1)

    def customer(self, info):
        c = self.ctx.shop.customers.get(self.o.customer_id)
        return CustomerView(self.ctx, c) if c else None

    def _lines(self):
        refunded = calc.refunded_qty(self.o)
        return [LineItemView(self.ctx, self.o, i, refunded[i]) for i in range(len(self.o.lines))]

    def lineItems(self, info, first=None, after=None):
        return connection(self._lines(), first, after)

    def fulfillments(self, info, first=None):
        from .fulfillments import views
        out = views(self.ctx, self.o, self._lines())
        return out[:first] if first else out

    def returns(self, info, first=None, after=None, reverse=False, query=None):
        from .returns_api import order_returns
        return order_returns(info, self, first, after, reverse, query)

    def returnStatus(self, info):
        from .returns import order_return_status
        return order_return_status(self.ctx.shop, self.o)

    def refunds(self, info, first=None):
        out = [RefundView(self.ctx, self.o, r, self._lines()) for r in self.o.refunds]
        return out[:first] if first else out

    def transactions(self, info, first=None):
        txs = transactions(self.ctx, self.o)
        return txs[:first] if first else txs

    def suggestedRefund(self, info, refundLineItems=None, refundShipping=None,
                        shippingAmount=None, suggestFullRefund=None):
        from .refunds import suggested_refund
        return suggested_refund(self, refundLineItems, refundShipping, shippingAmount,
                                suggestFullRefund)


def _tx(ctx, order, num, kind, status, cents, created, parent=None) -> dict:
    # A failed refund names why; the provider's reason is not modelled (GENERIC_ERROR).
    return {"id": gid("OrderTransaction", num), "kind": kind, "status": status,
            "gateway": order.gateway, "test": False, "amountSet": bag(ctx, order, cents),
            "createdAt": calc.iso(created), "processedAt": calc.iso(created),
            "parentTransaction": parent,
            "errorCode": "GENERIC_ERROR" if status == "FAILURE" else None}


def transactions(ctx: Ctx, o) -> list:
    """Payment transactions: the sale/authorization, then refunds pointing at it."""
    total = calc.totals(o)["total"]
    kind = {"AUTHORIZED": "AUTHORIZATION", "VOIDED": "AUTHORIZATION"}.get(o.financial, "SALE")
    status = "PENDING" if o.financial == "PENDING" else "SUCCESS"
    sale = _tx(ctx, o, o.id * 8 + 1, kind, status, total, o.created_at)
    out = [sale]
    if o.financial == "VOIDED":
        out.append(_tx(ctx, o, o.id * 8 + 7, "VOID", "SUCCESS", total, o.cancelled_at, sale))
    for r in o.refunds:
        if r.transaction_id is None:  # items only, or store credit only: no payment moved
            continue
        out.append(_tx(ctx, o, r.transaction_id, "REFUND", r.status or "SUCCESS",
                       r.amount - (r.store_credit or 0), r.created_at, sale))
    return out


class RefundView:
    typename = "Refund"

    def __init__(self, ctx, order, r, lines):
        self.ctx, self.o, self.r, self._lines = ctx, order, r, lines
        self.id, self.legacyResourceId = gid("Refund", r.id), str(r.id)
        self.createdAt, self.note = calc.iso(r.created_at), r.note
        self.totalRefundedSet = bag(ctx, order, r.amount)

    def refundLineItems(self, info, first=None, after=None):
        items = []
        for i, (idx, qty, restock) in enumerate(self.r.lines):
            ln = self.o.lines[idx]
            unit = calc.line_total(ln) // ln.quantity
            items.append({"id": gid("RefundLineItem", self.r.id * 8 + i), "quantity": qty,
                          "restockType": restock, "restocked": restock != "NO_RESTOCK",
                          "lineItem": self._lines[idx], "priceSet": bag(self.ctx, self.o, unit),
                          "subtotalSet": bag(self.ctx, self.o, unit * qty),
                          "totalTaxSet": bag(self.ctx, self.o, 0)})
        return connection(items, first, after)

    def transactions(self, info, first=None, after=None):
        txs = [t for t in transactions(self.ctx, self.o)
               if t["id"] == gid("OrderTransaction", self.r.transaction_id)]
        return connection(txs, first, after)

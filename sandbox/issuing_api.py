"""Resolvers and views for what an app issues: gift cards, draft orders, stock, locations.

The root resolvers in ``resolvers.py`` delegate here. Mutations run under the store lock from
check to write, so two concurrent calls with one idempotency key or one gift card code cannot
both act.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from graphql import GraphQLError

from . import calc, idempotency, issuing, runtime_rules
from .views import (Ctx, OrderView, VariantView, address, connection, gid, parse_gid, require)


def _money(ctx: Ctx, cents: int) -> dict:
    return {"amount": calc.fmt(cents), "currencyCode": ctx.shop.currency}


def _bag(ctx: Ctx, cents: int) -> dict:
    money = _money(ctx, cents)
    return {"shopMoney": money, "presentmentMoney": money}


class GiftCardView:
    """A sandbox gift card as Shopify's GraphQL GiftCard (fields resolved on read)."""

    typename = "GiftCard"

    def __init__(self, ctx: Ctx, card):
        self.ctx, self.card = ctx, card
        self.id = gid("GiftCard", card.id)
        self.lastCharacters = card.code[-4:]
        self.maskedCode = "•••• •••• •••• " + card.code[-4:]
        self.initialValue = _money(ctx, card.initial)
        self.balance = _money(ctx, card.balance)
        self.note = card.note
        self.enabled = True
        self.createdAt = self.updatedAt = calc.iso(card.created_at)
        self.expiresOn = self.deactivatedAt = None


class DraftOrderLineItemView:
    """One line of a sandbox draft order as Shopify's DraftOrderLineItem."""

    typename = "DraftOrderLineItem"

    def __init__(self, ctx: Ctx, draft, idx: int):
        ln = draft.lines[idx]
        self.ctx, self.ln = ctx, ln
        v = ctx.shop.variants.get(ln["variant_id"])
        p = ctx.shop.products.get(ln["product_id"])
        self._v = v
        self.id = gid("DraftOrderLineItem", draft.id * 100 + idx)
        self.title = p.title if p else "Custom item"
        self.variantTitle = v.title if v else None
        self.sku = v.sku if v else None
        self.quantity = ln["quantity"]
        self.originalUnitPriceSet = _bag(ctx, ln["price"])
        self.originalTotalSet = _bag(ctx, ln["price"] * ln["quantity"])
        self.totalDiscountSet = _bag(ctx, ln["discount"])
        self.discountedTotalSet = _bag(ctx, ln["price"] * ln["quantity"] - ln["discount"])
        applied = ln["discount_input"]
        self.appliedDiscount = None if not applied else {
            "title": applied.get("title"), "description": applied.get("description") or "",
            "value": float(applied.get("value") or 0), "valueType": applied.get("valueType"),
            "amountSet": _bag(ctx, ln["discount"])}

    def variant(self, info):
        return VariantView(self.ctx, self._v) if self._v else None


class DraftOrderView:
    """A sandbox draft order as Shopify's DraftOrder (its order once completed)."""

    typename = "DraftOrder"

    def __init__(self, ctx: Ctx, draft):
        self.ctx, self.d = ctx, draft
        t = issuing.draft_totals(draft)
        self.id = gid("DraftOrder", draft.id)
        self.legacyResourceId = str(draft.id)
        self.name = f"#D{draft.number}"
        self.status = draft.status
        self.email = None if ctx.hidden else draft.email
        self.note2 = draft.note
        self.tags = list(draft.tags)
        self.createdAt = calc.iso(draft.created_at)
        self.updatedAt = calc.iso(draft.updated_at)
        self.completedAt = calc.iso(draft.completed_at)
        self.currencyCode = ctx.shop.currency
        self.subtotalPriceSet = _bag(ctx, t["subtotal"])
        self.totalDiscountsSet = _bag(ctx, t["discounts"])
        self.totalPriceSet = _bag(ctx, t["total"])
        self.shippingAddress = address(ctx, draft.ship_to, draft.id * 2)

    def order(self, info):
        order = self.ctx.shop.orders.get(self.d.order_id)
        return OrderView(self.ctx, order) if order else None

    def lineItems(self, info, first=None, after=None):
        items = [DraftOrderLineItemView(self.ctx, self.d, i) for i in range(len(self.d.lines))]
        return connection(items, first, after)


def location_view(loc: dict) -> dict:
    """Location as a dict for the default resolver."""
    return {"__typename": "Location", "id": gid("Location", loc["id"]),
            "legacyResourceId": str(loc["id"]), "name": loc["name"], "isActive": True,
            "isPrimary": loc["primary"], "fulfillsOnlineOrders": loc["primary"]}


# ---- queries ------------------------------------------------------------------------------------

def gift_cards(info, first=None, after=None, query=None):
    """QueryRoot.giftCards: search (lags writes)."""
    require(info, "read_gift_cards", "giftCards")
    c = info.context
    found = issuing.search_gift_cards(c["shop"], c["now"], query)
    return connection([GiftCardView(c["ctx"], g) for g in found], first, after)


def draft_orders(info, first=None, after=None, query=None):
    """QueryRoot.draftOrders: search (lags writes)."""
    require(info, "read_draft_orders", "draftOrders")
    c = info.context
    found = issuing.search_drafts(c["shop"], c["now"], query)
    return connection([DraftOrderView(c["ctx"], d) for d in found], first, after)


def draft_order(info, id):
    """QueryRoot.draftOrder: a direct read (no lag)."""
    require(info, "read_draft_orders", "draftOrder")
    parsed = parse_gid(id)
    c = info.context
    draft = (issuing.state(c["shop"])["drafts"].get(parsed[1])
             if parsed and parsed[0] == "DraftOrder" else None)
    return DraftOrderView(c["ctx"], draft) if draft else None


def locations(info, first=None, after=None):
    """QueryRoot.locations (read_locations since 2024-07)."""
    require(info, "read_locations", "locations")
    return connection([location_view(loc) for loc in issuing.state(info.context["shop"])
                       ["locations"]], first, after)


def product_variant(info, id):
    """QueryRoot.productVariant."""
    require(info, "read_products", "productVariant")
    parsed = parse_gid(id)
    c = info.context
    v = c["shop"].variants.get(parsed[1]) if parsed and parsed[0] == "ProductVariant" else None
    return VariantView(c["ctx"], v) if v else None


# ---- mutations ----------------------------------------------------------------------------------

def gift_card_create(info, input):
    """giftCardCreate: unique code per shop (TAKEN), value > 0, optional customer."""
    require(info, "write_gift_cards", "giftCardCreate")
    if input.get("customerId") is not None:
        # schema: GiftCardCreateInput.customerId needs write_customers (§6.5)
        require(info, "write_customers", "customerId")
    c = info.context
    try:
        value = Decimal(str(input.get("initialValue")))
    except InvalidOperation as exc:
        raise GraphQLError("Invalid Decimal value", extensions={"code": "argumentLiteralsIncompatible"}) from exc
    customer = parse_gid(input.get("customerId")) if input.get("customerId") else None
    with c["store"].lock:
        card, code, errors = issuing.create_gift_card(
            c["store"], c["shop"], c["token"].client_id, c["now"], int(value * 100),
            input.get("code"), input.get("note"), customer[1] if customer else -1
            if input.get("customerId") else None)
    if errors:
        return {"giftCard": None, "giftCardCode": None, "userErrors": errors}
    return {"giftCard": GiftCardView(c["ctx"], card), "giftCardCode": code, "userErrors": []}


def gift_card_configuration(info):
    """QueryRoot.giftCardConfiguration: the shop's issue limit (§6.5); the purchase limit is
    shown equal to it (unverified). Scope read_gift_cards (unverified)."""
    require(info, "read_gift_cards", "giftCardConfiguration")
    from .shop_settings import settings
    ctx = info.context["ctx"]
    limit = _money(ctx, settings(ctx.shop)["gift_card_limit"])
    return {"issueLimit": limit, "purchaseLimit": limit}


def gift_card_notify(info, id):
    """giftCardSendNotificationToCustomer: Shopify emails the card to its customer (the sandbox
    counts it). Scope: write_gift_cards (unverified, §6.5); codes: the schema's enum."""
    require(info, "write_gift_cards", "giftCardSendNotificationToCustomer")
    c = info.context
    parsed = parse_gid(id)
    with c["store"].lock:
        card = (issuing.state(c["shop"])["gift_cards"].get(parsed[1])
                if parsed and parsed[0] == "GiftCard" else None)
        if card is None:
            return {"giftCard": None, "userErrors": [issuing.user_error(
                ["id"], "Gift card not found.", "GIFT_CARD_NOT_FOUND")]}  # unverified wording
        if card.customer_id is None:
            return {"giftCard": None, "userErrors": [issuing.user_error(
                ["id"], "The gift card has no customer.", "CUSTOMER_NOT_FOUND")]}  # unverified
        from .returns import counters
        counters(c["shop"])["gift_card_notifications"] += 1
    return {"giftCard": GiftCardView(c["ctx"], card), "userErrors": []}


def draft_order_create(info, input):
    """draftOrderCreate: variants with applied discounts, tags, email, shipping address."""
    require(info, "write_draft_orders", "draftOrderCreate")
    c = info.context
    with c["store"].lock:
        draft, errors = issuing.create_draft(c["store"], c["shop"], c["token"].client_id,
                                             c["now"], input)
    if errors:
        return {"draftOrder": None, "userErrors": errors}
    return {"draftOrder": DraftOrderView(c["ctx"], draft), "userErrors": []}


def draft_order_complete(info, id, paymentGatewayId=None, sourceName=None):
    """draftOrderComplete: a real order from the draft, stock taken; refused when done."""
    require(info, "write_draft_orders", "draftOrderComplete")
    c = info.context
    store, shop = c["store"], c["shop"]
    parsed = parse_gid(id)
    with store.lock:
        draft = (issuing.state(shop)["drafts"].get(parsed[1])
                 if parsed and parsed[0] == "DraftOrder" else None)
        if draft is None:
            return {"draftOrder": None, "userErrors": [
                issuing.user_error(["id"], "Draft order does not exist")]}
        order, errors = issuing.complete_draft(store, shop, c["now"], draft)
        if not errors:
            draft.search_at = c["now"] + store.search_lag(shop)
    if errors:
        return {"draftOrder": DraftOrderView(c["ctx"], draft), "userErrors": errors}
    store._emit_order(shop, order, "orders/create")
    return {"draftOrder": DraftOrderView(c["ctx"], draft), "userErrors": []}


def inventory_adjust(info, input):
    """inventoryAdjustQuantities with ``@idempotent``: one adjustment group per call."""
    require(info, "write_inventory", "inventoryAdjustQuantities")
    runtime_rules.check_change_from_quantity(info, input.get("changes"))
    c = info.context
    store, shop = c["store"], c["shop"]
    with store.lock:
        try:
            original = idempotency.replay(info, "inventoryAdjustQuantities", input)
        except idempotency.KeyConflict as exc:  # codes of InventoryAdjustQuantitiesUserErrorCode
            return {"inventoryAdjustmentGroup": None,
                    "userErrors": [issuing.user_error(None, exc.message, exc.code)]}
        if original is not None:
            return _group_payload(c, original)
        errors, plan = [], []
        if input.get("name") not in issuing.ADJUSTABLE_NAMES:
            errors.append(issuing.user_error(["input", "name"], "The quantity name must be one "
                                             "of: " + ", ".join(sorted(issuing.ADJUSTABLE_NAMES)),
                                             "INVALID_QUANTITY_NAME"))
        elif input.get("name") != "available":
            errors.append(issuing.user_error(["input", "name"], "The sandbox tracks only "
                                             "available quantities", "INVALID_QUANTITY_NAME"))
        if input.get("reason") not in issuing.REASONS:
            errors.append(issuing.user_error(["input", "reason"], "The specified reason is "
                                             "invalid", "INVALID_REASON"))
        for i, ch in enumerate(input.get("changes") or []):
            item = parse_gid(ch.get("inventoryItemId"))
            variant = shop.variants.get(item[1]) if item and item[0] == "InventoryItem" else None
            loc = parse_gid(ch.get("locationId"))
            loc = issuing.location(shop, loc[1]) if loc and loc[0] == "Location" else None
            if variant is None:
                errors.append(issuing.user_error(["input", "changes", i, "inventoryItemId"],
                                                 "The specified inventory item could not be "
                                                 "found", "INVALID_INVENTORY_ITEM"))
            elif loc is None:
                errors.append(issuing.user_error(["input", "changes", i, "locationId"],
                                                 "The specified location could not be found",
                                                 "INVALID_LOCATION"))
            elif (ch.get("changeFromQuantity") is not None
                  and ch["changeFromQuantity"] != issuing.level(shop, variant, loc["id"])):
                # Compare-and-swap (schema: InventoryChangeInput.changeFromQuantity); the
                # message is unverified, the code is the schema's (§6.12).
                errors.append(issuing.user_error(
                    ["input", "changes", i, "changeFromQuantity"], "The quantity has changed "
                    "since it was read.", "CHANGE_FROM_QUANTITY_STALE"))
            else:
                plan.append((variant, loc, int(ch.get("delta") or 0)))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        group_id = issuing.new_id(shop)
        changes = [{"name": "available", "delta": delta, "item_id": variant.id,
                    "location_id": loc["id"],
                    "after": issuing.add_stock(shop, variant, loc["id"], delta)}
                   for variant, loc, delta in plan]
        issuing.state(shop)["adjustments"][group_id] = {
            "id": group_id, "created_at": c["now"], "reason": input["reason"],
            "reference": input.get("referenceDocumentUri"), "changes": changes}
        idempotency.remember(info, "inventoryAdjustQuantities", input, group_id)
    return _group_payload(c, group_id)


def _group_payload(c, group_id: int) -> dict:
    group = issuing.state(c["shop"])["adjustments"][group_id]
    ctx = c["ctx"]
    changes = []
    for ch in group["changes"]:
        variant = ctx.shop.variants[ch["item_id"]]
        changes.append({"name": ch["name"], "delta": ch["delta"],
                        "quantityAfterChange": ch["after"], "ledgerDocumentUri": None,
                        "item": {"id": gid("InventoryItem", variant.id), "tracked": True,
                                 "sku": variant.sku},
                        "location": location_view(issuing.location(ctx.shop,
                                                                   ch["location_id"]))})
    return {"inventoryAdjustmentGroup": {
        "id": gid("InventoryAdjustmentGroup", group["id"]), "createdAt": calc.iso(group["created_at"]),
        "reason": group["reason"], "referenceDocumentUri": group["reference"],
        "changes": changes}, "userErrors": []}

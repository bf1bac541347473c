"""What an app issues in a shop: locations and stock, gift cards, drafts.

State lives in ``shop.issuing`` (a dict created on first use, so state files written before it
existed still load): also idempotency keys (``idempotency.py``), returns (``returns.py``) and
settings (``shop_settings.py``). Refunds live on the order (``order.refunds``, see
``refunds.py``).

Behaviour follows Shopify:
- Stock: ``variant.inventory`` is the variant's ``inventoryQuantity`` (available, all locations).
  The primary location holds whatever the other locations do not.
- Search (``giftCards(query:)``, ``draftOrders(query:)``) trails writes by ``store.search_lag``.
"""
from __future__ import annotations

import re
import secrets

from . import calc
from .models import Address, DraftOrderRec, GiftCardRec, Line, Order
from .search import parse_query

CODE_RE = re.compile(r"^[A-Za-z0-9]+$")
# Reasons inventoryAdjustQuantities accepts (shopify.dev, InventoryAdjustQuantitiesInput.reason).
REASONS = {"correction", "cycle_count_available", "damaged", "movement_created",
           "movement_updated", "movement_received", "movement_canceled", "other",
           "promotion", "quality_control", "received", "reservation_created",
           "reservation_deleted", "reservation_updated", "restock", "safety_stock", "shrinkage"}
# Quantity names an adjustment may change ("on_hand" moves with them; "committed" cannot).
ADJUSTABLE_NAMES = {"available", "damaged", "quality_control", "reserved", "safety_stock"}


def state(shop) -> dict:
    """The shop's issuing state, created on first use (two locations, nothing issued)."""
    if shop.issuing is None:
        shop.issuing = {
            "gift_cards": {}, "drafts": {}, "keys": {}, "levels": {}, "adjustments": {},
            "refunds": [], "next_draft": 1,
            # The primary id matches the REST shop body's primary_location_id.
            "locations": [{"id": shop.id * 10 + 1, "name": "Main warehouse", "primary": True},
                          {"id": shop.id * 10 + 2, "name": "Returns centre", "primary": False}],
        }
    return shop.issuing


def new_id(shop) -> int:
    """A fresh id from the shop's id counter (the same ~13-digit space as orders)."""
    num = shop.next_id
    shop.next_id += 1
    return num


def user_error(field, message, code=None) -> dict:
    """One userErrors entry in Shopify's shape (``code`` only where the type has one)."""
    out = {"field": [str(f) for f in field] if field is not None else None, "message": message}
    if code is not None:
        out["code"] = code
    return out


# ---- locations and stock ------------------------------------------------------------------------

def location(shop, location_id: int) -> dict | None:
    """The location record with this id, or None."""
    return next((loc for loc in state(shop)["locations"] if loc["id"] == location_id), None)


def primary_location(shop) -> dict:
    """The shop's primary location."""
    return next(loc for loc in state(shop)["locations"] if loc["primary"])


def level(shop, variant, location_id: int) -> int:
    """Available units of ``variant`` at a location."""
    levels = state(shop)["levels"]
    if location(shop, location_id)["primary"]:
        others = sum(q for (vid, _lid), q in levels.items() if vid == variant.id)
        return variant.inventory - others
    return levels.get((variant.id, location_id), 0)


def add_stock(shop, variant, location_id: int, delta: int) -> int:
    """Change available stock at a location; returns the level after the change."""
    if not location(shop, location_id)["primary"]:
        levels = state(shop)["levels"]
        levels[(variant.id, location_id)] = levels.get((variant.id, location_id), 0) + delta
    variant.inventory += delta
    return level(shop, variant, location_id)


# ---- gift cards -------------------------------------------------------------------------------

def create_gift_card(store, shop, client_id: str, now: float, cents: int, code: str | None,
                     note: str | None, customer_id: int | None):
    """Validate and create a gift card; returns (record, code, userErrors)."""
    cards = state(shop)["gift_cards"]
    errors = []
    if cents <= 0:
        errors.append(user_error(["input", "initialValue"], "Initial value must be greater "
                                 "than 0", "GREATER_THAN"))
    if code is not None:
        if len(code) < 8:
            errors.append(user_error(["input", "code"], "Code is too short (minimum is 8 "
                                     "characters)", "TOO_SHORT"))
        elif len(code) > 20:
            errors.append(user_error(["input", "code"], "Code is too long (maximum is 20 "
                                     "characters)", "TOO_LONG"))
        elif not CODE_RE.match(code):
            errors.append(user_error(["input", "code"], "Code can only contain letters and "
                                     "numbers", "INVALID"))
        elif any(c.code.lower() == code.lower() for c in cards.values()):
            # Codes are not case sensitive on Shopify, so uniqueness is not either.
            errors.append(user_error(["input", "code"], "Code has already been taken", "TAKEN"))
    from .shop_settings import settings
    limit = settings(shop)["gift_card_limit"]
    if cents > limit:
        # The shop's issue limit (§6.5; schema: GiftCardErrorCode.GIFT_CARD_LIMIT_EXCEEDED);
        # the wording follows a third party's emulator (unverified).
        errors.append(user_error(["input", "initialValue"], f"can't exceed {calc.fmt(limit)} "
                                 f"{shop.currency}", "GIFT_CARD_LIMIT_EXCEEDED"))
    if customer_id is not None and customer_id not in shop.customers:
        errors.append(user_error(["input", "customerId"], "Customer does not exist",
                                 "CUSTOMER_NOT_FOUND"))
    if errors:
        return None, None, errors
    if code is None:
        code = secrets.token_hex(8)  # Shopify generates 16 characters
    card = GiftCardRec(id=new_id(shop), code=code, initial=cents, balance=cents, note=note,
                       customer_id=customer_id, created_at=now,
                       search_at=now + store.search_lag(shop), client_id=client_id)
    cards[card.id] = card
    return card, code, []


def _visible(record, now: float) -> bool:
    """Indexed yet? A record written less than the search lag ago is not found by search."""
    return record.search_at is None or now >= record.search_at


def _term_matches(term, value_of) -> bool:
    neg, field, op, value = term
    got = value_of(field, op, value)
    return (True if got is None else got) != neg


def search_gift_cards(shop, now: float, query: str | None) -> list:
    """Gift cards the search index returns for ``query`` (default field: code)."""
    groups = parse_query(query)

    def matcher(card):
        def value_of(field, op, value):
            if field == "_text":
                return card.code.lower() == value.lower()
            if field == "id":
                return str(card.id) == value.rsplit("/", 1)[-1]
            if field == "status":
                return value.lower() == "enabled"
            if field == "created_at":
                return {":": card.created_at == value, ">": card.created_at > value,
                        ">=": card.created_at >= value, "<": card.created_at < value,
                        "<=": card.created_at <= value, "=": card.created_at == value}[op]
            return None  # unknown filters are ignored, as on Shopify (``code:`` is one)
        return any(all(_term_matches(t, value_of) for t in g) for g in groups)

    cards = sorted(state(shop)["gift_cards"].values(), key=lambda c: c.id)
    return [c for c in cards if _visible(c, now) and (not groups or matcher(c))]


# ---- draft orders ---------------------------------------------------------------------------------

def _discount_cents(base: int, units: int, applied: dict | None) -> int:
    """Discount of an applied discount input on ``base`` cents (FIXED_AMOUNT is per unit)."""
    if not applied:
        return 0
    value = float(applied.get("value") or 0)
    if applied.get("valueType") == "PERCENTAGE":
        cents = round(base * min(max(value, 0.0), 100.0) / 100)
    else:
        cents = round(value * 100) * units
    return max(0, min(base, cents))


def draft_totals(draft) -> dict:
    """Line and order figures of a draft: subtotal, discounts, total (minor units)."""
    gross = sum(ln["price"] * ln["quantity"] for ln in draft.lines)
    line_disc = sum(ln["discount"] for ln in draft.lines)
    order_disc = _discount_cents(gross - line_disc, 1, draft.discount)
    subtotal = gross - line_disc - order_disc
    return {"line_items": gross, "discounts": line_disc + order_disc, "subtotal": subtotal,
            "total": subtotal}


def create_draft(store, shop, client_id: str, now: float, data: dict):
    """Validate and create a draft order from a DraftOrderInput; returns (draft, userErrors)."""
    lines, errors = [], []
    for i, item in enumerate(data.get("lineItems") or []):
        vid = _gid_num(item.get("variantId"), "ProductVariant")
        variant = shop.variants.get(vid) if vid else None
        qty = int(item.get("quantity") or 0)
        if item.get("variantId") is None:
            errors.append(user_error(["lineItems", i, "variantId"], "Custom items are not "
                                     "supported by the sandbox"))
            continue
        if variant is None:
            errors.append(user_error(["lineItems", i, "variantId"],
                                     f"Product with ID {vid} is no longer available."))
            continue
        if qty < 1:
            errors.append(user_error(["lineItems", i, "quantity"], "Quantity must be greater "
                                     "than or equal to 1"))
            continue
        applied = item.get("appliedDiscount")
        lines.append({"variant_id": variant.id, "product_id": variant.product_id,
                      "quantity": qty, "price": variant.price, "discount_input": applied,
                      "discount": _discount_cents(variant.price * qty, qty, applied)})
    if not data.get("lineItems"):
        errors.append(user_error(["lineItems"], "Add at least 1 product"))
    from .runtime_rules import tag_errors
    errors += tag_errors(data.get("tags"), ["tags"])
    if errors:
        return None, errors
    st = state(shop)
    draft = DraftOrderRec(
        id=new_id(shop), number=st["next_draft"], status="OPEN",
        email=(data.get("email") or "").strip().lower() or None, note=data.get("note"),
        tags=sorted({t.strip() for t in data.get("tags") or [] if t.strip()}), lines=lines,
        ship_to=_address(data.get("shippingAddress")), created_at=now, updated_at=now,
        completed_at=None, order_id=None, search_at=now + store.search_lag(shop),
        client_id=client_id, discount=data.get("appliedDiscount"))
    st["next_draft"] += 1
    st["drafts"][draft.id] = draft
    return draft, []


def complete_draft(store, shop, now: float, draft):
    """Turn an open draft into a paid order, taking stock; returns (order, userErrors)."""
    if draft.status == "COMPLETED":
        return None, [user_error(["id"], "This order has already been completed")]
    for i, ln in enumerate(draft.lines):
        variant = shop.variants.get(ln["variant_id"])
        if variant is None or variant.inventory < ln["quantity"]:
            # Catalogue variants deny overselling, so completion cannot reserve the units.
            title = variant.title if variant else ln["variant_id"]
            return None, [user_error(["lineItems", i], f"{title} is out of stock")]
    oid = new_id(shop)
    totals = draft_totals(draft)
    order_disc = totals["discounts"] - sum(ln["discount"] for ln in draft.lines)
    lines = []
    for idx, ln in enumerate(draft.lines):
        lines.append(Line(id=oid * 16 + idx, variant_id=ln["variant_id"],
                          product_id=ln["product_id"], quantity=ln["quantity"],
                          price=ln["price"], discount=ln["discount"], fulfilled=0))
        shop.variants[ln["variant_id"]].inventory -= ln["quantity"]
    if order_disc and lines:  # an order-level discount lands on the first line's allocation
        lines[0].discount += order_disc
    order = Order(id=oid, number=shop.next_number, created_at=now, updated_at=now,
                  cancelled_at=None, cancel_reason=None, customer_id=None, email=draft.email,
                  currency=shop.currency, rate=1.0, lines=lines, discount_code=None,
                  discount_pct=0, tags=list(draft.tags), shipping=0, financial="PAID",
                  refunds=[], note=draft.note, ship_to=draft.ship_to,
                  search_at=now + store.search_lag(shop), search_prev_updated=None,
                  gateway="manual", locale="en")
    shop.next_number += 1
    store._index(shop, [order])
    draft.status, draft.completed_at, draft.order_id, draft.updated_at = (
        "COMPLETED", now, order.id, now)
    return order, []


def search_drafts(shop, now: float, query: str | None) -> list:
    """Draft orders the search index returns for ``query`` (tag, status, id, name/email)."""
    groups = parse_query(query)

    def matcher(d):
        def value_of(field, op, value):
            if field == "tag":
                return value.lower() in (t.lower() for t in d.tags)
            if field == "status":
                return d.status.lower() == value.lower()
            if field == "id":
                return str(d.id) == value.rsplit("/", 1)[-1]
            if field == "_text":
                return value.lower() in (f"#d{d.number}", (d.email or "").lower())
            return None
        return any(all(_term_matches(t, value_of) for t in g) for g in groups)

    drafts = sorted(state(shop)["drafts"].values(), key=lambda d: d.id)
    return [d for d in drafts if _visible(d, now) and (not groups or matcher(d))]


def _gid_num(value, kind: str) -> int | None:
    parts = str(value or "").split("/")
    if len(parts) == 5 and parts[3] == kind and parts[4].split("?")[0].isdigit():
        return int(parts[4].split("?")[0])
    return None


def _address(data: dict | None):
    """A MailingAddressInput as the sandbox's Address (country name from the seeded list)."""
    if not data:
        return None
    from .seed import COUNTRIES
    code = (data.get("countryCode") or "").upper() or None
    country = next((c[1] for c in COUNTRIES if c[0] == code), code)
    province = next((c[2] for c in COUNTRIES
                     if c[0] == code and c[3] == data.get("provinceCode")), None)
    return Address(first_name=data.get("firstName"), last_name=data.get("lastName"),
                   company=data.get("company"), address1=data.get("address1"),
                   address2=data.get("address2"), city=data.get("city"), province=province,
                   province_code=data.get("provinceCode"), zip=data.get("zip"),
                   country=country, country_code=code, phone=data.get("phone"))


# ---- what the control API and the page show -----------------------------------------------------

def summary(shop) -> dict:
    """Everything apps issued in this shop: counts and one line per record."""
    st = state(shop)
    refunds = []
    for order_id, refund_id in st["refunds"]:  # made through refundCreate, oldest first
        o = shop.orders.get(order_id)
        r = next((r for r in (o.refunds if o else ()) if r.id == refund_id), None)
        if r is not None:
            refunds.append({"order_id": o.id, "order": f"#{o.number}", "refund_id": r.id,
                            "amount": calc.fmt(r.amount), "note": r.note,
                            "created_at": calc.iso(r.created_at)})
    cards = [{"id": c.id, "last_characters": c.code[-4:], "amount": calc.fmt(c.initial),
              "note": c.note, "created_at": calc.iso(c.created_at)}
             for c in sorted(st["gift_cards"].values(), key=lambda c: c.id)]
    drafts = [{"id": d.id, "name": f"#D{d.number}", "status": d.status, "tags": d.tags,
               "total": calc.fmt(draft_totals(d)["total"]), "order_id": d.order_id,
               "order": (f"#{shop.orders[d.order_id].number}" if d.order_id in shop.orders
                         else None)}
              for d in sorted(st["drafts"].values(), key=lambda d: d.id)]
    from .returns_report import issuing_counts  # Shopify returns: counts and return_list
    return {"refunds": len(refunds), "gift_cards": len(cards), "draft_orders": len(drafts),
            "completed_draft_orders": sum(1 for d in drafts if d["status"] == "COMPLETED"),
            "inventory_adjustments": len(st["adjustments"]),
            "idempotency_keys": len(st["keys"]),
            "refund_list": refunds, "gift_card_list": cards, "draft_order_list": drafts,
            **issuing_counts(shop)}

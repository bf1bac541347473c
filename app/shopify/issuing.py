"""Issuing in Shopify: refunds, gift cards (credit notes), exchange draft orders, restocking.

Each write has a way to find its effect afterwards, because a lost response leaves it unknown
whether Shopify acted (DESIGN §5, "Exactly once"):
- ``create_refund`` carries ``@idempotent(key:)`` and so may be retried by the client; the
  refund's note carries a marker that ``find_refund`` looks for in the order's refunds (a direct
  read, no search lag).
- ``create_gift_card`` uses a code derived from the item's key: a second attempt fails with
  ``GiftCardCodeTaken`` (the card exists), and ``find_gift_card`` searches by code (search lags).
- ``create_exchange_draft`` tags the draft; ``find_draft_orders`` searches by tag (search lags).

Money: ``SuggestedRefund.amount`` is the item's value in shop money (what a credit note is worth);
its ``transactions`` are in the order's presentment currency, which is what ``refundCreate`` takes
(and ``create_refund`` names that currency, as Shopify requires when it differs from the shop's).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.shopify import errors as E
from app.shopify.client import ShopifyClient
from app.shopify.operations import order_gid, raise_for_user_errors
from app.shopify.values import blank_to_none, parse_id, parse_money

SEARCH_PAGE_SIZE = 10
LOCATIONS_PAGE_SIZE = 50


class GiftCardCodeTaken(E.UserErrorsError):
    """giftCardCreate refused the code as already taken: a card with this code exists."""


@dataclass(frozen=True)
class RefundTransaction:
    """One refund transaction against a parent (sale/capture) transaction."""

    parent_id: int
    gateway: str
    amount: Decimal
    kind: str = "REFUND"
    currency: str | None = None  # the amount's (presentment) currency, when known


@dataclass(frozen=True)
class SuggestedRefund:
    """Shopify's suggested refund for one line and quantity (shipping excluded)."""

    amount: Decimal
    currency: str
    transactions: tuple[RefundTransaction, ...]
    presentment_currency: str | None = None  # the transactions' currency


@dataclass(frozen=True)
class RefundResult:
    """A refund Shopify recorded (amount in shop money)."""

    refund_id: int
    amount: Decimal
    currency: str
    note: str | None


@dataclass(frozen=True)
class GiftCardResult:
    """A gift card (its full code is never readable after creation: only the last characters)."""

    gift_card_id: int
    last_characters: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class ExchangeResult:
    """An exchange draft order and, once completed, the order it became."""

    draft_order_id: int
    status: str
    order_id: int | None
    order_name: str | None


@dataclass(frozen=True)
class LocationData:
    """One of the shop's locations."""

    location_id: int
    name: str


def _gid(kind: str, value: int | str) -> str:
    return f"gid://shopify/{kind}/{parse_id(value, kind)}"


def _money(money: dict | None, what: str) -> tuple[Decimal, str]:
    if not isinstance(money, dict):
        raise E.ShopifyDataError(f"{what}: missing money")
    return parse_money(money.get("amount"), what), str(money.get("currencyCode") or "")


# --- refunds -------------------------------------------------------------------------------------

def suggest_refund(client: ShopifyClient, order_id: int, line_item_id: int,
                   quantity: int) -> SuggestedRefund | None:
    """Shopify's suggested refund for ``quantity`` units of one line, shipping excluded.

    None when the order is not visible (no such order, or older than 60 days without
    ``read_all_orders``). Only SUGGESTED_REFUND transactions are kept.
    """
    data = client.run("suggested_refund", {"id": order_gid(order_id),
                                            "lineItemId": _gid("LineItem", line_item_id),
                                            "quantity": int(quantity)})
    order = data.get("order")
    if order is None:
        return None
    suggestion = order.get("suggestedRefund") or {}
    amount, currency = _money((suggestion.get("amountSet") or {}).get("shopMoney"),
                              "suggested refund")
    transactions = []
    for tx in suggestion.get("suggestedTransactions") or ():
        parent = tx.get("parentTransaction") or {}
        if tx.get("kind") != "SUGGESTED_REFUND" or not parent.get("id"):
            continue
        tx_amount, tx_currency = _money((tx.get("amountSet") or {}).get("presentmentMoney"),
                                        "suggested transaction")
        transactions.append(RefundTransaction(parent_id=parse_id(parent["id"], "OrderTransaction"),
                                              gateway=str(tx.get("gateway") or ""),
                                              amount=tx_amount, currency=tx_currency or None))
    return SuggestedRefund(amount=amount, currency=currency, transactions=tuple(transactions),
                           presentment_currency=order.get("presentmentCurrencyCode") or currency)


def _refund_result(node: dict) -> RefundResult:
    amount, currency = _money((node.get("totalRefundedSet") or {}).get("shopMoney"), "refund")
    return RefundResult(refund_id=parse_id(node.get("id"), "Refund"), amount=amount,
                        currency=currency, note=node.get("note"))


def create_refund(client: ShopifyClient, **arguments) -> RefundResult:
    """refundCreate for one line (``refund_variables``' arguments), keyed with ``@idempotent``."""
    return send_refund(client, refund_variables(client, **arguments))


def refund_variables(client: ShopifyClient, *, order_id: int, line_item_id: int, quantity: int,
                     transactions: tuple[RefundTransaction, ...], restock: bool,
                     location_id: int | None, note: str, key: str,
                     currency: str | None = None) -> dict:
    """The variables of a keyed refundCreate for one line: built once and stored, because
    Shopify refuses the same key with other variables (IDEMPOTENCY_KEY_PARAMETER_MISMATCH).

    ``restock`` returns the units to ``location_id`` (restockType RETURN), else NO_RESTOCK.
    The currency sent is the transactions' own (presentment) currency when they carry one (as
    ``suggest_refund``'s do), else ``currency``, else the order's presentment currency, read
    first.
    """
    gid = order_gid(order_id)
    # Transaction amounts are in the presentment currency, so theirs wins over a shop-currency
    # ``currency`` a caller may pass (SuggestedRefund.currency is the shop's).
    currency = next((t.currency for t in transactions if t.currency), None) or currency
    if currency is None:
        order = client.run("order_currencies", {"id": gid}).get("order")
        if order is None:
            raise E.UserErrorsError("refundCreate", [E.UserErrorItem(
                "Order does not exist", ("orderId",))])
        currency = order.get("presentmentCurrencyCode") or order.get("currencyCode")
    line = {"lineItemId": _gid("LineItem", line_item_id), "quantity": int(quantity),
            "restockType": "RETURN" if restock else "NO_RESTOCK"}
    if restock and location_id is not None:
        line["locationId"] = _gid("Location", location_id)
    refund_input = {
        "orderId": gid, "note": note, "notify": False, "currency": currency,
        "refundLineItems": [line],
        "transactions": [{"orderId": gid, "parentId": _gid("OrderTransaction", t.parent_id),
                          "gateway": t.gateway, "kind": t.kind, "amount": str(t.amount)}
                         for t in transactions],
    }
    return {"input": refund_input, "key": key}


def send_refund(client: ShopifyClient, variables: dict) -> RefundResult:
    """refundCreate with stored variables (``{"input", "key"}``); raises ``UserErrorsError`` when
    Shopify refuses (e.g. over-refunding)."""
    data = client.run("refund_create", variables, idempotent=True)
    payload = data.get("refundCreate") or {}
    raise_for_user_errors("refundCreate", payload)
    if not payload.get("refund"):
        raise E.ShopifyDataError("refundCreate answered without a refund")
    return _refund_result(payload["refund"])


def find_refund(client: ShopifyClient, order_id: int, marker: str) -> RefundResult | None:
    """The order's refund whose note contains ``marker`` (read from the order: no lag)."""
    order = client.run("order_refunds", {"id": order_gid(order_id)}).get("order")
    for node in (order or {}).get("refunds") or ():
        if marker in (node.get("note") or ""):
            return _refund_result(node)
    return None


# --- gift cards ----------------------------------------------------------------------------------

def _gift_card_result(node: dict) -> GiftCardResult:
    amount, currency = _money(node.get("initialValue"), "gift card")
    return GiftCardResult(gift_card_id=parse_id(node.get("id"), "GiftCard"),
                          last_characters=str(node.get("lastCharacters") or ""),
                          amount=amount, currency=currency)


def create_gift_card(client: ShopifyClient, *, amount: Decimal, code: str, note: str,
                     customer_id: int | None = None) -> GiftCardResult:
    """giftCardCreate with our code. ``GiftCardCodeTaken`` when the code exists already (the
    card was made by an earlier attempt); other refusals raise ``UserErrorsError``."""
    card_input = {"initialValue": str(amount), "code": code, "note": note}
    if customer_id is not None:
        card_input["customerId"] = _gid("Customer", customer_id)
    data = client.run("gift_card_create", {"input": card_input})
    payload = data.get("giftCardCreate") or {}
    try:
        raise_for_user_errors("giftCardCreate", payload)
    except E.UserErrorsError as exc:
        if any(i.code == "TAKEN" and i.field[-1:] == ("code",) for i in exc.items):
            raise GiftCardCodeTaken(exc.operation, exc.items) from None
        raise
    if not payload.get("giftCard"):
        raise E.ShopifyDataError("giftCardCreate answered without a gift card")
    return _gift_card_result(payload["giftCard"])


def find_gift_card(client: ShopifyClient, code: str) -> GiftCardResult | None:
    """The gift card with this code, by search (which trails writes by some seconds).

    The search's default field is the code; a result is accepted only when its last
    characters match, so a looser match on Shopify's side cannot return another card.
    """
    data = client.run("gift_cards_search", {"query": _quoted(code), "first": SEARCH_PAGE_SIZE})
    for node in ((data.get("giftCards") or {}).get("nodes")) or ():
        if str(node.get("lastCharacters") or "").lower() == code[-4:].lower():
            return _gift_card_result(node)
    return None


def _quoted(value: str) -> str:
    """A search term as one quoted phrase (codes and tags may hold ``-`` or ``:``)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- exchanges -----------------------------------------------------------------------------------

_ADDRESS_INPUT = {"first_name": "firstName", "last_name": "lastName", "company": "company",
                  "address1": "address1", "address2": "address2", "city": "city",
                  "province_code": "provinceCode", "country_code": "countryCode", "zip": "zip",
                  "phone": "phone"}


def address_input(address: dict | None) -> dict | None:
    """Our stored address dict (mapping.py's keys) as a MailingAddressInput, or None."""
    if not address:
        return None
    out = {theirs: blank_to_none(address.get(ours)) for ours, theirs in _ADDRESS_INPUT.items()}
    out = {k: v for k, v in out.items() if v is not None}
    if out.get("countryCode"):
        out["countryCode"] = str(out["countryCode"]).upper()
    return out or None


def _exchange_result(node: dict) -> ExchangeResult:
    order = node.get("order") or None
    return ExchangeResult(draft_order_id=parse_id(node.get("id"), "DraftOrder"),
                          status=str(node.get("status") or ""),
                          order_id=parse_id(order["id"], "Order") if order else None,
                          order_name=order.get("name") if order else None)


def create_exchange_draft(client: ShopifyClient, *, variant_id: int, quantity: int,
                          email: str | None, shipping_address: dict | None, tag: str,
                          note: str) -> ExchangeResult:
    """draftOrderCreate: ``quantity`` of the variant at a 100% discount, tagged ``tag``."""
    draft_input = {
        "lineItems": [{"variantId": _gid("ProductVariant", variant_id), "quantity": int(quantity),
                       "appliedDiscount": {"valueType": "PERCENTAGE", "value": 100.0,
                                           "title": "Exchange", "description": note[:255]}}],
        "tags": [tag], "note": note,
    }
    if email:
        draft_input["email"] = email
    shipping = address_input(shipping_address)
    if shipping:
        draft_input["shippingAddress"] = shipping
    data = client.run("draft_order_create", {"input": draft_input})
    payload = data.get("draftOrderCreate") or {}
    raise_for_user_errors("draftOrderCreate", payload)
    if not payload.get("draftOrder"):
        raise E.ShopifyDataError("draftOrderCreate answered without a draft order")
    return _exchange_result(payload["draftOrder"])


def complete_draft_order(client: ShopifyClient, draft_order_id: int) -> ExchangeResult:
    """draftOrderComplete: the order it became (id and name). Refusals (already completed,
    out of stock) raise ``UserErrorsError``."""
    data = client.run("draft_order_complete", {"id": _gid("DraftOrder", draft_order_id)})
    payload = data.get("draftOrderComplete") or {}
    raise_for_user_errors("draftOrderComplete", payload)
    if not payload.get("draftOrder"):
        raise E.ShopifyDataError("draftOrderComplete answered without a draft order")
    return _exchange_result(payload["draftOrder"])


def fetch_draft_order(client: ShopifyClient, draft_order_id: int) -> ExchangeResult | None:
    """One draft order by id (a direct read, no search lag); None when it does not exist."""
    node = client.run("draft_order", {"id": _gid("DraftOrder", draft_order_id)}).get("draftOrder")
    return _exchange_result(node) if node else None


def find_draft_orders(client: ShopifyClient, tag: str) -> list[ExchangeResult]:
    """Draft orders tagged ``tag``, by search (which trails writes by some seconds)."""
    data = client.run("draft_orders_search", {"query": f"tag:{_quoted(tag)}",
                                              "first": SEARCH_PAGE_SIZE})
    return [_exchange_result(n) for n in ((data.get("draftOrders") or {}).get("nodes")) or ()]


# --- stock ---------------------------------------------------------------------------------------

def _variant(client: ShopifyClient, variant_id: int) -> dict | None:
    return client.run("variant_inventory",
                      {"id": _gid("ProductVariant", variant_id)}).get("productVariant")


def variant_available(client: ShopifyClient, variant_id: int) -> int | None:
    """Available units of a variant (all locations); None when untracked or unknown."""
    variant = _variant(client, variant_id)
    if variant is None or not (variant.get("inventoryItem") or {}).get("tracked", True):
        return None
    quantity = variant.get("inventoryQuantity")
    return int(quantity) if isinstance(quantity, int) else None


def list_locations(client: ShopifyClient) -> list[LocationData]:
    """Every location of the shop (needs ``read_locations``)."""
    found, after = [], None
    while True:
        data = client.run("locations", {"first": LOCATIONS_PAGE_SIZE, "after": after})
        connection = data.get("locations") or {}
        found.extend(LocationData(location_id=parse_id(n.get("id"), "Location"),
                                  name=str(n.get("name") or ""))
                     for n in connection.get("nodes") or ())
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return found
        after = page.get("endCursor")


def restock_variables(client: ShopifyClient, *, variant_id: int, location_id: int, quantity: int,
                      key: str) -> dict:
    """The variables of a keyed restock of ``quantity`` available units at a location, built once
    and stored. ``changeFromQuantity`` must be given from 2026-04 (the level it changes from:
    a stale value is refused, CHANGE_FROM_QUANTITY_STALE — docs/reference/shopify-returns.md §6.12),
    so the level is read first."""
    level = client.run("inventory_level", {"id": _gid("ProductVariant", variant_id),
                                           "locationId": _gid("Location", location_id)})
    item = ((level.get("productVariant") or {}).get("inventoryItem")) or {}
    if not item.get("id"):
        raise E.UserErrorsError("inventoryAdjustQuantities", [E.UserErrorItem(
            f"variant {variant_id} not found or has no inventory item", ("variantId",))])
    quantities = (item.get("inventoryLevel") or {}).get("quantities") or ()
    available = next((q.get("quantity") for q in quantities if q.get("name") == "available"), None)
    adjust_input = {"name": "available", "reason": "restock",
                    "changes": [{"delta": int(quantity), "inventoryItemId": item["id"],
                                 "locationId": _gid("Location", location_id),
                                 # Null opts out of the compare-and-swap where the level is unknown.
                                 "changeFromQuantity": available if isinstance(available, int) else None}]}
    return {"input": adjust_input, "key": key}


def send_restock(client: ShopifyClient, variables: dict) -> None:
    """inventoryAdjustQuantities with stored variables, keyed (``@idempotent``)."""
    data = client.run("inventory_adjust", variables, idempotent=True)
    raise_for_user_errors("inventoryAdjustQuantities", data.get("inventoryAdjustQuantities"))

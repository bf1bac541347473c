"""Shopify's Returns API calls: returnable units, returns, their processing, disposal and money
(the values they answer with: app/shopify/return_values.py).

Facts this follows (docs/reference/shopify-returns.md; each with its source there):
- A return line names a fulfillment line item; ``returnableFulfillments`` says how many of each
  can still be returned (units in other returns are not) — §6.8.
- ``returnCreate`` makes an OPEN return and its reverse fulfillment order; a reason is required
  (a ``returnReasonDefinitionId``: the old enum is deprecated) — §6.6.
- ``returnProcess`` confirms quantities, may dispose of the units (dispositions may be left out
  and given later with ``reverseFulfillmentOrderDispose``) and moves money through
  ``financialTransfer.issueRefund`` — §6.1. It does not close the return; ``returnClose`` does.
- ``returnCancel`` works only before any work: "Return is not cancelable." after — §6.7.
- None of these mutations takes ``@idempotent`` (§5): the caller claims each call and reads the
  effect back before sending it again (app/services/shopify_calls.py).
- Scopes: ``write_returns`` for the mutations; ``read_returns`` for the reads (that
  ``returnableFulfillments`` and ``Order.returns`` need it: unverified, §6.15) — a refusal names
  the scope.
"""
from __future__ import annotations

from app.shopify import errors as E
from app.shopify.client import ShopifyClient
from app.shopify.operations import order_gid, raise_for_user_errors
from app.shopify.return_values import (Outcome, Refund, ReturnableUnit, ReturnState, VariantStock, nodes_of,
                                        parse_count, parse_outcome, parse_refund, parse_return)
from app.shopify.values import parse_id, parse_money, parse_optional_id

RETURNABLE_PAGE_SIZE = 5     # fulfillments per page: 2 + 5 × (3 + 2 + 20 × 3) = 327 points
ORDER_RETURNS_PAGE_SIZE = 5  # 2 + 5 × (1 + 2 + 25 × 3) = 392 points
ORDER_RETURNS_PAGES = 4      # the newest 20 returns of an order are searched for ours
REASON_PAGE_SIZE = 50
MAX_RETURN_LINES = 25        # the fragment's page size: one Shopify return holds at most this many


def return_gid(return_id: int) -> str:
    """``gid://shopify/Return/<id>``."""
    return f"gid://shopify/Return/{int(return_id)}"


def gid(kind: str, value: int) -> str:
    """``gid://shopify/<kind>/<id>`` for an id we stored as an int."""
    return f"gid://shopify/{kind}/{int(value)}"


# --- reading -------------------------------------------------------------------------------------

def returnable_units(client: ShopifyClient, order_id: int) -> list[ReturnableUnit]:
    """Every fulfillment line item of the order with units Shopify still lets a return take,
    oldest fulfillment first."""
    found, after = [], None
    while True:
        data = client.run("returnable_fulfillments", {"orderId": order_gid(order_id),
                                                      "first": RETURNABLE_PAGE_SIZE, "after": after})
        connection = data.get("returnableFulfillments") or {}
        for node in nodes_of(connection):
            fulfillment = node.get("fulfillment") or {}
            location = parse_optional_id((fulfillment.get("location") or {}).get("id"), "Location")
            for item in nodes_of(node.get("returnableFulfillmentLineItems")):
                fli = item.get("fulfillmentLineItem") or {}
                found.append(ReturnableUnit(
                    fulfillment_line_item_id=parse_id(fli.get("id"), "FulfillmentLineItem"),
                    line_item_id=parse_id((fli.get("lineItem") or {}).get("id"), "LineItem"),
                    quantity=parse_count(item.get("quantity"), "returnable quantity"),
                    location_id=location, fulfilled_at=str(fulfillment.get("createdAt") or "")))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return sorted(found, key=lambda u: (u.fulfilled_at, u.fulfillment_line_item_id))
        after = page.get("endCursor")


def fetch_return(client: ShopifyClient, return_id: int) -> ReturnState | None:
    """One return as it is now (a direct read); None when Shopify has no such return."""
    node = client.run("return_state", {"id": return_gid(return_id)}).get("return")
    return parse_return(node) if node else None


def order_returns(client: ShopifyClient, order_id: int) -> list[ReturnState]:
    """The order's newest returns (lines only), newest first; [] when the order is not visible."""
    found, after = [], None
    for _ in range(ORDER_RETURNS_PAGES):
        data = client.run("order_returns", {"id": order_gid(order_id),
                                            "first": ORDER_RETURNS_PAGE_SIZE, "after": after})
        order = data.get("order")
        if order is None:
            return found
        connection = order.get("returns") or {}
        found.extend(parse_return(n) for n in nodes_of(connection))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            break
        after = page.get("endCursor")
    return found


def reason_definition_ids(client: ShopifyClient, handles: list[str]) -> dict[str, int]:
    """Shopify's return reason definition id for each handle it knows (deleted ones left out)."""
    data = client.run("return_reason_definitions", {"handles": sorted(set(handles)),
                                                    "first": REASON_PAGE_SIZE})
    out = {}
    for node in nodes_of(data.get("returnReasonDefinitions")):
        if not node.get("deleted"):
            out[str(node.get("handle"))] = parse_id(node.get("id"), "ReturnReasonDefinition")
    return out


def presentment_currency(client: ShopifyClient, order_id: int) -> str | None:
    """The currency the order was paid in; None when the order is not visible."""
    order = client.run("order_currency", {"id": order_gid(order_id)}).get("order")
    return str(order.get("presentmentCurrencyCode") or order.get("currencyCode")) if order else None


def variants_stock(client: ShopifyClient, variant_ids: list[int]) -> dict[int, VariantStock]:
    """Price and stock of several variants in one read; unknown variants are left out."""
    if not variant_ids:
        return {}
    data = client.run("variants_stock", {"ids": [gid("ProductVariant", v) for v in variant_ids]})
    out = {}
    for node in data.get("nodes") or ():
        if not isinstance(node, dict) or not node.get("id"):
            continue
        variant_id = parse_id(node["id"], "ProductVariant")
        tracked = (node.get("inventoryItem") or {}).get("tracked", True)
        # A variant sold past zero (policy CONTINUE) or not tracked never runs out.
        oversells = node.get("inventoryPolicy") == "CONTINUE" or not tracked
        quantity = node.get("inventoryQuantity")
        available = None if oversells or not isinstance(quantity, int) else quantity
        out[variant_id] = VariantStock(variant_id=variant_id,
                                       price=parse_money(node.get("price"), "variant price"),
                                       available=available)
    return out


def suggested_outcome(client: ShopifyClient, return_id: int, lines: list[dict], *,
                      store_credit: bool) -> Outcome:
    """Shopify's suggested money, in one read, for return lines ``{"id": gid, "quantity": n}``:
    to the original payment methods, or as store credit when ``store_credit``."""
    data = client.run("return_outcome", {
        "id": return_gid(return_id), "lines": lines,
        "allocation": "STORE_CREDIT" if store_credit else "ORIGINAL_PAYMENT_METHODS"})
    node = data.get("return")
    if node is None:
        raise E.ShopifyDataError("the return is not visible to this app")
    return parse_outcome(node.get("suggestedFinancialOutcome"))


def refund_status(client: ShopifyClient, refund_id: int) -> Refund | None:
    """A refund as it is now (its transactions' status); None when it is not visible."""
    node = client.run("refund_status", {"id": gid("Refund", refund_id)}).get("node")
    return parse_refund(node) if node else None


# --- writing -------------------------------------------------------------------------------------

def _mutation_return(data: dict, field_name: str, operation: str) -> ReturnState:
    payload = data.get(field_name) or {}
    raise_for_user_errors(operation, payload)
    if not payload.get("return"):
        raise E.ShopifyDataError(f"{operation} answered without a return")
    return parse_return(payload["return"])


def create_return(client: ShopifyClient, variables: dict) -> ReturnState:
    """returnCreate with the stored variables ``{"returnInput": …}``; refusals raise
    ``UserErrorsError`` (nothing was created: Shopify refuses the whole input)."""
    return _mutation_return(client.run("return_create", variables), "returnCreate", "returnCreate")


def process_return(client: ShopifyClient, variables: dict) -> ReturnState:
    """returnProcess with the stored variables ``{"input": …}``."""
    return _mutation_return(client.run("return_process", variables), "returnProcess", "returnProcess")


def remove_from_return(client: ShopifyClient, variables: dict) -> ReturnState:
    """removeFromReturn with the stored variables."""
    return _mutation_return(client.run("remove_from_return", variables), "removeFromReturn",
                            "removeFromReturn")


def dispose(client: ShopifyClient, variables: dict) -> None:
    """reverseFulfillmentOrderDispose with the stored variables ``{"dispositionInputs": […]}``."""
    data = client.run("reverse_fulfillment_order_dispose", variables)
    raise_for_user_errors("reverseFulfillmentOrderDispose", data.get("reverseFulfillmentOrderDispose"))


def _status_mutation(client: ShopifyClient, name: str, field_name: str, return_id: int) -> str:
    payload = client.run(name, {"id": return_gid(return_id)}).get(field_name) or {}
    raise_for_user_errors(field_name, payload)
    return str((payload.get("return") or {}).get("status") or "")


def close_return(client: ShopifyClient, return_id: int) -> str:
    """returnClose; the status Shopify reports after it."""
    return _status_mutation(client, "return_close", "returnClose", return_id)


def cancel_return(client: ShopifyClient, return_id: int) -> str:
    """returnCancel; the status after it. Shopify refuses once the return has been worked on."""
    return _status_mutation(client, "return_cancel", "returnCancel", return_id)


def notify_gift_card(client: ShopifyClient, gift_card_id: int) -> None:
    """Shopify's own email of the gift card to its customer."""
    data = client.run("gift_card_notify", {"id": gid("GiftCard", gift_card_id)})
    raise_for_user_errors("giftCardSendNotificationToCustomer",
                          data.get("giftCardSendNotificationToCustomer"))

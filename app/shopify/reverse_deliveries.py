"""A return's reverse deliveries: the prepaid label and its tracking as Shopify's own record of how
the parcel comes back (`reverseDeliveryCreateWithShipping`, Admin API 2026-04)."""
from __future__ import annotations

from dataclasses import dataclass

from app.shopify.client import ShopifyClient
from app.shopify.operations import raise_for_user_errors
from app.shopify.return_values import nodes_of, parse_count
from app.shopify.returns import gid
from app.shopify.values import parse_id


@dataclass(frozen=True)
class ReverseOrder:
    """One reverse fulfillment order: its lines (id, total quantity) and the tracking numbers of
    the deliveries already on it."""

    id: int
    lines: tuple[tuple[int, int], ...]
    tracking_numbers: tuple[str, ...]


def reverse_orders(client: ShopifyClient, return_id: int) -> list[ReverseOrder] | None:
    """The return's reverse fulfillment orders; None when Shopify has no such return."""
    node = client.run("return_reverse_deliveries", {"id": gid("Return", return_id)}).get("return")
    if not node:
        return None
    out = []
    for rfo in nodes_of(node.get("reverseFulfillmentOrders")):
        lines = tuple((parse_id(line.get("id"), "ReverseFulfillmentOrderLineItem"),
                       parse_count(line.get("totalQuantity"), "reverse line quantity"))
                      for line in nodes_of(rfo.get("lineItems")))
        numbers = tuple(str(((d.get("deliverable") or {}).get("tracking") or {}).get("number") or "")
                        for d in nodes_of(rfo.get("reverseDeliveries")))
        out.append(ReverseOrder(id=parse_id(rfo.get("id"), "ReverseFulfillmentOrder"), lines=lines,
                                tracking_numbers=tuple(n for n in numbers if n)))
    return out


def delivery_variables(order: ReverseOrder, number: str, tracking_url: str | None, label_url: str) -> dict:
    """The mutation's variables: every line with its total quantity, the label's number and URLs;
    Shopify does not email the shopper (the portal and its emails show the label)."""
    tracking = {"number": number}
    if tracking_url:
        tracking["url"] = tracking_url
    return {"reverseFulfillmentOrderId": gid("ReverseFulfillmentOrder", order.id),
            "lines": [{"reverseFulfillmentOrderLineItemId": gid("ReverseFulfillmentOrderLineItem", line_id),
                       "quantity": quantity} for line_id, quantity in order.lines],
            "tracking": tracking, "label": {"fileUrl": label_url}, "notifyCustomer": False}


def create_reverse_delivery(client: ShopifyClient, variables: dict) -> str:
    """Send the stored variables; the new reverse delivery's gid (UserErrorsError when refused)."""
    payload = client.run("reverse_delivery_create", variables).get("reverseDeliveryCreateWithShipping") or {}
    raise_for_user_errors("reverseDeliveryCreateWithShipping", payload)
    return str((payload.get("reverseDelivery") or {}).get("id") or "")

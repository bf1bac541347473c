"""An order's parcels (Shopify fulfillments) as Boomerang stores them: when each shipped, when it
arrived and which units of which line it carried, from every shape Shopify sends.

Stored form (``Order.fulfillments``), oldest first: ``{"id", "created_at", "delivered_at",
"estimated_delivery_at", "status", "lines"}`` — ISO instants in UTC, ``lines`` ``{"<line id>":
units}`` or None when only the dates were read. Only fulfillments that shipped count
(GraphQL ``FulfillmentStatus.SUCCESS``; REST ``status: "success"``).

- GraphQL ``Fulfillment`` (shopify.dev/docs/api/admin-graphql/2026-04/objects/Fulfillment):
  ``createdAt``, ``deliveredAt`` ("the date that this fulfillment was delivered"),
  ``estimatedDeliveryAt``, ``displayStatus`` (FulfillmentDisplayStatus, e.g. DELIVERED).
- REST fulfillment (order bodies' ``fulfillments[]`` and the ``fulfillments/create`` and
  ``fulfillments/update`` webhook bodies: shopify.dev/docs/api/webhooks?reference=toml, topic
  fulfillments/update; shopify.dev/docs/api/admin-rest/2026-04/resources/fulfillment):
  ``created_at``, ``updated_at``, ``shipment_status`` ("delivered", "in_transit", …) and
  ``line_items[{id, quantity}]``. It has no delivery date: a body saying ``delivered`` is taken
  as delivered at its ``updated_at`` (the update that said so) until the Admin API's
  ``deliveredAt`` replaces it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from app.shopify.errors import ShopifyDataError
from app.shopify.values import parse_id, parse_optional_datetime

MAX_PARCELS = 10  # Order.fulfillments(first:) in every document (a list: no further pages)


def strict_id(value, kind: str) -> int:
    """``parse_id`` for ids in webhook bodies, refusing digits that are not ASCII ("١٢")."""
    if isinstance(value, str) and not value.isascii():
        raise ShopifyDataError(f"not a Shopify id: {value!r}")
    return parse_id(value, kind)


def _iso(value, what: str) -> str | None:
    moment = parse_optional_datetime(value, what)
    return moment.isoformat() if moment else None


def _parcel(pid: int, created, delivered, estimated, status, lines) -> dict:
    created_at = _iso(created, "fulfillment createdAt")
    if created_at is None:
        raise ShopifyDataError(f"fulfillment {pid} lacks its creation date")
    return {"id": pid, "created_at": created_at, "delivered_at": _iso(delivered, "deliveredAt"),
            "estimated_delivery_at": _iso(estimated, "estimatedDeliveryAt"),
            "status": str(status).lower() if isinstance(status, str) and status else None,
            "lines": lines}


def from_graphql(items) -> list[dict]:
    """Parcels from GraphQL ``Order.fulfillments`` (dates only, or with ``fulfillmentLineItems``)."""
    parcels = []
    for item in items or ():
        if not isinstance(item, dict) or (item.get("status") or "SUCCESS") != "SUCCESS":
            continue
        lines = None
        connection = item.get("fulfillmentLineItems")
        if isinstance(connection, dict) and not (connection.get("pageInfo") or {}).get("hasNextPage"):
            lines = {}
            for node in connection.get("nodes") or ():
                key = str(parse_id((node.get("lineItem") or {}).get("id"), "LineItem"))
                lines[key] = lines.get(key, 0) + max(0, int(node.get("quantity") or 0))
        parcels.append(_parcel(parse_id(item.get("id"), "Fulfillment"), item.get("createdAt"),
                               item.get("deliveredAt"), item.get("estimatedDeliveryAt"),
                               item.get("displayStatus"), lines))
    return sorted(parcels, key=lambda p: p["created_at"])


def from_rest(item: dict) -> dict | None:
    """One REST fulfillment (an order body's, or a fulfillments/* webhook body) as a parcel;
    None when it shipped nothing (pending, open, cancelled, error, failure)."""
    if not isinstance(item, dict) or (item.get("status") or "").lower() != "success":
        return None
    pid = parcel_id(item)
    lines: dict[str, int] = {}
    for line in item.get("line_items") or ():
        if not isinstance(line, dict):
            raise ShopifyDataError("fulfillment line item is not an object")
        line_gid = line.get("admin_graphql_api_id")
        key = str(strict_id(line_gid, "LineItem") if line_gid else strict_id(line.get("id"), "LineItem"))
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity < 10**6:
            raise ShopifyDataError("fulfillment line item quantity is not a count")
        lines[key] = lines.get(key, 0) + quantity
    shipment = item.get("shipment_status")
    delivered = item.get("updated_at") if shipment == "delivered" else None
    return _parcel(pid, item.get("created_at"), delivered, None,
                   shipment if isinstance(shipment, str) else None, lines)


def parcel_id(body: dict) -> int:
    """A REST fulfillment's id (its gid preferred: it never passed through a float)."""
    gid = body.get("admin_graphql_api_id")
    return strict_id(gid, "Fulfillment") if gid else strict_id(body.get("id"), "Fulfillment")


def from_rest_order(items) -> list[dict] | None:
    """Parcels of a REST order body's ``fulfillments``; None (not known) when one of them cannot
    be read: the order itself is still stored, and the Admin API's copy brings the parcels."""
    try:
        return sorted((p for p in map(from_rest, items or ()) if p is not None),
                      key=lambda p: p["created_at"])
    except (ShopifyDataError, TypeError, ValueError, AttributeError):
        return None


def merge(stored: list[dict] | None, fresh: list[dict], *, complete: bool = True) -> list[dict]:
    """``fresh`` over what is stored, parcel by parcel: units known before stay known when the
    fresh read gives dates only; a delivery once seen stays. With ``complete`` the fresh list is
    every parcel (a parcel no longer in it was cancelled); otherwise it only adds or updates."""
    before = {p["id"]: p for p in stored or ()}
    merged = {} if complete else dict(before)
    for parcel in fresh:
        old = before.get(parcel["id"], {})
        merged[parcel["id"]] = {
            **parcel,
            "lines": parcel["lines"] if parcel["lines"] is not None else old.get("lines"),
            "delivered_at": parcel["delivered_at"] or old.get("delivered_at"),
            "estimated_delivery_at": parcel["estimated_delivery_at"] or old.get("estimated_delivery_at"),
        }
    return sorted(merged.values(), key=lambda p: p["created_at"])


def known(parcels: list[dict] | None) -> bool:
    """Whether every unit's parcel is known: at most one parcel (it carried them all), or the
    units of each."""
    if parcels is None:
        return False
    return len(parcels) <= 1 or all(p.get("lines") is not None for p in parcels)


def starts(parcels: Iterable[dict]) -> list[tuple[datetime, datetime | None, dict | None]]:
    """(shipped, delivered, units by line id) of each stored parcel, for the return window."""
    out = []
    for p in parcels:
        delivered = p.get("delivered_at")
        lines = p.get("lines")
        out.append((datetime.fromisoformat(p["created_at"]),
                    datetime.fromisoformat(delivered) if delivered else None,
                    {int(k): int(v) for k, v in lines.items()} if lines is not None else None))
    return out

"""reverseDeliveryCreateWithShipping: an app's own return label and tracking on a return's reverse
fulfillment order (schema 2026-04: `reverseFulfillmentOrderId: ID!`, `reverseDeliveryLineItems:
[ReverseDeliveryLineItemInput!]!` — an empty array means every line with its total quantity —,
`trackingInput {number, url}`, `labelInput {fileUrl: URL!}`, `notifyCustomer`).

Enforced here: the write_returns scope; the reverse fulfillment order must be one of this shop's
returns (another shop's id is not found); each line must belong to that order, with a quantity of
at least 1 and at most what its earlier deliveries left of its total quantity; a URL must be
http(s). Error wordings and codes are this sandbox's (unverified: Shopify documents the
ReturnUserError shape, not these messages). Deliveries are kept per reverse fulfillment order and
read back through `ReverseFulfillmentOrder.reverseDeliveries`.
"""
from __future__ import annotations

import re

from . import issuing, returns
from .returns import err
from .views import gid, parse_gid, require

URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)


def deliveries_of(shop, rfo_id: int) -> list[dict]:
    """The reverse deliveries made on a reverse fulfillment order, oldest first."""
    return issuing.state(shop).setdefault("reverse_deliveries", {}).setdefault(rfo_id, [])


def _return_of_rfo(shop, value):
    parsed = parse_gid(value)
    if not parsed or parsed[0] != "ReverseFulfillmentOrder":
        return None
    return next((r for r in returns.all_returns(shop).values() if r.rfo_id == parsed[1]), None)


def view(delivery: dict) -> dict:
    """A stored delivery as the schema's ReverseDelivery."""
    deliverable = {"__typename": "ReverseDeliveryShippingDeliverable",
                   "label": {"publicFileUrl": delivery["label_url"]} if delivery["label_url"] else None,
                   "tracking": {"number": delivery["number"], "url": delivery["url"],
                                "carrierName": None} if delivery["number"] or delivery["url"] else None}
    return {"__typename": "ReverseDelivery", "id": gid("ReverseDelivery", delivery["id"]), "deliverable": deliverable}


def create_with_shipping(info, reverseFulfillmentOrderId, reverseDeliveryLineItems, trackingInput=None,
                         labelInput=None, notifyCustomer=True):
    """reverseDeliveryCreateWithShipping, checked as the module says."""
    require(info, "write_returns", "reverseDeliveryCreateWithShipping")
    c = info.context
    shop = c["shop"]
    with c["store"].lock:
        ret = _return_of_rfo(shop, reverseFulfillmentOrderId)
        if ret is None:
            return _refused(err(["reverseFulfillmentOrderId"], "Reverse fulfillment order does not exist.",
                                "NOT_FOUND"))
        if ret.status not in ("OPEN",):
            return _refused(err(["reverseFulfillmentOrderId"], "The reverse fulfillment order is not open.",
                                "INVALID_STATE"))
        existing = deliveries_of(shop, ret.rfo_id)
        used: dict[int, int] = {}
        for delivery in existing:
            for line_id, qty in delivery["lines"]:
                used[line_id] = used.get(line_id, 0) + qty
        by_id = {line.rfo_line_id: line for line in ret.lines}
        wanted = reverseDeliveryLineItems or [
            {"reverseFulfillmentOrderLineItemId": gid("ReverseFulfillmentOrderLineItem", line.rfo_line_id),
             "quantity": line.quantity - used.get(line.rfo_line_id, 0)} for line in ret.lines]
        lines = []
        for index, item in enumerate(wanted):
            parsed = parse_gid(item.get("reverseFulfillmentOrderLineItemId"))
            line = by_id.get(parsed[1]) if parsed and parsed[0] == "ReverseFulfillmentOrderLineItem" else None
            path = ["reverseDeliveryLineItems", str(index)]
            if line is None:
                return _refused(err(path + ["reverseFulfillmentOrderLineItemId"],
                                    "Reverse fulfillment order line item does not exist.", "NOT_FOUND"))
            qty = int(item.get("quantity") or 0)
            room = line.quantity - used.get(line.rfo_line_id, 0)
            if qty < 1 or qty > room:
                return _refused(err(path + ["quantity"], f"Quantity must be between 1 and {room}.", "INVALID"))
            used[line.rfo_line_id] = used.get(line.rfo_line_id, 0) + qty
            lines.append((line.rfo_line_id, qty))
        tracking = trackingInput or {}
        label_url = (labelInput or {}).get("fileUrl")
        for field, value in ((["trackingInput", "url"], tracking.get("url")), (["labelInput", "fileUrl"], label_url)):
            if value is not None and not URL.match(str(value)):
                return _refused(err(field, "URL is invalid.", "INVALID"))
        delivery = {"id": issuing.new_id(shop), "lines": lines, "number": tracking.get("number"),
                    "url": tracking.get("url"), "label_url": label_url, "notify": bool(notifyCustomer)}
        existing.append(delivery)
        return {"reverseDelivery": view(delivery), "userErrors": []}


def _refused(error: dict) -> dict:
    return {"reverseDelivery": None, "userErrors": [error]}

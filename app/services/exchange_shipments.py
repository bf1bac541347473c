"""An exchange's items have shipped: announced once per return (Milestone.EXCHANGE_SHIPPED), with
the parcel's tracking when Shopify gave it, so the shopper is told (app.services.shopper_emails).

How an exchange ships depends on how it was issued (Account.exchange_mode):

- A Shopify exchange is not a new order: Shopify adds a fulfillment order for the exchange items to
  the original order (shopify.dev/docs/apps/build/orders-fulfillment/returns-apps/read-exchanges:
  "Native exchanges do not create a separate new order"). Its item's ``exchange_order_id`` is the
  original order's id; a shipped fulfillment of that order made after the exchange was issued and
  carrying the exchange's variant ships it (the order's first parcels, made before, never do).
- A separate exchange order (the legacy way, ``exchange_order_id`` another order): any shipped
  fulfillment of that order ships its items.

Read from the fulfillments/create and fulfillments/update webhooks (services/orders.store_parcel),
the one place a new parcel and its tracking number arrive together.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, select

from app.domain.vocabulary import ItemResolution, Option
from app.extensions import db
from app.models import Return, ReturnEvent, ReturnItem
from app.services import milestones
from app.services.milestones import Milestone
from app.shopify.shipments import Shipment, shipment_of

SHIPPED_KIND = "exchange_shipped"  # the return's event that marks it announced
# Shopify's clock and ours differ a little: a parcel created this long before the recorded issue
# still counts as the exchange's.
CLOCK_SLACK = timedelta(minutes=5)


def note_shipment(account_id: int, shopify_order_id: int, body: dict) -> list[int]:
    """Announce, in the caller's transaction, each return whose exchange this shipped fulfillment
    (a REST body) carries and whose shipping was not announced before; the ids of those returns."""
    items = db.session.scalars(
        select(ReturnItem).join(Return, Return.id == ReturnItem.return_id)
        .where(ReturnItem.exchange_order_id == shopify_order_id, Return.account_id == account_id,
               ReturnItem.option == Option.EXCHANGE.value, ReturnItem.resolution == ItemResolution.ISSUED.value,
               ~exists().where(ReturnEvent.return_id == Return.id, ReturnEvent.kind == SHIPPED_KIND))
        .order_by(ReturnItem.return_id, ReturnItem.id)).all()
    if not items:
        return []
    shipment = shipment_of(body)
    by_return: dict[int, list[ReturnItem]] = {}
    for item in items:
        if _ships(item, shipment):
            by_return.setdefault(item.return_id, []).append(item)
    for return_id, shipped in by_return.items():
        _announce(db.session.get(Return, return_id), shipped, shipment)
    return list(by_return)


def _ships(item: ReturnItem, shipment: Shipment) -> bool:
    ret = item.return_
    if item.exchange_order_id != ret.shopify_order_id:
        return True  # a separate exchange order holds nothing else
    if item.exchange_variant_id not in shipment.variant_ids:
        return False
    return (shipment.created_at is None or item.issued_at is None
            or shipment.created_at >= item.issued_at - CLOCK_SLACK)


def _announce(ret: Return, items: list[ReturnItem], shipment: Shipment) -> None:
    tracking = f" (tracking {shipment.tracking_number})" if shipment.tracking_number else ""
    ret.add_event(SHIPPED_KIND, f"Exchange shipped{tracking}.", "shopify",
                  data={"item_ids": [i.id for i in items],
                        "customer_message": f"Your exchange has shipped{tracking}."})
    milestones.announce(ret, Milestone.EXCHANGE_SHIPPED, item_ids=[i.id for i in items],
                        tracking_number=shipment.tracking_number, tracking_url=shipment.tracking_url,
                        carrier=shipment.carrier)

"""An order's fulfillments: shipments with their own fulfillment line items.

Each fulfillment has an id, a creation time, the location it shipped from and, per order line,
the units it shipped; each (fulfillment, line) pair is a FulfillmentLineItem with its own id, as
on Shopify, where a return names the fulfillment line item it takes units from
(schema: ReturnLineItemInput.fulfillmentLineItemId).

``Line.fulfilled`` stays the per-line total. Orders whose shipments were never recorded (seeded
orders, state files written before fulfillments existed, a line's ``fulfilled`` set directly)
get them derived from those totals on read: one shipment from the primary location, or, for one
order in five that has a line of two or more shipped units, two shipments with one unit of that
line in each (so a return of both units spans two fulfillment line items). Derived shipments are
stored the first time something adds one (``fulfill_remaining``).

Ids are arithmetic on the order id, so a fulfillment line item id names its order:
fulfillment ``order.id * 32 + n`` (n = 1..31) and fulfillment line item
``order.id * 512 + n * 16 + line index`` (orders have at most 16 lines: line ids are
``order.id * 16 + index``).
"""
from __future__ import annotations

from . import calc, issuing
from .errors import SandboxError
from .records import FulfillmentRec
from .views import bag, connection, gid, parse_gid

MAX_FULFILLMENTS = 31
# Until a parcel is delivered, Shopify shows the carrier's estimate; the sandbox estimates three
# days after shipping (Fulfillment.estimatedDeliveryAt).
ESTIMATED_TRANSIT = 3 * 86400


def fulfillment_id(order, number: int) -> int:
    """The id of the order's ``number``-th fulfillment."""
    return order.id * 32 + number


def item_id(order, number: int, idx: int) -> int:
    """The FulfillmentLineItem id of line ``idx`` in the order's ``number``-th fulfillment."""
    return order.id * 512 + number * 16 + idx


def item_parts(item: int) -> tuple[int, int, int]:
    """(order id, fulfillment number, line index) a fulfillment line item id is made of."""
    return item // 512, (item % 512) // 16, item % 16


def item_line(item: int) -> int:
    """The order line index a fulfillment line item id belongs to."""
    return item_parts(item)[2]


def _split_line(order) -> int | None:
    """The line shipped in two parcels, for one order in five with a line of >= 2 units."""
    if order.id % 5:
        return None
    return next((i for i, ln in enumerate(order.lines) if (ln.fulfilled or 0) >= 2), None)


def _derived(shop, order) -> list:
    shipped = [(i, ln.fulfilled) for i, ln in enumerate(order.lines) if ln.fulfilled]
    if not shipped:
        return []
    primary = issuing.primary_location(shop)["id"]
    created = order.created_at + 86400
    split = _split_line(order)
    if split is None:
        return [FulfillmentRec(id=fulfillment_id(order, 1), number=1, created_at=created,
                               location_id=primary, lines=shipped)]
    first = [(i, q - (i == split)) for i, q in shipped]
    return [FulfillmentRec(id=fulfillment_id(order, 1), number=1, created_at=created,
                           location_id=primary, lines=first),
            FulfillmentRec(id=fulfillment_id(order, 2), number=2, created_at=created + 86400,
                           location_id=primary, lines=[(split, 1)])]


def records(shop, order) -> list:
    """The order's fulfillments, oldest first (stored, or derived from ``Line.fulfilled``)."""
    recs = order.fulfillments
    if recs is None:
        return _derived(shop, order)
    recorded = [0] * len(order.lines)
    for rec in recs:
        for idx, qty in rec.lines:
            recorded[idx] += qty
    gap = [(i, (ln.fulfilled or 0) - recorded[i]) for i, ln in enumerate(order.lines)]
    if any(d < 0 for _i, d in gap):
        return _derived(shop, order)  # units un-shipped directly: the stored list no longer holds
    extra = [(i, d) for i, d in gap if d > 0]
    if not extra:
        return recs
    # ``fulfilled`` raised directly (tests, old code paths): those units are one more shipment.
    n = len(recs) + 1
    return recs + [FulfillmentRec(id=fulfillment_id(order, n), number=n,
                                  created_at=order.updated_at,
                                  location_id=issuing.primary_location(shop)["id"], lines=extra)]


def fulfill_remaining(shop, order, now: float, location_id: int | None = None):
    """Ship every unit still to ship (not refunded, not on a held exchange fulfillment order)
    as one new fulfillment; returns it, or None when nothing was left."""
    from .returns import held_lines
    recs = list(records(shop, order))
    refunded = calc.refunded_qty(order)
    held = held_lines(shop, order)
    lines = [(i, ln.quantity - refunded[i] - ln.fulfilled) for i, ln in enumerate(order.lines)
             if i not in held and ln.quantity - refunded[i] - ln.fulfilled > 0]
    if not lines or len(recs) >= MAX_FULFILLMENTS:
        order.fulfillments = recs
        return None
    n = len(recs) + 1
    rec = FulfillmentRec(id=fulfillment_id(order, n), number=n, created_at=now,
                         location_id=location_id or issuing.primary_location(shop)["id"],
                         lines=lines)
    for idx, qty in lines:
        order.lines[idx].fulfilled += qty
    order.fulfillments = recs + [rec]
    return rec


def find_item(shop, value):
    """(order, fulfillment, line index, units shipped) of a FulfillmentLineItem gid, or None."""
    parsed = parse_gid(value)
    if not parsed or parsed[0] != "FulfillmentLineItem":
        return None
    order_id, number, idx = item_parts(parsed[1])
    order = shop.orders.get(order_id)
    if order is None:
        return None
    for rec in records(shop, order):
        if rec.number == number:
            qty = next((q for i, q in rec.lines if i == idx), None)
            return (order, rec, idx, qty) if qty else None
    return None


def items(shop, order) -> list:
    """Every fulfillment line item of the order: (fulfillment, line index, units shipped)."""
    return [(rec, idx, qty) for rec in records(shop, order) for idx, qty in rec.lines]


# ---- GraphQL ----------------------------------------------------------------------------------

def item_view(ctx, order, rec, idx: int, qty: int, line_view) -> dict:
    """A FulfillmentLineItem as a dict for the default resolver."""
    ln = order.lines[idx]
    return {"id": gid("FulfillmentLineItem", item_id(order, rec.number, idx)), "quantity": qty,
            "lineItem": line_view, "originalTotalSet": bag(ctx, order, ln.price * qty),
            "discountedTotalSet": bag(ctx, order, calc.line_total(ln) * qty // ln.quantity)}


class FulfillmentView:
    """A Fulfillment (schema: type Fulfillment): SUCCESS, shipped from its location."""

    typename = "Fulfillment"

    def __init__(self, ctx, order, rec, line_views):
        self.ctx, self.o, self.rec, self._lines = ctx, order, rec, line_views
        self.id, self.legacyResourceId = gid("Fulfillment", rec.id), str(rec.id)
        self.name = f"#{order.number}.{rec.number}"
        self.status = "SUCCESS"
        self.createdAt = calc.iso(rec.created_at)
        self.updatedAt = calc.iso(rec.delivered_at or rec.created_at)
        # schema (2026-04): deliveredAt "the date that this fulfillment was delivered",
        # estimatedDeliveryAt, displayStatus (FulfillmentDisplayStatus).
        self.deliveredAt = calc.iso(rec.delivered_at) if rec.delivered_at else None
        self.estimatedDeliveryAt = calc.iso(rec.created_at + ESTIMATED_TRANSIT)
        self.displayStatus = "DELIVERED" if rec.delivered_at else "FULFILLED"
        self.totalQuantity = sum(q for _i, q in rec.lines)

    def location(self, info):
        from .issuing_api import location_view
        loc = issuing.location(self.ctx.shop, self.rec.location_id)
        return location_view(loc) if loc else None

    def fulfillmentLineItems(self, info, first=None, after=None):
        return connection([item_view(self.ctx, self.o, self.rec, idx, qty, self._lines[idx])
                           for idx, qty in self.rec.lines], first, after)


def views(ctx, order, line_views) -> list:
    """Order.fulfillments: one FulfillmentView per shipment, oldest first."""
    return [FulfillmentView(ctx, order, rec, line_views) for rec in records(ctx.shop, order)]


# ---- control API and REST (webhook bodies) -----------------------------------------------------

def summary(shop, order) -> list:
    """The order's fulfillments for the control API, with their fulfillment line item ids."""
    return [{"id": rec.id, "gid": gid("Fulfillment", rec.id), "location_id": rec.location_id,
             "created_at": calc.iso(rec.created_at),
             "line_items": [{"fulfillment_line_item_id": item_id(order, rec.number, idx),
                             "gid": gid("FulfillmentLineItem", item_id(order, rec.number, idx)),
                             "line_id": order.lines[idx].id, "quantity": qty}
                            for idx, qty in rec.lines]}
            for rec in records(shop, order)]


def rest_body(order, rec) -> dict:
    """One REST fulfillment: in order bodies and as the fulfillments/create and
    fulfillments/update webhook body. As on Shopify it has no delivery date: ``shipment_status``
    says "delivered" and ``updated_at`` is when that was recorded
    (shopify.dev/docs/api/admin-rest/2026-04/resources/fulfillment)."""
    return {"id": rec.id, "order_id": order.id, "status": "success",
            "created_at": calc.iso_rest(rec.created_at),
            "updated_at": calc.iso_rest(rec.delivered_at or rec.created_at), "service": "manual",
            "shipment_status": "delivered" if rec.delivered_at else None,
            "location_id": rec.location_id, "name": f"#{order.number}.{rec.number}",
            "admin_graphql_api_id": gid("Fulfillment", rec.id),
            "line_items": [{"id": order.lines[idx].id, "quantity": qty,
                            "admin_graphql_api_id": gid("LineItem", order.lines[idx].id)}
                           for idx, qty in rec.lines]}


def rest_list(shop, order) -> list:
    """The ``fulfillments`` of a REST order body: one per shipment, its line items by line id."""
    return [rest_body(order, rec) for rec in records(shop, order)]


def tell(store, shop, order, rec, topic: str) -> None:
    """Deliver ``fulfillments/create`` or ``fulfillments/update`` with the parcel's REST body."""
    store.webhooks.emit(shop, topic, lambda version: rest_body(order, rec))


def deliver_and_tell(store, domain: str, order_id, number: int, when: float | None = None):
    """The carrier delivered the order's ``number``-th parcel (now, or at ``when``):
    ``fulfillments/update`` is delivered with ``shipment_status: "delivered"``. Returns the
    parcel, or raises SandboxError(404)."""
    shop, order = store.get_shop(domain), store.get_order(domain, order_id)
    with store.lock:
        rec = deliver(shop, order, int(number), store.clock.now() if when is None else when)
    if rec is None:
        raise SandboxError(f"order {order_id} has no parcel {number}", 404)
    tell(store, shop, order, rec, "fulfillments/update")
    return rec


def deliver(shop, order, number: int, when: float):
    """The carrier delivered the order's ``number``-th parcel at ``when``; returns the parcel
    (None when there is no such parcel). Derived parcels are stored first."""
    recs = list(records(shop, order))
    rec = next((r for r in recs if r.number == number), None)
    if rec is None:
        return None
    rec.delivered_at = when
    order.fulfillments = recs
    return rec

"""Storing orders: one plain OrderData in, the order and its lines upserted, newest data wins."""
from collections import Counter

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain.order_data import OrderData
from app.extensions import db
from app.models import Order, OrderLine
from app.order_rows import LINE_FIELDS, ORDER_FIELDS
from app.services import exchange_shipments
from app.services.order_copy import order_values
from app.services.order_fit import fit_order
from app.services import units_sold
from app.text import clean_json
from app.shopify import parcels
from app.shopify.errors import ShopifyDataError

CREATED, UPDATED, STALE = "created", "updated", "stale"


def upsert_order(account_id: int, data: OrderData) -> str:
    """Insert or refresh one order; returns CREATED, UPDATED or STALE.

    Deliveries arrive out of order and more than once: data older than what is stored
    (by Shopify's updatedAt) is ignored, so a late webhook never overwrites newer data.
    Every text is first made to fit its column (``order_fit``). The caller commits.
    """
    data = fit_order(data)
    order = _locked_order(account_id, data.shopify_order_id)
    if order is None:
        order = Order(account_id=account_id, shopify_order_id=data.shopify_order_id)
        apply_order(order, data)
        try:
            with db.session.begin_nested():
                db.session.add(order)
        except IntegrityError as error:
            # Another worker stored it between our look-up and insert: update theirs instead.
            order = _locked_order(account_id, data.shopify_order_id)
            if order is None:  # the insert broke another constraint: say so, not a None later
                raise ShopifyDataError(f"order {data.shopify_order_id} could not be stored: "
                                       f"{str(error.orig)[:200]}") from error
        else:
            units_sold.add_difference(account_id, Counter(),
                                      units_sold.counted(order, units_sold.cutoff_of(account_id)))
            return CREATED
    if order.updated_at is not None and data.updated_at < order.updated_at:
        return STALE
    counted_update(order, data)
    return UPDATED


def store_parcel(account_id: int, body) -> str:
    """A fulfillments/create or fulfillments/update body: the parcel stored on its order (one
    that no longer shipped anything — cancelled — taken off). The caller commits. An order not
    stored yet gets its parcels with the order; a body that cannot be read changes nothing."""
    if not isinstance(body, dict):
        return "unreadable fulfillment"
    try:
        parcel = parcels.from_rest(body)
        parcel_id = parcels.parcel_id(body)
        order_id = parcels.strict_id(body.get("order_id"), "Order")
    except (ShopifyDataError, TypeError, ValueError, AttributeError):
        return "unreadable fulfillment"
    if parcel is not None:  # a shipped parcel may carry a return's exchange: its shopper is told
        exchange_shipments.note_shipment(account_id, order_id, body)
    order = _locked_order(account_id, order_id)
    if order is None:
        return "order not stored"
    parcel = clean_json(parcel)  # a shipment status is free text: no NUL or lone surrogate in JSONB
    kept = [p for p in order.fulfillments or () if p["id"] != parcel_id]
    if parcel is None:
        if len(kept) == len(order.fulfillments or ()):
            return "nothing shipped"
        order.fulfillments = kept
    else:
        order.fulfillments = parcels.merge(order.fulfillments, [parcel], complete=False)
    order.fulfillments_known = parcels.known(order.fulfillments)
    return "parcel stored" if parcel else "parcel removed"


def _locked_order(account_id: int, shopify_order_id: int) -> Order | None:
    query = select(Order).where(Order.account_id == account_id, Order.shopify_order_id == shopify_order_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query)


def counted_update(order: Order, data: OrderData) -> None:
    """``apply_order`` on a stored order, adding what the change makes to the units sold (a
    replay adds nothing: app/services/units_sold.py)."""
    cutoff = units_sold.cutoff_of(order.account_id)
    before = units_sold.counted(order, cutoff)
    apply_order(order, data)
    units_sold.add_difference(order.account_id, before, units_sold.counted(order, cutoff))


def apply_order(order: Order, data: OrderData) -> None:
    """Give a new or stored order and its lines ``data``'s values: those a batch writes for a
    new order (``order_copy.order_values``), keeping what the data does not know: the parcels
    are merged with those stored (a body without them leaves them alone), and a line keeps its
    product tags and image when the body carries none. Lines no longer in the order go."""
    values, line_values = order_values(data)
    for name, value in zip(ORDER_FIELDS, values, strict=True):
        if name not in _PARCEL_FIELDS:
            setattr(order, name, value)
    if data.fulfillments is not None:
        order.fulfillments = parcels.merge(order.fulfillments, data.fulfillments)
        order.fulfillments_known = parcels.known(order.fulfillments)
    existing = {line.shopify_line_id: line for line in order.lines}
    seen = set()
    for line_data, row in zip(data.lines, line_values, strict=True):
        line = existing.get(line_data.line_id)
        if line is None:
            line = OrderLine()
            order.lines.append(line)
        _apply_line(line, line_data, row)
        seen.add(line_data.line_id)
    for line_id, line in existing.items():
        if line_id not in seen:  # removed by an order edit
            order.lines.remove(line)


_PARCEL_FIELDS = ("fulfillments", "fulfillments_known")


def _apply_line(line: OrderLine, data, row: tuple) -> None:
    tags, image = line.product_tags, line.image_url
    for name, value in zip(LINE_FIELDS, row, strict=True):
        setattr(line, name, value)
    if data.product_tags is None and tags is not None:  # webhook bodies carry no product tags
        line.product_tags = tags
    if line.image_url is None:
        line.image_url = image

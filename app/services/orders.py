"""Storing orders: one plain OrderData in, the order and its lines upserted, newest data wins."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain.order_data import OrderData
from app.extensions import db
from app.models import Order, OrderLine
from app.services.order_fit import fit_order
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
        _apply(order, data)
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
            return CREATED
    if order.updated_at is not None and data.updated_at < order.updated_at:
        return STALE
    _apply(order, data)
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


def _apply(order: Order, data: OrderData) -> None:
    order.name = data.name
    order.email = data.email.strip().lower() if data.email else None
    order.customer_shopify_id = data.customer_id
    order.customer_name = data.customer_name
    order.shipping_address = dict(data.shipping_address) if data.shipping_address else None
    order.shipping_country = data.shipping_country_code
    order.currency = data.currency
    order.total_price = data.total_price
    order.subtotal_price = data.subtotal_price
    order.total_discounts = data.total_discounts
    order.discount_codes = list(data.discount_codes)
    order.tags = list(data.tags)
    order.financial_status = data.financial_status
    order.fulfillment_status = data.fulfillment_status
    order.created_at = data.created_at
    order.updated_at = data.updated_at
    order.cancelled_at = data.cancelled_at
    if data.fulfillments is not None:
        order.fulfillments = parcels.merge(order.fulfillments, data.fulfillments)
        order.fulfillments_known = parcels.known(order.fulfillments)
    existing = {line.shopify_line_id: line for line in order.lines}
    seen = set()
    for line_data in data.lines:
        line = existing.get(line_data.line_id)
        if line is None:
            line = OrderLine(shopify_line_id=line_data.line_id)
            order.lines.append(line)
        _apply_line(line, line_data)
        seen.add(line_data.line_id)
    for line_id, line in existing.items():
        if line_id not in seen:  # removed by an order edit
            order.lines.remove(line)


def _apply_line(line: OrderLine, data) -> None:
    line.product_id = data.product_id
    line.variant_id = data.variant_id
    line.title = data.title
    line.variant_title = data.variant_title
    line.sku = data.sku or None
    if data.product_tags is not None:  # webhook bodies carry no product tags: keep what we had
        line.product_tags = list(data.product_tags)
    elif line.product_tags is None:
        line.product_tags = []
    line.quantity = data.quantity
    line.unit_price = data.unit_price
    line.discounted_unit_price = data.discounted_unit_value
    line.fulfilled_quantity = data.fulfilled_quantity
    line.refunded_quantity = data.refunded_quantity
    line.image_url = data.image_url or line.image_url

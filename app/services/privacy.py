"""Shopify's privacy webhooks: redact a customer, redact a shop, export a customer's data."""
from sqlalchemy import delete, or_, select, update

from app.extensions import db
from app.models import (Account, Order, OutboxEmail, Return, ReturnEvent, ReturnPhoto, TrackingEvent, UnitsSoldDaily,
                        WebhookDelivery)
from app.services import photos

REDACTED = "redacted"


def _customer_filter(model, customer: dict):
    email = (customer.get("email") or "").strip().lower()
    conditions = []
    if email:
        conditions.append(model.customer_email == email if model is Return else model.email == email)
    if model is Order and customer.get("id"):
        conditions.append(model.customer_shopify_id == int(customer["id"]))
    return or_(*conditions) if conditions else None


def redact_customer(account: Account, payload: dict) -> str:
    """Remove a customer's personal data from their orders and returns (the rows stay, so
    the retailer's records of money and items stay whole)."""
    customer = payload.get("customer") or {}
    order_filter = _customer_filter(Order, customer)
    if order_filter is None:
        return "no customer named"
    orders = db.session.scalars(select(Order).where(Order.account_id == account.id, order_filter)).all()
    order_ids = [order.id for order in orders]
    for order in orders:
        order.email = None
        order.customer_name = None
        order.shipping_address = None
        order.customer_shopify_id = None
    return_filter = _customer_filter(Return, customer)
    conditions = [Return.order_id.in_(order_ids)] if order_ids else []
    if return_filter is not None:
        conditions.append(return_filter)
    if conditions:
        return_ids = list(db.session.scalars(select(Return.id).where(Return.account_id == account.id,
                                                                     or_(*conditions))))
        # Photos of the customer's items are personal data with no record value: deleted outright.
        photo_condition = photos.of_orders_or_returns(order_ids, return_ids)
        if photo_condition is not None:
            photos.delete_photos(ReturnPhoto.account_id == account.id, photo_condition)
        db.session.execute(update(Return).where(Return.account_id == account.id, or_(*conditions)).values(
            customer_email=None, customer_name=None, shipping_address=None))
    email = (customer.get("email") or "").strip().lower()
    if email:
        # Emails to the customer carry their address and, for credit notes, a gift card code.
        db.session.execute(delete(OutboxEmail).where(OutboxEmail.account_id == account.id,
                                                     OutboxEmail.to_address == email))
    return f"redacted {len(orders)} order(s)"


def redact_shop(account: Account) -> str:
    """Delete everything the store sent us (orders, returns, emails, deliveries, tracking events).
    The retailer's login stays, so they can reconnect or close the account."""
    photos.delete_photos(ReturnPhoto.account_id == account.id)
    for model in (ReturnEvent,):
        db.session.execute(delete(model).where(model.return_id.in_(
            select(Return.id).where(Return.account_id == account.id))))
    # The units sold are counted from the orders: a store that reconnects imports them again.
    for model in (OutboxEmail, TrackingEvent, Return, Order, UnitsSoldDaily):
        db.session.execute(delete(model).where(model.account_id == account.id))
    db.session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.account_id == account.id, WebhookDelivery.topic != "shop/redact"))
    account.access_token_encrypted = None
    account.refresh_token_encrypted = None
    return "store data deleted"


def customer_export(account: Account, payload: dict) -> dict:
    """Everything we hold about the customer named in a customers/data_request payload."""
    customer = payload.get("customer") or {}
    order_filter = _customer_filter(Order, customer)
    orders = [] if order_filter is None else db.session.scalars(
        select(Order).where(Order.account_id == account.id, order_filter).order_by(Order.created_at)).all()
    return_filter = _customer_filter(Return, customer)
    returns = [] if return_filter is None else db.session.scalars(
        select(Return).where(Return.account_id == account.id, return_filter).order_by(Return.created_at)).all()
    photo_rows = photos.export_rows(account.id, [o.id for o in orders], [r.id for r in returns])
    return {
        "shop_domain": account.shop_domain,
        "customer": {"id": customer.get("id"), "email": customer.get("email")},
        "orders": [{
            "name": o.name, "email": o.email, "customer_name": o.customer_name, "created_at": o.created_at.isoformat(),
            "shipping_address": o.shipping_address, "total_price": str(o.total_price), "currency": o.currency,
            "lines": [{"title": line.title, "variant_title": line.variant_title, "quantity": line.quantity}
                      for line in o.lines],
        } for o in orders],
        "returns": [{
            "rma_number": r.rma_number, "status": r.status, "order_name": r.order_name,
            "customer_email": r.customer_email, "created_at": r.created_at.isoformat(),
            "items": [{"title": i.title, "quantity": i.quantity, "reason": i.reason, "note": i.note}
                      for i in r.items],
        } for r in returns],
        # What photos of their items we hold (the images stay with the merchant's return pages).
        "photos": photo_rows,
    }

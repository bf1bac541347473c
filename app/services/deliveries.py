"""Processing a stored webhook delivery (in a job): orders, returns, uninstalls and privacy requests."""
import json
import logging

from app.extensions import db
from app.models import Account, WebhookDelivery
from app.services import privacy
from app.services.intake import FULFILLMENT_TOPICS, ORDER_TOPICS, RETURN_TOPICS, mark_processed
from app.services.orders import store_parcel, upsert_order
from app.services.shopify_access import NotConnected, client_for, mark_disconnected
from app.services.shopify_returns import refresh_order_returns
from app.shopify.errors import RevokedTokenError, ShopifyDataError
from app.shopify.mapping import order_from_rest
from app.shopify.operations import fetch_order
from app.shopify.values import parse_id

log = logging.getLogger(__name__)


def process_delivery(delivery_id: int) -> str:
    """Do a delivery's work once; returns what happened. Safe to run twice: a processed
    delivery is left alone, and every step is an idempotent upsert or state change."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return "missing"
    if delivery.processed_at is not None:
        return "already processed"
    account = db.session.get(Account, delivery.account_id) if delivery.account_id else None
    delivery.attempts += 1
    db.session.commit()
    payload = json.loads(delivery.body)
    if account is None:
        outcome = "no account"
    elif delivery.topic in ORDER_TOPICS:
        outcome = _process_order(account, payload)
    elif delivery.topic in RETURN_TOPICS:
        outcome = _process_return(account, payload)
    elif delivery.topic in FULFILLMENT_TOPICS:
        outcome = store_parcel(account.id, payload)
    elif delivery.topic == "app/uninstalled":
        mark_disconnected(account, "The Boomerang app was uninstalled from this store. Reconnect to resume.")
        outcome = "disconnected"
    elif delivery.topic == "customers/redact":
        outcome = privacy.redact_customer(account, payload)
    elif delivery.topic == "shop/redact":
        outcome = privacy.redact_shop(account)
    elif delivery.topic == "customers/data_request":
        outcome = "export ready"  # the export is built on download from current data
    else:
        outcome = "ignored topic"
    mark_processed(delivery)
    db.session.commit()
    return outcome


def _process_return(account: Account, payload: dict) -> str:
    """A return was made or changed in Shopify: read the order's returnable units and returns
    again (the body says which order: ``order.admin_graphql_api_id``, Shopify's documented
    returns/* example in tests/fixtures/shopify)."""
    order = payload.get("order") if isinstance(payload, dict) else None
    if not isinstance(order, dict):
        return "no order in the body"
    try:
        order_id = parse_id(order.get("admin_graphql_api_id") or order.get("id"), "Order")
    except ShopifyDataError:
        return "no order in the body"
    try:
        stored = refresh_order_returns(account, order_id)
    except NotConnected:
        return "store not connected"
    except RevokedTokenError:
        mark_disconnected(account, "Shopify no longer accepts this store's access token. Reconnect the store.")
        db.session.commit()
        return "token revoked"
    return f"order {order_id}: {stored} return(s) made in Shopify"


def _process_order(account: Account, payload: dict) -> str:
    """Store the body's order at once, then the Admin API's (authoritative) version."""
    try:
        body_outcome = upsert_order(account.id, order_from_rest(payload))
        db.session.commit()
    except ShopifyDataError as error:
        # A partial body is not fatal: the API fetch below is the authoritative copy.
        db.session.rollback()
        log.warning("order body of account %s could not be mapped: %s", account.id, error)
        body_outcome = "unmapped"
    order_id = payload.get("admin_graphql_api_id") or payload.get("id")
    try:
        client = client_for(account)
        fetched = fetch_order(client, order_id)
    except NotConnected:
        return f"body {body_outcome}; store not connected"
    except RevokedTokenError:
        mark_disconnected(account, "Shopify no longer accepts this store's access token. Reconnect the store.")
        db.session.commit()
        return f"body {body_outcome}; token revoked"
    if fetched is None:
        return f"body {body_outcome}; not visible in the Admin API"
    outcome = upsert_order(account.id, fetched)
    db.session.commit()
    return f"body {body_outcome}; api {outcome}"

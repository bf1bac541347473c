"""Processing a stored webhook delivery (in a job): orders, returns, uninstalls and privacy requests."""
import logging

from app.extensions import db
from app.models import Account, PendingDelivery, WebhookDelivery
from app.services import privacy
from app.services.dead_deliveries import Undeliverable, describe, record_failure
from app.services.intake import FULFILLMENT_TOPICS, ORDER_TOPICS, PRODUCT_TOPICS, RETURN_TOPICS, mark_processed
from app.services.orders import store_parcel, upsert_order
from app.services.product_facts import process_product_webhook
from app.services.shopify_access import NotConnected, client_for, mark_disconnected
from app.services.shopify_returns import refresh_order_returns
from app.shopify.errors import RevokedTokenError, ShopifyDataError
from app.shopify.mapping import order_from_rest, order_id_of
from app.shopify.operations import fetch_order
from app.shopify.values import parse_id
from app.shopify.webhooks import delivery_payload

log = logging.getLogger(__name__)


def process_delivery(delivery_id: int) -> str:
    """Do a delivery's work once; returns what happened. Safe to run twice: a processed
    delivery is left alone, and every step is an idempotent upsert or state change.

    Each attempt is counted before its work starts. When the work fails, its error is recorded
    on its pending row (``last_error``) and the exception raised again so that the job is retried,
    until the delivery has used up its attempts: then it is dead (``dead_deliveries``), the
    error is logged and nothing is raised (no retry is left to ask for)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return "missing"
    pending = db.session.get(PendingDelivery, delivery_id)
    if pending is None:
        return "already processed"
    pending.attempts += 1
    attempts = pending.attempts
    db.session.commit()
    try:
        outcome, note = _do_work(delivery)
        mark_processed([delivery_id])
        if note is not None:
            delivery.note = note
        db.session.commit()
    except Exception as error:  # recorded on the pending row, then retried or dead
        db.session.rollback()
        if not record_failure(delivery_id, error):
            log.warning("delivery %s failed (attempt %s): %s", delivery_id, attempts, describe(error))
            raise
        log.error("delivery %s is dead after %s attempts: %s", delivery_id, attempts, describe(error),
                  exc_info=True)
        return "dead"
    return outcome


def _do_work(delivery: WebhookDelivery) -> tuple[str, str | None]:
    """The delivery's work by topic: what happened, and a note kept on the processed delivery
    (an order body that could not be mapped, though the Admin API's copy was stored)."""
    account = db.session.get(Account, delivery.account_id) if delivery.account_id else None
    payload = delivery_payload(delivery.body)
    if account is None:
        return "no account", None
    if delivery.topic in ORDER_TOPICS:
        return _process_order(account, payload)
    if delivery.topic in RETURN_TOPICS:
        outcome = _process_return(account, payload)
    elif delivery.topic in FULFILLMENT_TOPICS:
        outcome = store_parcel(account.id, payload)
    elif delivery.topic in PRODUCT_TOPICS:
        try:
            outcome = process_product_webhook(account, delivery.topic, payload)
        except RevokedTokenError:
            db.session.rollback()
            mark_disconnected(account, "Shopify no longer accepts this store's access token. Reconnect the store.")
            db.session.commit()
            outcome = "token revoked"
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
    return outcome, None


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


def _process_order(account: Account, payload: dict) -> tuple[str, str | None]:
    """Store the body's order at once, then the Admin API's (authoritative) version.

    A body that cannot be mapped (an unexpected shape, lines whose ids disagree) is not stored,
    and says why in the delivery's note; the order is still fetched when the body names it."""
    note = None
    try:
        data = order_from_rest(payload)
    except ShopifyDataError as error:
        note = f"the order in the body was not stored: {describe(error)}"
        log.error("order body of account %s could not be mapped: %s", account.id, error)
        body_outcome = "unmapped"
    else:
        body_outcome = upsert_order(account.id, data)
        db.session.commit()
    order_id = order_id_of(payload)
    if order_id is None:
        raise Undeliverable(note or "the order body names no order id")
    try:
        client = client_for(account)
        fetched = fetch_order(client, order_id)
    except NotConnected:
        return f"body {body_outcome}; store not connected", note
    except RevokedTokenError:
        mark_disconnected(account, "Shopify no longer accepts this store's access token. Reconnect the store.")
        db.session.commit()
        return f"body {body_outcome}; token revoked", note
    if fetched is None:
        return f"body {body_outcome}; not visible in the Admin API", note
    outcome = upsert_order(account.id, fetched)
    db.session.commit()
    return f"body {body_outcome}; api {outcome}", note

"""The store's webhook subscriptions: exactly one per topic at this deployment's address."""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

from flask import current_app

from app.extensions import db
from app.models import Account
from app.queue import enqueue
from app.services import imports
from app.services.imports import describe_error
from app.services.shopify_access import mark_disconnected
from app.shopify import errors as E
from app.shopify.operations import (create_webhook_subscription, delete_webhook_subscription,
                                    list_webhook_subscriptions, topic_enum)

# products/*: the product facts the rules read (app.services.product_facts); read_products is a
# scope every connection has (app.services.connect.REQUIRED_SCOPES; schema: WebhookSubscriptionTopic
# PRODUCTS_CREATE, PRODUCTS_UPDATE, PRODUCTS_DELETE "Requires the `read_products` scope").
WEBHOOK_TOPICS = ("orders/create", "orders/updated", "app/uninstalled", "products/create", "products/update",
                  "products/delete")
# Returns made or changed in Shopify (its admin, its self-serve returns, or ours): they change what
# can still be returned. These topics need read_returns (schema: WebhookSubscriptionTopic), so they
# are subscribed once the store has granted it.
RETURN_TOPICS = ("returns/approve", "returns/request", "returns/process", "returns/close", "returns/cancel",
                 "returns/decline", "returns/reopen", "returns/update")


# Parcels shipped and delivered (the return window may count from delivery): these topics need
# read_fulfillments (schema: WebhookSubscriptionTopic FULFILLMENTS_CREATE, FULFILLMENTS_UPDATE).
FULFILLMENT_TOPICS = ("fulfillments/create", "fulfillments/update")


def topics_for(account: Account) -> tuple[str, ...]:
    """The topics this store's subscriptions should cover, given its scopes."""
    return (WEBHOOK_TOPICS + (RETURN_TOPICS if account.has_scope("read_returns") else ())
            + (FULFILLMENT_TOPICS if account.has_scope("read_fulfillments") else ()))
WEBHOOK_PATH = "/webhooks/shopify"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def webhook_address() -> str:
    """Where Shopify sends this deployment's webhooks."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + WEBHOOK_PATH


def _is_ours(uri: str | None) -> bool:
    return bool(uri) and urlparse(uri).path.rstrip("/").endswith(WEBHOOK_PATH)


def sync_webhooks(account_id: int, client=None) -> dict:
    """Make the store's subscriptions exactly one per topic at ``webhook_address()``: list them,
    delete ours that point elsewhere (or twice at the same place), create the missing ones.
    Safe to run any number of times. Returns what it did."""
    account = db.session.get(Account, account_id)
    done = {"created": [], "deleted": [], "kept": []}
    if account is None or not account.is_connected:
        return done
    target = webhook_address()
    wanted = {topic_enum(topic): topic for topic in topics_for(account)}
    try:
        client = client or imports.store_client(account)
        present = set()
        for sub in list_webhook_subscriptions(client):
            if sub.topic not in wanted:
                continue
            if sub.uri == target and sub.topic not in present:
                present.add(sub.topic)
                done["kept"].append(sub.topic)
            elif sub.uri == target or _is_ours(sub.uri):
                delete_webhook_subscription(client, sub.id)
                done["deleted"].append(sub.topic)
        for enum, topic in wanted.items():
            if enum not in present:
                create_webhook_subscription(client, topic, target)
                done["created"].append(enum)
    except E.RevokedTokenError:
        db.session.rollback()
        mark_disconnected(account, imports.REVOKED_REASON)
        account.webhooks_error = imports.REVOKED_REASON
        db.session.commit()
        return done
    except E.ShopifyError as error:
        db.session.rollback()
        account.webhooks_error = describe_error(error)
        db.session.commit()
        raise
    now = _utcnow()
    if (done["created"] and account.webhooks_ok_at is not None
            and account.webhooks_ok_at >= (account.connected_at or now)):
        # They were all there at the last check since connecting: Shopify removed these since
        # (after 8 failed deliveries in a row, docs/reference/shopify-api.md §1.3).
        account.webhooks_recreated_at = now
        account.webhooks_recreated = ", ".join(topic_name(enum) for enum in done["created"])[:500]
    account.webhooks_ok_at = now
    account.webhooks_error = None
    db.session.commit()
    if "PRODUCTS_UPDATE" in done["created"]:
        # A store connected before the rules read products has none stored yet, and no webhook
        # would bring the ones that never change: read them all once.
        enqueue("jobs.imports.sync_products_job", account_id, job_id=f"sync-products-{account_id}")
    return done


# How often the reconciliation also checks the subscriptions (a Shopify list call per store).
CHECK_EVERY = timedelta(hours=1)


def check_webhooks_if_due(account: Account, client=None) -> dict | None:
    """Run the subscription check when the last one is older than CHECK_EVERY (or failed);
    what it did, or None when it was not due. A Shopify error is recorded on the account."""
    if account.webhooks_ok_at is not None and account.webhooks_ok_at > _utcnow() - CHECK_EVERY \
            and not account.webhooks_error:
        return None
    try:
        return sync_webhooks(account.id, client)
    except E.ShopifyError:
        return None  # recorded in webhooks_error, shown on the store page and the overview


def topic_name(enum: str) -> str:
    """ORDERS_CREATE → orders/create (the names people see in Shopify's admin)."""
    for topic in WEBHOOK_TOPICS + RETURN_TOPICS:
        if topic_enum(topic) == enum:
            return topic
    return enum

"""Shopify webhook intake: record a verified delivery once, then process it in a job."""
import hashlib
import json
import logging
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.crypto import decrypt_secret
from app.extensions import db
from app.models import Account, WebhookDelivery
from app.shopify.webhooks import WebhookHeaders, verify_webhook

log = logging.getLogger(__name__)

ORDER_TOPICS = {"orders/create", "orders/updated"}
PRIVACY_TOPICS = {"customers/redact", "shop/redact", "customers/data_request"}
KNOWN_TOPICS = ORDER_TOPICS | PRIVACY_TOPICS | {"app/uninstalled"}


class IntakeRefused(Exception):
    """The delivery is refused; `status` is the HTTP answer and the message says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def account_for_shop(shop_domain: str | None) -> Account | None:
    """The account connected to (or once connected to) that shop."""
    if not shop_domain:
        return None
    return db.session.scalar(select(Account).where(Account.shop_domain == shop_domain.lower()))


def verify_delivery(headers: WebhookHeaders, body: bytes) -> Account:
    """The delivery's account, once its HMAC checks out under the shop's current or previous
    secret. Unknown shops get the same 401 as bad signatures: nothing to learn from probing."""
    account = account_for_shop(headers.shop_domain)
    secrets = []
    if account is not None:
        secrets = [decrypt_secret(account.webhook_secret_encrypted),
                   decrypt_secret(account.previous_webhook_secret_encrypted)]
    if not headers.hmac or not verify_webhook(body, headers.hmac, [s for s in secrets if s]):
        raise IntakeRefused(401, "HMAC signature missing or invalid")
    if not headers.topic:
        raise IntakeRefused(400, "X-Shopify-Topic header missing")
    return account


def record_delivery(account: Account, headers: WebhookHeaders, body: bytes) -> WebhookDelivery | None:
    """Store the delivery (committed) and return it; None when this event was stored before."""
    if not body.strip():
        raise IntakeRefused(400, "empty body")
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        raise IntakeRefused(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise IntakeRefused(400, "body is not a JSON object")
    # Shopify always sends an event id; fall back to the webhook id, then the body's digest.
    event_id = headers.event_id or headers.webhook_id or hashlib.sha256(body).hexdigest()
    delivery = WebhookDelivery(
        account_id=account.id, shop_domain=headers.shop_domain, topic=headers.topic[:64],
        event_id=event_id[:128], webhook_id=(headers.webhook_id or "")[:128] or None,
        api_version=(headers.api_version or "")[:16] or None, triggered_at=headers.triggered_at, body=text)
    try:
        with db.session.begin_nested():
            db.session.add(delivery)
    except IntegrityError:
        return None  # a repeat of an event we already have: nothing more to do
    db.session.commit()
    return delivery


def mark_processed(delivery: WebhookDelivery) -> None:
    """Record that the delivery's work is done (the caller commits with that work)."""
    delivery.processed_at = datetime.now(timezone.utc)
    delivery.last_error = None

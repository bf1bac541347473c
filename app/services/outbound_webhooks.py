"""Outbound webhooks: the retailer's endpoints, and a delivery row for each milestone they subscribe to.

A return's milestones (`services/milestones.py`) reach `on_milestone` inside the transaction that
makes them. For each enabled endpoint of the account subscribed to the topic it writes a delivery:
its event id, the URL of the moment and the JSON body, built now from the return as it is now, so
every attempt (and "Send again") sends the same bytes. After the commit each is queued on the
`webhooks` queue (`services/outbound_sending.py` sends it), apart from issuing's `actions` queue.

Endpoints are modelled on Shopify's webhook subscriptions: a topic list, a signing secret (ours is
per endpoint, generated, stored encrypted and shown to admins on demand), and a retry schedule.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from flask import current_app
from sqlalchemy import inspect, select

from app.crypto import decrypt_secret, encrypt_secret
from app.domain.vocabulary import ReturnStatus
from app.extensions import db
from app.models import Account, OutboundDelivery, OutboundEndpoint, Return
from app.outbound import addresses, signing
from app.queue import enqueue
from app.services import milestones
from app.services.milestones import Milestone

# The topics an endpoint may subscribe to: a deliberate list, not every milestone (a label being
# bought is the shopper's news, not the warehouse's).
TOPICS = (Milestone.CREATED, Milestone.STATUS_CHANGED, Milestone.ITEM_ISSUED, Milestone.CLOSED)
TOPIC_LABELS = {
    Milestone.CREATED: "Return created",
    Milestone.STATUS_CHANGED: "Return status changed",
    Milestone.ITEM_ISSUED: "Item issued (refund, credit or exchange)",
    Milestone.CLOSED: "Return closed",
}
TEST_TOPIC = "webhook.test"  # "Send test": to any endpoint, whatever it subscribes to
SEND_JOB = "jobs.outbound.deliver_outbound_job"
ROTATION_OVERLAP = timedelta(hours=24)
MAX_ENDPOINTS = 10
MAX_DESCRIPTION = 120


class EndpointRefused(ValueError):
    """The endpoint cannot be saved as given; the message says why (and `field` which input)."""

    def __init__(self, message: str, field: str = "url"):
        super().__init__(message)
        self.field = field


def now() -> datetime:
    """The current time (OUTBOUND_WEBHOOKS_CLOCK, a callable, stands in for it in tests)."""
    clock = current_app.config.get("OUTBOUND_WEBHOOKS_CLOCK")
    return clock() if clock else datetime.now(timezone.utc)


def allow_loopback() -> bool:
    """Whether http:// to loopback addresses is allowed (tests and the demo only)."""
    return bool(current_app.config.get("OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK"))


# --- endpoints -----------------------------------------------------------------------------

def _checked(url: str, topics: list[str], description: str | None) -> tuple[str, list[str], str | None]:
    try:
        addresses.vet(url, allow_loopback=allow_loopback())
    except addresses.AddressRefused as refusal:
        raise EndpointRefused(str(refusal)) from None
    chosen = [t for t in TOPICS if t in set(topics or ())]
    if len(chosen) != len(set(topics or ())):
        raise EndpointRefused("Choose topics from the list.", "topics")
    if not chosen:
        raise EndpointRefused("Choose at least one topic.", "topics")
    description = (description or "").strip() or None
    if description and (len(description) > MAX_DESCRIPTION or not description.isprintable()):
        raise EndpointRefused(f"The description is at most {MAX_DESCRIPTION} printable characters.", "description")
    return url.strip(), chosen, description


def create_endpoint(account: Account, url: str, topics: list[str], description: str | None = None
                    ) -> tuple[OutboundEndpoint, str]:
    """Add an endpoint (committed); (endpoint, its new secret, to show once)."""
    url, topics, description = _checked(url, topics, description)
    count = db.session.scalar(select(db.func.count()).select_from(OutboundEndpoint)
                              .where(OutboundEndpoint.account_id == account.id))
    if count >= MAX_ENDPOINTS:
        raise EndpointRefused(f"At most {MAX_ENDPOINTS} endpoints; delete one first.")
    secret = signing.new_secret()
    at = now()
    endpoint = OutboundEndpoint(account_id=account.id, url=url, topics=topics, description=description,
                                enabled=True, secret_encrypted=encrypt_secret(secret), created_at=at, updated_at=at)
    db.session.add(endpoint)
    db.session.commit()
    return endpoint, secret


def update_endpoint(endpoint: OutboundEndpoint, url: str, topics: list[str], description: str | None,
                    enabled: bool) -> OutboundEndpoint:
    """Change an endpoint's URL, topics, description and whether it is enabled (committed). Events
    already queued still go to the URL they were made for."""
    endpoint.url, endpoint.topics, endpoint.description = _checked(url, topics, description)
    endpoint.enabled = bool(enabled)
    endpoint.updated_at = now()
    db.session.commit()
    return endpoint


def set_enabled(endpoint: OutboundEndpoint, enabled: bool) -> None:
    """Enable or disable an endpoint (committed); a disabled one gets nothing new."""
    endpoint.enabled = bool(enabled)
    endpoint.updated_at = now()
    db.session.commit()


def delete_endpoint(endpoint: OutboundEndpoint) -> None:
    """Delete an endpoint and its delivery log (committed)."""
    db.session.delete(endpoint)
    db.session.commit()


def secrets_in_force(endpoint: OutboundEndpoint, at: datetime | None = None) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one while its
    overlap lasts."""
    at = at or now()
    found = [decrypt_secret(endpoint.secret_encrypted)]
    until = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and until and at < until:
        found.append(decrypt_secret(endpoint.previous_secret_encrypted))
    return found


def reveal_secret(endpoint: OutboundEndpoint) -> str:
    """The endpoint's current secret (an admin asked to see it)."""
    return decrypt_secret(endpoint.secret_encrypted)


def rotate_secret(endpoint: OutboundEndpoint) -> str:
    """A new secret (committed, returned to show once); the current one keeps signing beside it for
    ROTATION_OVERLAP, so receivers can switch without refusing good deliveries. Rotating again
    during an overlap ends the older secret's overlap at once."""
    at = now()
    secret = signing.new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = at + ROTATION_OVERLAP
    endpoint.secret_encrypted = encrypt_secret(secret)
    endpoint.secret_rotated_at = at
    endpoint.updated_at = at
    db.session.commit()
    return secret


# --- the payload ---------------------------------------------------------------------------

def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value), "f")


def _item(item) -> dict:
    return {
        "id": item.id, "shopify_line_item_id": item.shopify_line_id, "product_id": item.product_id,
        "variant_id": item.variant_id, "sku": item.sku, "title": item.title, "variant_title": item.variant_title,
        "quantity": item.quantity, "reason": item.reason, "option": item.option,
        "unit_value": _money(item.unit_value), "value": _money(Decimal(item.unit_value) * item.quantity),
        "resolution": item.resolution, "issued_amount": _money(item.issued_amount),
        "issued_at": item.issued_at.isoformat() if item.issued_at else None,
        "exchange_order_name": item.exchange_order_name,
    }


def snapshot(ret: Return, status: str | None = None) -> dict:
    """The return as the payload shows it: ids, RMA, status, order, items with exact money.
    `status` is the one the milestone announces: a move is a conditional UPDATE, which leaves the
    loaded object's status as it was."""
    return {
        "id": ret.id, "rma": ret.rma_number, "status": status or ret.status, "order_name": ret.order_name,
        "shopify_order_id": ret.shopify_order_id, "currency": ret.currency,
        "customer_email": ret.customer_email,
        "created_at": ret.created_at.isoformat() if ret.created_at else None,
        "items": [_item(item) for item in ret.items],
    }


def payload(account: Account, topic: str, event_id: str, occurred_at: datetime, ret: Return | None,
            data: dict | None = None) -> dict:
    """The JSON document one delivery sends."""
    document = {"id": event_id, "topic": topic, "occurred_at": occurred_at.isoformat(),
                "shop": {"id": account.id, "name": account.name, "domain": account.shop_domain}}
    data = data or {}
    if ret is not None:
        status = ReturnStatus.CLOSED.value if topic == Milestone.CLOSED else data.get("status")
        document["return"] = snapshot(ret, status)
    if topic == Milestone.STATUS_CHANGED:
        document["previous_status"], document["status"] = data.get("previous"), data.get("status")
    if topic == Milestone.ITEM_ISSUED:
        item = next((i for i in ret.items if i.id == data.get("item_id")), None)
        document["item"] = _item(item) if item is not None else None
    return document


def encode(document: dict) -> str:
    """The body's exact text (compact, key order kept): what is signed and sent."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


# --- from milestones to deliveries ----------------------------------------------------------

def _add_delivery(account: Account, endpoint: OutboundEndpoint, topic: str, ret: Return | None,
                  data: dict | None, at: datetime) -> OutboundDelivery:
    event_id = str(uuid.uuid4())
    delivery = OutboundDelivery(
        account_id=account.id, endpoint_id=endpoint.id, return_id=ret.id if ret is not None else None,
        event_id=event_id, topic=topic, url=endpoint.url,
        body=encode(payload(account, topic, event_id, at, ret, data)),
        state="pending", attempts=0, next_attempt_at=at, created_at=at, attempt_log=[])
    db.session.add(delivery)
    return delivery


def _this_transaction() -> dict:
    """What this module keeps for the current transaction (endpoints read, deliveries to queue),
    started afresh by each new transaction: a bulk close announces thousands of milestones in a few
    transactions, and each need not read the endpoints again nor flush its rows on its own."""
    session = db.session()
    root = session.get_transaction()
    while root is not None and root.parent is not None:
        root = root.parent
    kept = session.info.get("outbound_webhooks")
    if kept is None or kept["transaction"] is not root:
        kept = session.info["outbound_webhooks"] = {"transaction": root, "endpoints": {}, "deliveries": None}
    return kept


def queue_after_commit(deliveries: list[OutboundDelivery]) -> None:
    """Queue each delivery's send once the transaction that wrote them commits (their ids are
    known then: the commit's flush assigns them; one callback per transaction queues them all)."""
    if not deliveries:
        return
    kept = _this_transaction()
    if kept["deliveries"] is None:
        waiting = kept["deliveries"] = []
        # The identity is read without loading: after the commit every attribute is expired.
        milestones.after_commit(lambda: queue_sends([(inspect(d).identity[0], "new") for d in waiting]))
    kept["deliveries"].extend(deliveries)


def queue_sends(due: list[tuple[int, str]]) -> None:
    """Queue the send of each (delivery id, attempt mark) on the webhooks queue. The mark names the
    attempt that is due (its number and time), so one attempt is queued once however often it is
    asked for, while a later attempt or "Send again" gets a job of its own (RQ refuses a job id it
    still holds, finished ones included). A failed enqueue (Redis away) loses nothing: the row is
    due, and the sweeper queues it."""
    for delivery_id, mark in due:
        try:
            enqueue(SEND_JOB, delivery_id, job_id=f"outbound-{delivery_id}-{mark}")
        except Exception:  # noqa: BLE001 — the commit stands; the sweeper re-queues due rows
            current_app.logger.warning("outbound delivery %s not queued; the sweeper will", delivery_id)
            return


@milestones.listen
def on_milestone(ret: Return, announcement: milestones.Announcement) -> None:
    """A delivery row per enabled endpoint subscribed to the milestone (in the caller's transaction)."""
    if announcement.name not in TOPICS:
        return
    known = _this_transaction()["endpoints"]
    if announcement.account_id not in known:
        known[announcement.account_id] = db.session.scalars(
            select(OutboundEndpoint).where(OutboundEndpoint.account_id == announcement.account_id,
                                           OutboundEndpoint.enabled.is_(True))).all()
    endpoints = [e for e in known[announcement.account_id] if announcement.name in (e.topics or ())]
    if not endpoints:
        return
    account = db.session.get(Account, announcement.account_id)
    at = now()
    queue_after_commit([_add_delivery(account, e, announcement.name, ret, announcement.data, at) for e in endpoints])


def send_test(endpoint: OutboundEndpoint) -> OutboundDelivery:
    """A test delivery to the endpoint (committed, then queued): a sample body, signed as any other."""
    account = db.session.get(Account, endpoint.account_id)
    delivery = _add_delivery(account, endpoint, TEST_TOPIC, None, None, now())
    queue_after_commit([delivery])
    db.session.commit()
    return delivery

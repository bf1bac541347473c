"""Sending outbound webhook deliveries: one attempt at a time, claimed first, retried from the row.

- Claim: a conditional UPDATE moves a due row (pending, next_attempt_at passed; or sending whose
  claim lapsed, a worker that died mid-send) to sending and counts the attempt, and commits before
  anything is sent. A duplicate job, or a second worker, finds nothing to claim: a delivered row is
  never sent again, and no transaction is held open across the request.
- Send: the URL is vetted again now (DNS may have changed since it was saved) and the request goes
  to the vetted address (`app/outbound/http.py`), signed with every secret in force.
- Record: 2xx → delivered; otherwise the attempt is logged and the row is due again after a
  growing pause (RETRY_MINUTES), persisted as next_attempt_at, until MAX_ATTEMPTS, then failed.
  The pause is the row's, not Redis's: the sweeper (`sweep_due`, every minute) queues whatever is
  due, so a Redis that lost its jobs loses no delivery.

Shopify retries a failed delivery 8 times over 4 hours with an exponential back-off, sending the
original payload to the address of the moment it was triggered
(https://shopify.dev/changelog/updates-to-webhook-retry-mechanism); so do we: 8 attempts, pauses of
1, 3, 7, 15, 30, 60 and 120 minutes (3 h 56 min from the first attempt to the last).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update

from app.extensions import db
from app.models import Account, OutboundDelivery, OutboundEndpoint
from app.outbound import addresses, http, signing
from app.services.outbound_webhooks import allow_loopback, now, queue_sends, secrets_in_force

RETRY_MINUTES = (1, 3, 7, 15, 30, 60, 120)
MAX_ATTEMPTS = len(RETRY_MINUTES) + 1
CLAIM_SECONDS = 60  # longer than one attempt can take (http.TOTAL_TIMEOUT plus the vetting)
LOG_ATTEMPTS = 20   # attempts kept in a delivery's log ("Send again" adds more)
SWEEP_BATCH = 500
KEEP_DAYS = 30      # delivered and failed deliveries stay in the log this long


def retry_delay(attempts: int) -> timedelta | None:
    """The pause after the `attempts`-th failed attempt, or None when that was the last."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return timedelta(minutes=RETRY_MINUTES[attempts - 1])


def _due(at: datetime):
    return or_(and_(OutboundDelivery.state == "pending", OutboundDelivery.next_attempt_at <= at),
               and_(OutboundDelivery.state == "sending", OutboundDelivery.claimed_until < at))


def claim(delivery_id: int, at: datetime) -> bool:
    """Take the delivery for one attempt if it is due (committed); False if it is not (delivered,
    failed, not yet due, or another worker has it)."""
    result = db.session.execute(
        update(OutboundDelivery)
        .where(OutboundDelivery.id == delivery_id, _due(at))
        .values(state="sending", claimed_until=at + timedelta(seconds=CLAIM_SECONDS),
                attempts=OutboundDelivery.attempts + 1, last_attempt_at=at)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def headers_for(delivery: OutboundDelivery, account: Account, secrets: list[str], timestamp: int) -> dict:
    """The request's headers, named after Shopify's (X-Shopify-Topic, X-Shopify-Webhook-Id,
    X-Shopify-Triggered-At, X-Shopify-Shop-Domain: shopify.dev/docs/apps/build/webhooks/subscribe/https),
    with our signature scheme instead of theirs (app/outbound/signing.py)."""
    return {
        "X-Boomerang-Topic": delivery.topic,
        "X-Boomerang-Event-Id": delivery.event_id,
        "X-Boomerang-Timestamp": str(timestamp),
        "X-Boomerang-Signature": signing.signature_header(secrets, timestamp, delivery.body.encode()),
        "X-Boomerang-Shop-Domain": account.shop_domain or "",
        "X-Boomerang-Attempt": str(delivery.attempts),
    }


def deliver(delivery_id: int) -> str:
    """One attempt at a delivery, if it is due; safe to run twice. Returns the row's state after
    ("delivered", "pending" for a retry, "failed"), or "not due" when there was nothing to claim."""
    at = now()
    if not claim(delivery_id, at):
        return "not due"
    delivery = db.session.get(OutboundDelivery, delivery_id)
    endpoint = db.session.get(OutboundEndpoint, delivery.endpoint_id)
    account = db.session.get(Account, delivery.account_id)
    if not endpoint.enabled:
        outcome = http.Outcome(None, "", "The endpoint is disabled; not sent.", 0)
        return _record(delivery, outcome, at, final=True)
    try:
        target = addresses.vet(delivery.url, allow_loopback=allow_loopback())
    except addresses.AddressRefused as refusal:
        return _record(delivery, http.Outcome(None, "", f"Not sent: {refusal}", 0), at)
    secrets = secrets_in_force(endpoint, at)
    db.session.commit()  # nothing held open while the receiver answers
    config = current_app.config
    outcome = http.post(target, delivery.body.encode(), headers_for(delivery, account, secrets, int(at.timestamp())),
                        connect_timeout=config.get("OUTBOUND_WEBHOOKS_CONNECT_TIMEOUT", http.CONNECT_TIMEOUT),
                        total_timeout=config.get("OUTBOUND_WEBHOOKS_TOTAL_TIMEOUT", http.TOTAL_TIMEOUT))
    return _record(db.session.get(OutboundDelivery, delivery_id), outcome, at)


def _record(delivery: OutboundDelivery, outcome: http.Outcome, at: datetime, final: bool = False) -> str:
    """Write an attempt's outcome and what comes next (committed)."""
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    delivery.last_response = outcome.excerpt or None
    delivery.last_duration_ms = outcome.duration_ms
    log = list(delivery.attempt_log or [])
    log.append({"at": at.isoformat(), "status": outcome.status_code, "error": outcome.error, "ms": outcome.duration_ms})
    delivery.attempt_log = log[-LOG_ATTEMPTS:]
    delivery.claimed_until = None
    if outcome.delivered:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = "delivered", at, None
    else:
        delay = None if final else retry_delay(delivery.attempts)
        if delay is None:
            delivery.state, delivery.next_attempt_at = "failed", None
        else:
            delivery.state, delivery.next_attempt_at = "pending", at + delay
    db.session.commit()
    return delivery.state


def send_again(delivery: OutboundDelivery) -> None:
    """A new round of attempts of the same event (same id, same body), from now (committed, then
    queued). A delivery being sent right now is left to finish."""
    if delivery.state == "sending":
        return
    delivery.state, delivery.attempts, delivery.next_attempt_at = "pending", 0, now()
    delivery.claimed_until = None
    db.session.commit()
    queue_sends([(delivery.id, _mark(delivery))])


def sweep_due(limit: int = SWEEP_BATCH) -> int:
    """Queue every delivery that is due (a retry's time has come, an enqueue was lost, a worker died
    mid-send); how many were queued. The periodic sweeper's work."""
    at = now()
    rows = db.session.scalars(select(OutboundDelivery).where(_due(at))
                              .order_by(OutboundDelivery.next_attempt_at).limit(limit)).all()
    due = [(row.id, _mark(row)) for row in rows]
    db.session.rollback()
    queue_sends(due)
    return len(due)


def purge_old(limit: int = 5000) -> int:
    """Delete delivered and failed deliveries older than KEEP_DAYS (committed); how many. Pending
    ones stay whatever their age: they are still owed."""
    cutoff = now() - timedelta(days=KEEP_DAYS)
    ids = select(OutboundDelivery.id).where(OutboundDelivery.state.in_(("delivered", "failed")),
                                            OutboundDelivery.created_at < cutoff).limit(limit)
    deleted = db.session.execute(delete(OutboundDelivery).where(OutboundDelivery.id.in_(ids.scalar_subquery()))
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return deleted


def _mark(delivery: OutboundDelivery) -> str:
    """Which attempt is due: its number and when (a lapsed claim by when the claim lapsed)."""
    when = delivery.claimed_until if delivery.state == "sending" else delivery.next_attempt_at
    return f"{delivery.attempts}-{int(when.timestamp()) if when else 0}"

"""Deliveries whose work failed: the error recorded, dead after a stated number of attempts,
listed for admins and made live again on request.

A delivery is *dead* when it is still unprocessed after ``WEBHOOK_MAX_ATTEMPTS`` attempts (5 by
default): the job stops retrying, the sweeper stops queueing it, and the Dead deliveries page
lists it with its last error. Each attempt is counted before its work starts (a worker killed
midway still counts it), so a delivery cannot be tried for ever. With the processing job's
retries (10 s, 1, 5 and 15 minutes) the last attempt runs about 21 minutes after the delivery
arrived; a job lost with Redis is queued again by the sweeper every 2 minutes, so either way a
delivery ends processed or dead within 30 minutes while the workers run.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import contains_eager

from app.extensions import db, is_database_busy
from app.models import PendingDelivery, WebhookDelivery
from app.queue import enqueue
from app.text import clean_text

log = logging.getLogger(__name__)

# ``last_error`` is bounded: an exception may quote a whole hostile body.
LAST_ERROR_CHARS = 1000
PAGE_SIZE = 100


class Undeliverable(Exception):
    """A delivery no attempt can process (an order body that names no order): dead at once."""


def max_attempts() -> int:
    """How many attempts a delivery gets before it is dead (the WEBHOOK_MAX_ATTEMPTS setting)."""
    return max(1, int(current_app.config["WEBHOOK_MAX_ATTEMPTS"]))


def is_dead() -> ColumnElement[bool]:
    """The SQL condition of a dead delivery, on its pending row: its attempts used up."""
    return PendingDelivery.attempts >= max_attempts()


def describe(error: BaseException) -> str:
    """The error as ``last_error`` holds it: its kind and message, bounded and storable."""
    text = f"{type(error).__name__}: {error}"
    return clean_text(text)[:LAST_ERROR_CHARS]


def record_failure(delivery_id: int, error: BaseException) -> bool:
    """Record a failed attempt's error on the delivery (committed); True when the delivery is
    now dead (no attempt left, or ``Undeliverable``). The caller has rolled back the attempt's work.

    An attempt that met a busy database (SQLite's lock, held by another writer) is given back:
    the delivery was not at fault, and a burst of writers must never make a delivery dead."""
    values = {"last_error": describe(error)}
    if is_database_busy(error):
        values["attempts"] = case((PendingDelivery.attempts > 0, PendingDelivery.attempts - 1), else_=0)
    elif isinstance(error, Undeliverable):
        most = max_attempts()
        values["attempts"] = case((PendingDelivery.attempts < most, most), else_=PendingDelivery.attempts)
    db.session.execute(update(PendingDelivery).where(PendingDelivery.delivery_id == delivery_id)
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    attempts = db.session.scalar(select(PendingDelivery.attempts).where(PendingDelivery.delivery_id == delivery_id))
    return attempts is not None and attempts >= max_attempts()


def deliveries_to_sweep(limit: int = 1000) -> list[tuple[int, int]]:
    """(id, attempts) of the deliveries still unprocessed WEBHOOK_SWEEP_AFTER_SECONDS after they
    arrived (Redis or a worker was down, or a retry was lost), unless dead: what the sweeper queues
    again, oldest first."""
    cutoff = datetime.now(timezone.utc) - timedelta(seconds=current_app.config["WEBHOOK_SWEEP_AFTER_SECONDS"])
    return [tuple(row) for row in db.session.execute(
        select(PendingDelivery.delivery_id, PendingDelivery.attempts).join(PendingDelivery.delivery).where(
            WebhookDelivery.received_at < cutoff, PendingDelivery.attempts < max_attempts())
        .order_by(PendingDelivery.delivery_id).limit(limit)
    ).all()]


def dead_deliveries(account_id: int, limit: int = PAGE_SIZE) -> list[PendingDelivery]:
    """The account's dead deliveries (their pending rows, each with its `delivery`), newest first."""
    return list(db.session.scalars(
        select(PendingDelivery).join(PendingDelivery.delivery).options(contains_eager(PendingDelivery.delivery))
        .where(WebhookDelivery.account_id == account_id, is_dead())
        .order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc()).limit(limit)))


def count_dead(account_id: int) -> int:
    """How many of the account's deliveries are dead."""
    return db.session.scalar(select(func.count()).select_from(PendingDelivery).join(PendingDelivery.delivery).where(
        WebhookDelivery.account_id == account_id, is_dead())) or 0


def retry_dead(account_id: int, delivery_id: int | None = None) -> int:
    """Make the account's dead deliveries (or the one given) live again: their attempts start
    afresh and each is queued. Returns how many. Safe to repeat: a delivery retried already is
    not dead, and processing a delivery twice changes nothing."""
    query = (select(PendingDelivery.delivery_id).join(PendingDelivery.delivery)
             .where(WebhookDelivery.account_id == account_id, is_dead()))
    if delivery_id is not None:
        query = query.where(PendingDelivery.delivery_id == delivery_id)
    ids = list(db.session.scalars(query.order_by(PendingDelivery.delivery_id)))
    if not ids:
        return 0
    db.session.execute(update(PendingDelivery).where(PendingDelivery.delivery_id.in_(ids))
                       .values(attempts=0).execution_options(synchronize_session=False))
    db.session.commit()
    for dead_id in ids:
        try:
            # No fixed job id: RQ would refuse the id of the attempt that failed before.
            enqueue("jobs.intake.process_webhook_delivery_job", dead_id)
        except Exception:  # Redis down: live again, the sweeper queues it
            log.warning("could not queue delivery %s; the sweeper will", dead_id, exc_info=True)
    return len(ids)

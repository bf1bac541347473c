"""Order intake jobs: process a webhook delivery or a batch of them; confirm stored orders from the
Admin API; sweep up deliveries nobody processed."""
import time
import uuid

from app.extensions import db
from app.queue import enqueue, job
from app.services.dead_deliveries import deliveries_to_sweep
from app.services.deliveries import process_delivery
from app.services.delivery_batches import process_batch
from app.services.order_confirm import confirm_pending


@job
def process_webhook_delivery_job(delivery_id: int) -> str:
    """Do the work of one stored delivery (fetch and store the order, …); safe to repeat. Its
    error is recorded on the delivery; after WEBHOOK_MAX_ATTEMPTS attempts it is dead, not retried."""
    return process_delivery(delivery_id)


@job
def sweep_unprocessed_deliveries_job() -> int:
    """Re-enqueue deliveries still unprocessed a few minutes after they arrived (Redis or a
    worker was down, or a retry was lost), unless dead (their attempts used up: listed for admins
    instead, see app.services.dead_deliveries). Returns how many were re-enqueued."""
    rows = deliveries_to_sweep()
    db.session.remove()  # hold no transaction while the jobs run
    for delivery_id, attempts in rows:
        # RQ keeps a finished or failed job's id for a while and refuses it again, so the id
        # names the attempt: a retry after a failure is new, two sweeps of one attempt are not.
        enqueue("jobs.intake.process_webhook_delivery_job", delivery_id, job_id=f"sweep-{delivery_id}-{attempts}")
    return len(rows)


@job
def process_delivery_batch_job(delivery_ids: list[int]) -> dict:
    """A dispatcher's batch of stored deliveries (one shop's); safe to repeat. Not retried:
    what it leaves unprocessed the sweeper queues again."""
    return process_batch(delivery_ids)


@job
def confirm_orders_job(account_id: int) -> str:
    """Confirm a shop's stored orders from the Admin API; when its time is up with orders still
    waiting, it queues its successor (a chain, each under the job timeout)."""
    result = confirm_pending(account_id, uuid.uuid4().hex)
    if result is None:
        return "another confirmer holds the shop"
    if result.more:
        enqueue("jobs.intake.confirm_orders_job", account_id, job_id=f"confirm-{account_id}-{int(time.time())}")
    if result.failed:
        raise RuntimeError(f"confirming stopped: {result.failed}")  # RQ retries; the orders stay listed
    return (f"{result.confirmed} confirmed, {result.corrected} corrected, {result.missing} missing;"
            f" {result.points:.0f} points in {result.queries} queries, {result.throttled} throttled")

"""Dispatching stored deliveries to batch jobs (with RQ; in-process jobs need no dispatcher).

Intake only commits the delivery row and its pending row: the rows are the record, and no Redis
call holds the webhook's 200. A dispatcher (a thread of each `flask jobs worker`,
app/queue/worker_threads.py) claims new pending rows every fraction of a second and queues them
as batch jobs, one shop per batch. Two dispatchers never claim one row: the claim is a
conditional UPDATE (`dispatched_at IS NULL`), with the rows another claim holds skipped
(PostgreSQL) or waited for (SQLite). A claimed batch that never ran (Redis refused it) is
released at once; one that died in a worker is left to the sweeper (jobs/intake.py), which
queues every delivery still unprocessed after a while.

One claim at a time: a pass claims nothing while the last claim's deliveries are still being
processed (for up to DISPATCH_CLAIM_LEASE_SECONDS); what arrives meanwhile joins the next claim.
At a rate one worker keeps up with — a flash sale's 100 orders a second take it about 0.4 of a
core, worker and database together (bench/flash_sale.py) — a shop's batches then run one after
another instead of on every worker at once, which left no core free for the web server at
moments, and fuller batches cost less per order (3.9 ms of CPU against 4.6 ms, medians of the
benchmark's runs). A claim bigger than one batch (a backlog after an outage) still goes to
every worker at once.
"""
import logging
from datetime import datetime, timedelta, timezone
from itertools import groupby

from flask import current_app
from sqlalchemy import exists, func, select, update

from app.extensions import db
from app.models import PendingDelivery, WebhookDelivery
from app.queue import SPECS, enqueue, waiting
from app.services.dead_deliveries import max_attempts
from app.services.intake import redo_if_lost

log = logging.getLogger(__name__)

BATCH_JOB = "jobs.intake.process_delivery_batch_job"
BATCH_QUEUE = SPECS[BATCH_JOB].queue
CLAIM_LIMIT = 1000  # rows looked at per pass: ten batches of the default size
# Held by the dispatcher making a claim (PostgreSQL), so two never claim at the same moment.
CLAIM_LOCK_KEY = 0x626F6F6D  # "boom"


def claim_undispatched(limit: int = CLAIM_LIMIT) -> list[tuple[int, int | None]]:
    """Claim up to `limit` deliveries nobody dispatched yet; returns (delivery id, account id)
    pairs in arrival order, committed. A row another dispatcher claimed first is not returned.

    One statement, so the claim is a write from its start: PostgreSQL skips rows another claim
    has locked and re-checks `dispatched_at IS NULL` on any it waited for; SQLite takes its write
    lock before reading (a read that turns into a write could not wait for another writer)."""
    redo_if_lost()  # a claim lost in a crash is made again by the next pass
    # A dead delivery (its attempts used up) waits for an admin's retry, not for a batch.
    candidates = (select(PendingDelivery.delivery_id)
                  .where(PendingDelivery.dispatched_at.is_(None), PendingDelivery.attempts < max_attempts())
                  .order_by(PendingDelivery.delivery_id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE, not `IN (subquery)`: PostgreSQL may run a locking subquery again for each row it
    # scans, each run skipping what the last one locked, so the LIMIT would not hold; a CTE with
    # FOR UPDATE is run once.
    claimable = candidates.cte("claimable")
    claimed = db.session.scalars(
        update(PendingDelivery)
        .where(PendingDelivery.delivery_id.in_(select(claimable.c.delivery_id)),
               PendingDelivery.dispatched_at.is_(None))
        .values(dispatched_at=datetime.now(timezone.utc))
        .returning(PendingDelivery.delivery_id)
        .execution_options(synchronize_session=False)
    ).all()
    # Each delivery's shop, for the batches (SQLite's RETURNING cannot name a joined table).
    shops = db.session.execute(select(WebhookDelivery.id, WebhookDelivery.account_id)
                               .where(WebhookDelivery.id.in_(claimed))).all() if claimed else []
    db.session.commit()
    return sorted((row[0], row[1]) for row in shops)


def claim_in_flight() -> bool:
    """Whether a claim made less than DISPATCH_CLAIM_LEASE_SECONDS ago still has deliveries on
    their first attempt: its batches are queued or running. A delivery that failed (attempts
    counted) belongs to the retries and the sweeper, not to the claim, and a claim that outlives
    its lease (a batch killed with its worker) holds nothing back: the sweeper takes it."""
    cutoff = datetime.now(timezone.utc) - timedelta(seconds=current_app.config["DISPATCH_CLAIM_LEASE_SECONDS"])
    return bool(db.session.scalar(select(exists().where(
        PendingDelivery.dispatched_at > cutoff, PendingDelivery.attempts == 0))))


def _claim_turn() -> bool:
    """Whether this pass may claim: no other dispatcher is claiming (PostgreSQL: a transaction
    lock, released by the claim's commit) and the last claim is processed. On False the
    transaction is ended."""
    on_postgres = db.session.get_bind().dialect.name == "postgresql"
    if on_postgres and not db.session.scalar(select(func.pg_try_advisory_xact_lock(CLAIM_LOCK_KEY))):
        db.session.rollback()
        return False
    if claim_in_flight():
        db.session.rollback()
        return False
    if not on_postgres:
        # SQLite: the claim must begin as a write (a read transaction that turns into a write
        # cannot wait for another writer), so the look above ends here.
        db.session.rollback()
    return True


def release(delivery_ids: list[int]) -> None:
    """Give claimed deliveries back (their batch could not be queued): the next pass retries."""
    db.session.execute(
        update(PendingDelivery).where(PendingDelivery.delivery_id.in_(delivery_ids))
        .values(dispatched_at=None).execution_options(synchronize_session=False))
    db.session.commit()


def batches(claimed: list[tuple[int, int | None]], size: int) -> list[list[int]]:
    """The claimed ids grouped by shop, in arrival order, cut into batches of at most `size`."""
    out = []
    by_account = sorted(claimed, key=lambda pair: (pair[1] or 0, pair[0]))
    for _account, rows in groupby(by_account, key=lambda pair: pair[1] or 0):
        ids = [delivery_id for delivery_id, _ in rows]
        out.extend(ids[start:start + size] for start in range(0, len(ids), size))
    return out


def dispatch_pending() -> int:
    """One pass: claim new deliveries and queue them in batches; returns how many were queued.
    A batch Redis refuses is released for the next pass (the rows wait, safe, meanwhile).

    While batches already wait for a worker, the pass claims nothing: what arrives meanwhile
    goes into the next, larger batch, so a busy worker gets fewer, fuller jobs instead of a
    growing queue of small ones (each costs a job's overhead). So does a pass that comes while
    the last claim is still being processed (`claim_in_flight`)."""
    size = max(1, current_app.config["DISPATCH_BATCH_SIZE"])
    if waiting(BATCH_QUEUE) >= current_app.config["DISPATCH_MAX_WAITING"] or not _claim_turn():
        return 0
    queued = 0
    for batch in batches(claim_undispatched(), size):
        try:
            # The ids name the batch (a fresh claim cannot be queued already: no uniqueness check).
            enqueue(BATCH_JOB, batch, job_id=f"batch-{batch[0]}-{batch[-1]}-{len(batch)}", unique=False)
        except Exception:  # Redis down: release, the next pass (or the sweeper) retries
            log.warning("could not queue a batch of %d deliveries; released for the next pass",
                        len(batch), exc_info=True)
            db.session.rollback()
            release(batch)
            continue
        queued += len(batch)
    return queued

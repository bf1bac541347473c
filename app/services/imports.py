"""The initial import of a store's recent orders: a bulk export first, paginated pages as the fallback.

An import is an ``ImportRun`` row that a job works on (``jobs.imports.run_import_job``). The job may run
twice, crash midway or be retried: orders are upserted (newest ``updatedAt`` wins, as in
``app.services.orders.upsert_order``) and committed in batches together with the progress, so a
re-run continues where the last committed batch ended and the orders table ends the same.

Speed: on PostgreSQL a batch is first loaded as if none of its orders were stored yet (the usual
case): ids drawn from the sequence, orders and lines written with COPY, in a SAVEPOINT. Only when
that meets a stored order does the batch cost one SELECT for what is stored already, a COPY (on
SQLite a multi-row INSERT) for the new orders and their lines; orders that are stored already and
changed are loaded as objects and updated through ``orders.apply_order``. A bulk
export's batches are read and mapped into COPY text by a thread one batch ahead of the writing
(``import_ahead.batches_ahead``), so that Python and PostgreSQL's backend work at the same time.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Iterable

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from app.domain.order_data import OrderData
from app.extensions import db
from app.models import Account, ImportRun, ImportStatus, Order
from app.queue import enqueue as enqueue_job
from app.queue.tuning import batch_work
from app.services.shopify_access import NotConnected, client_for, mark_disconnected
from app.shopify import errors as E
from app.shopify.bulk import (BulkOperation, get_bulk_operation, iter_bulk_orders,
                              start_bulk_orders, wait_for_bulk_operation)
from app.shopify.operations import iter_orders

log = logging.getLogger(__name__)

# Shopify shows only the last 60 days of orders to apps without read_all_orders.
SHOPIFY_ORDER_VISIBILITY_DAYS = 60
BULK_BATCH_SIZE = 2000
PAGINATED_BATCH_SIZE = 50
# A RUNNING run whose worker has not touched it for this long was abandoned (worker killed).
LEASE = timedelta(minutes=3)
# A failed run younger than this is continued by the next start instead of starting afresh.
RESUME_FAILED_WITHIN = timedelta(days=1)
REVOKED_REASON = "Shopify no longer accepts this store's access token. Reconnect the store."
_BULK_RUNNING = {"CREATED", "RUNNING"}
# Bulk failures that the paginated fallback can get around.
_FALLBACK_ERRORS = (E.BulkOperationError, E.BulkResultError, E.UserErrorsError, E.GraphQLErrors,
                    E.MissingScopeError)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def client_options() -> dict:
    """Attributes set on every client these services make (a seam: tests that run the sandbox on
    a virtual clock give the clients its ``sleep`` and ``monotonic``)."""
    return {}


def store_client(account: Account, **options):
    """The Admin API client the import, the webhook set-up and reconciliation use."""
    client = client_for(account, **options)
    for name, value in client_options().items():
        setattr(client, name, value)
    return client


from app.services.import_ahead import batches_ahead  # noqa: E402
from app.services.order_batches import upsert_graphql_orders, upsert_orders  # noqa: E402


# --- starting an import ---------------------------------------------------------------------------

def import_window(account: Account, now: datetime | None = None) -> tuple[datetime, str | None]:
    """Where the import starts, and why it is shorter than the setting when it is."""
    now = now or _utcnow()
    days = max(1, int(account.initial_import_days or 30))
    note = None
    if days > SHOPIFY_ORDER_VISIBILITY_DAYS and not account.has_scope("read_all_orders"):
        note = (f"Importing the last {SHOPIFY_ORDER_VISIBILITY_DAYS} days instead of {days}: without "
                f"the read_all_orders permission Shopify shows apps only the last "
                f"{SHOPIFY_ORDER_VISIBILITY_DAYS} days of orders.")
        days = SHOPIFY_ORDER_VISIBILITY_DAYS
    return now - timedelta(days=days), note


def latest_run(account_id: int) -> ImportRun | None:
    """The account's most recent import run."""
    return db.session.scalar(select(ImportRun).where(ImportRun.account_id == account_id)
                             .order_by(ImportRun.created_at.desc(), ImportRun.id.desc()).limit(1))


def start_import(account: Account, *, enqueue: bool = True, now: datetime | None = None) -> ImportRun:
    """Queue an import of the account's recent orders and return its run (committed).

    An unfinished run (queued, running, or failed within the last day) is continued rather than
    started again, so pressing the button twice or reconnecting does not import twice.
    """
    now = now or _utcnow()
    run = latest_run(account.id)
    reuse = run is not None and (
        run.status in (ImportStatus.QUEUED.value, ImportStatus.RUNNING.value)
        or (run.status == ImportStatus.FAILED.value and now - run.created_at < RESUME_FAILED_WITHIN))
    if not reuse:
        since, note = import_window(account, now)
        run = ImportRun(account_id=account.id, status=ImportStatus.QUEUED.value, since=since,
                        window_note=note, imported=0, created_at=now)
        db.session.add(run)
    if account.reconciled_until is None:
        # Orders changed after the import's start are the reconciliation's from here on.
        account.reconciled_until = now
    db.session.commit()
    if enqueue:
        # No fixed job id: RQ keeps a finished or failed job's id for its result/failure TTL and
        # would refuse a retry under the same id; two runs of one import are safe (``claim``).
        enqueue_job("jobs.imports.run_import_job", run.id)
    return run


# --- running an import ----------------------------------------------------------------------------

def claim(run_id: int, now: datetime | None = None) -> bool:
    """Take the run for this worker (one conditional UPDATE: only one worker wins). Queued and
    failed runs can be taken, and running ones whose worker went quiet."""
    now = now or _utcnow()
    result = db.session.execute(
        update(ImportRun)
        .where(ImportRun.id == run_id, or_(
            ImportRun.status.in_([ImportStatus.QUEUED.value, ImportStatus.FAILED.value]),
            and_(ImportRun.status == ImportStatus.RUNNING.value,
                 or_(ImportRun.heartbeat_at.is_(None), ImportRun.heartbeat_at < now - LEASE))))
        .values(status=ImportStatus.RUNNING.value, heartbeat_at=now, error=None, finished_at=None,
                started_at=func.coalesce(ImportRun.started_at, now))
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def run_import(run_id: int) -> str:
    """Do (or continue) one import run; returns its final status. Safe to run twice."""
    if not claim(run_id):
        run = db.session.get(ImportRun, run_id)
        return "missing" if run is None else f"not claimed ({run.status})"
    run = db.session.get(ImportRun, run_id)
    account = db.session.get(Account, run.account_id)
    try:
        client = store_client(account)
        if run.method in (None, "bulk"):
            try:
                _run_bulk(run, account, client)
            except _FALLBACK_ERRORS as error:
                db.session.rollback()
                log.warning("bulk import of run %s failed (%s); falling back to pages", run.id, error)
                run.method, run.imported, run.resume_from = "paginated", 0, None
                _heartbeat(run)
                db.session.commit()
                _run_paginated(run, account, client)
        else:
            _run_paginated(run, account, client)
    except NotConnected as error:
        return _fail(run, str(error))
    except E.RevokedTokenError:
        db.session.rollback()
        mark_disconnected(account, REVOKED_REASON)
        db.session.commit()
        return _fail(run, REVOKED_REASON)
    except Exception as error:  # recorded for the progress bar, then retried
        _fail(run, describe_error(error))
        raise
    run.status, run.finished_at = ImportStatus.COMPLETED.value, _utcnow()
    run.heartbeat_at = run.finished_at
    _learn_protected_data(account, run)
    db.session.commit()
    return run.status


def _fail(run: ImportRun, message: str) -> str:
    db.session.rollback()
    run.status, run.error, run.finished_at = ImportStatus.FAILED.value, message, _utcnow()
    db.session.commit()
    return run.status


def _heartbeat(run: ImportRun) -> None:
    run.heartbeat_at = _utcnow()


def _run_bulk(run: ImportRun, account: Account, client) -> None:
    op: BulkOperation | None = None
    if run.bulk_operation_id:
        try:
            op = get_bulk_operation(client, run.bulk_operation_id)
        except E.BulkOperationError:
            op = None
        if op is not None and op.status not in _BULK_RUNNING | {"COMPLETED"}:
            op = None  # failed, cancelled or expired: export again
    if op is None:
        op = start_bulk_orders(client, created_at_min=run.since)
        run.method, run.bulk_operation_id, run.imported, run.total = "bulk", op.id, 0, None
        _heartbeat(run)
        db.session.commit()

    def on_progress(current: BulkOperation) -> None:
        _heartbeat(run)
        db.session.commit()

    op = wait_for_bulk_operation(client, op.id, on_progress=on_progress,
                                 poll_interval=current_app.config["IMPORT_BULK_POLL_SECONDS"])
    run.total = _root_count(client, op)
    db.session.commit()
    import_bulk_nodes(run, account, iter_bulk_orders(client, op))


def import_bulk_nodes(run: ImportRun, account: Account, nodes: Iterable[dict]) -> None:
    """Write a bulk export's order nodes in batches, each committed with the run's progress.

    The first ``run.imported`` nodes were committed by an earlier attempt at this same export and
    are passed over; nodes that cannot be read count as done (looked at and skipped).
    """
    lean = db.session.get_bind().dialect.name == "postgresql"
    account_id = account.id  # read once: each commit expires the object, a reload per batch
    # In a worker process the collector is paused and the switch interval short meanwhile
    # (app/queue/tuning.py); in the web process nothing process-wide changes.
    with batch_work() as tuned:
        # Read and mapped a batch ahead by a thread while this one writes (see batches_ahead).
        with batches_ahead(nodes, BULK_BATCH_SIZE, account_id, skip=run.imported,
                           lean=lean) as batches:
            for batch in batches:
                _commit_nodes(run, account_id, batch)
                tuned.after_batch()
        _commit_nodes(run, account_id, [])


def _commit_nodes(run: ImportRun, account_id: int, nodes: list[dict]) -> None:
    if nodes:
        counts, unreadable = upsert_graphql_orders(account_id, nodes)
        _note_skipped(run, counts, unreadable)
        run.imported += len(nodes)
    _heartbeat(run)
    db.session.commit()


def _root_count(client, op: BulkOperation) -> int | None:
    """How many orders the export holds (Shopify's rootObjectCount), or None when unknown."""
    if not op.url:
        return 0
    try:
        node = client.run("bulk_operation", {"id": op.id}).get("bulkOperation") or {}
        return int(node.get("rootObjectCount"))
    except (E.ShopifyError, TypeError, ValueError):
        return None


def _run_paginated(run: ImportRun, account: Account, client) -> None:
    resumed_at = run.resume_from
    batch: list[OrderData] = []
    for data in iter_orders(client, created_at_min=resumed_at or run.since):
        batch.append(data)
        if len(batch) >= PAGINATED_BATCH_SIZE:
            _commit_batch(run, account, batch, resumed_at=resumed_at, paginated=True)
            batch = []
    _commit_batch(run, account, batch, resumed_at=resumed_at, paginated=True)


def _commit_batch(run: ImportRun, account: Account, batch: list[OrderData], *,
                  resumed_at: datetime | None = None, paginated: bool = False) -> None:
    """Write one batch of pages and the progress that goes with it, in one commit."""
    if batch:
        _note_skipped(run, upsert_orders(account.id, batch))
        if resumed_at is not None:
            # Orders created exactly at the resume point were counted by the earlier attempt.
            run.imported += sum(1 for data in batch if data.created_at > resumed_at)
        else:
            run.imported += len(batch)
        if paginated:
            run.resume_from = max(data.created_at for data in batch)
    _heartbeat(run)
    db.session.commit()


def _note_skipped(run: ImportRun, counts, unreadable: int = 0) -> None:
    """Say on the run which orders of a batch were left out (the rest were stored): those the
    database refused, by name, and how many could not be read (each named in the log)."""
    skipped = [f"{name} ({error})" for name, error in getattr(counts, "skipped", ())]
    if unreadable:
        skipped.append(f"{unreadable} that could not be read (named in the log)")
    if skipped:
        named = "; ".join(skipped)
        note = run.error or "Orders that could not be stored were skipped (the others were imported): "
        run.error = (note + ("; " if run.error else "") + named)[:2000]


def _learn_protected_data(account: Account, run: ImportRun) -> None:
    """When connecting could not tell (no orders then), the imported orders tell."""
    if account.protected_data_readable is not None:
        return
    recent = db.session.execute(
        select(Order.email, Order.customer_name).where(Order.account_id == account.id,
                                                       Order.created_at >= run.since)
        .order_by(Order.created_at.desc()).limit(20)).all()
    if recent:
        account.protected_data_readable = any(email or name for email, name in recent)


# --- words for people -----------------------------------------------------------------------------

def describe_error(error: BaseException) -> str:
    """A sentence a retailer can act on, for any error an import or a connect check meets."""
    if isinstance(error, E.RevokedTokenError):
        return "Shopify did not accept the access token (it is wrong, expired or was revoked)."
    if isinstance(error, E.MissingScopeError):
        scope = f" ({error.scope})" if error.scope else ""
        return f"The app is missing a permission{scope} Shopify requires for this."
    if isinstance(error, E.ShopUnavailableError):
        return "The store is frozen or locked in Shopify; try again once it is active."
    if isinstance(error, E.ShopifyTimeoutError):
        return "Shopify did not answer in time. Try again in a minute."
    if isinstance(error, E.ShopifyConnectionError):
        return "Shopify could not be reached. Check the store address and try again."
    if isinstance(error, E.ThrottledError):
        return "Shopify asked us to slow down; the import will continue shortly."
    if isinstance(error, E.ShopifyError):
        return f"Shopify answered with an error: {str(error)[:300]}"
    return f"Unexpected error: {type(error).__name__}"


def progress(run: ImportRun | None) -> dict | None:
    """What the progress bar shows for a run."""
    if run is None:
        return None
    total = run.total
    percent = None
    if total:
        percent = min(100, round(100 * run.imported / total))
    elif run.status == ImportStatus.COMPLETED.value:
        percent = 100
    if run.status == ImportStatus.QUEUED.value:
        phase = "Waiting to start"
    elif run.status == ImportStatus.RUNNING.value:
        if run.method == "bulk" and total is None:
            phase = "Shopify is preparing the export"
        elif run.method == "paginated":
            phase = "Importing page by page"
        else:
            phase = "Importing"
    elif run.status == ImportStatus.COMPLETED.value:
        phase = "Finished"
    else:
        phase = "Stopped"
    return {"run": run, "total": total, "imported": run.imported, "percent": percent,
            "phase": phase, "finished": run.finished}


def recent_orders_count(account_id: int, since: datetime) -> int:
    """Orders stored for the account created at or after ``since``."""
    return db.session.scalar(select(func.count()).select_from(Order).where(
        Order.account_id == account_id, Order.created_at >= since))


def chunks(items: Iterable, size: int):
    """Lists of at most ``size`` items."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

"""Reconciliation: a periodic sweep of orders updated since the last one, per connected store."""
import time

from app.queue import enqueue, job
from app.services import parcel_fill, reconcile


@job
def reconcile_all_accounts_job() -> int:
    """Every few minutes: fan out one reconciliation per connected account."""
    account_ids = reconcile.connected_account_ids()
    # One job per account per 10-minute slot: a second fan-out in the same slot adds nothing, and
    # a failed job (kept by RQ under its id) cannot block the next slot's.
    slot = int(time.time()) // 600
    for account_id in account_ids:
        enqueue("jobs.reconcile.reconcile_account_job", account_id, job_id=f"reconcile-{account_id}-{slot}")
    return len(account_ids)


@job
def fill_parcels_all_accounts_job() -> int:
    """Hourly: fan out one parcel fill per connected account (nothing to do once all are read)."""
    account_ids = reconcile.connected_account_ids()
    slot = int(time.time()) // 3600
    for account_id in account_ids:
        enqueue("jobs.reconcile.fill_account_parcels_job", account_id, job_id=f"fill-parcels-{account_id}-{slot}")
    return len(account_ids)


@job
def fill_account_parcels_job(account_id: int) -> dict:
    """Read the parcels stored orders of one account lack; safe to run twice."""
    return parcel_fill.fill_account(account_id)


@job
def reconcile_account_job(account_id: int) -> dict:
    """Upsert one account's orders updated since its last sweep; safe to run twice."""
    return reconcile.reconcile_account(account_id)

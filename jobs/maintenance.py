"""Periodic housekeeping jobs."""
from datetime import date

from app.queue import enqueue, job
from app.services.photos import sweep_pending
from app.services.retention import accounts_to_purge, purge_expired_orders


@job
def purge_all_expired_orders_job() -> int:
    """Daily: fan out one purge per account (each account's purge is its own job)."""
    account_ids = accounts_to_purge()
    today = date.today().isoformat()
    for account_id in account_ids:
        # One purge per account per day; RQ refuses an id it still remembers (even failed).
        enqueue("jobs.maintenance.purge_account_orders_job", account_id, job_id=f"purge-{account_id}-{today}")
    return len(account_ids)


@job
def purge_account_orders_job(account_id: int) -> int:
    """Delete one account's orders past retention; safe to run twice."""
    return purge_expired_orders(account_id)


@job
def sweep_pending_photos_job() -> int:
    """Hourly: delete portal photos never sent with a return (older than PHOTO_PENDING_HOURS)."""
    return sweep_pending()

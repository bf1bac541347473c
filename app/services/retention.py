"""Order retention: orders older than the account's storage setting, and their photos, are deleted in
small batches."""
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from app.extensions import db
from app.models import Account, Order, ReturnPhoto
from app.services.photos import delete_photos

PURGE_BATCH_SIZE = 500
# After each batch the purge rests for this share of the batch's own time (at most a second).
# A daily purge has all day; resting as long as it works leaves the CPU it would take to the
# intake beside it (on 2 cores, a full-speed purge raised intake p99 by half; resting, by a fifth).
PURGE_REST_RATIO = 1.0


def accounts_to_purge() -> list[int]:
    """Every account's id: each keeps orders for its own storage setting."""
    return list(db.session.scalars(select(Account.id).order_by(Account.id)))


def retention_cutoff(storage_months: int, now: datetime) -> datetime:
    """Orders created before this moment are past retention (a month counted as 30 days)."""
    return now - timedelta(days=30 * storage_months)


def purge_expired_orders(account_id: int, now: datetime | None = None, batch_size: int = PURGE_BATCH_SIZE,
                         rest_ratio: float = PURGE_REST_RATIO, sleep=time.sleep) -> int:
    """Delete one account's expired orders, committing after each batch so no lock is held long,
    and resting `rest_ratio` × the batch's time between batches.

    Returns how many orders were deleted; running it again right after deletes nothing.
    Returns keep their own snapshots (their order_id becomes NULL), so no return breaks; the
    photos shoppers took for those orders (attached to returns or not) are personal data kept
    no longer than the order, so they go with it, stored objects first.
    """
    account = db.session.get(Account, account_id)
    if account is None:
        return 0
    cutoff = retention_cutoff(account.order_storage_months, now or datetime.now(timezone.utc))
    deleted = 0
    while True:
        started = time.perf_counter()
        ids = db.session.scalars(
            select(Order.id).where(Order.account_id == account_id, Order.created_at < cutoff)
            .order_by(Order.id).limit(batch_size)
        ).all()
        if not ids:
            return deleted
        delete_photos(ReturnPhoto.account_id == account_id, ReturnPhoto.order_id.in_(ids))
        db.session.execute(delete(Order).where(Order.id.in_(ids)))
        db.session.commit()
        deleted += len(ids)
        if len(ids) == batch_size and rest_ratio > 0:  # a short batch was the last one
            sleep(min((time.perf_counter() - started) * rest_ratio, 1.0))

"""Jobs that exist only for the job-queue tests (RQ imports them by name)."""
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Account
from app.queue import job


@job(queue="default", timeout=30, retry_intervals=(0, 0))
def always_fails(counter_key: str) -> None:
    """Counts its attempts in Redis, then fails."""
    current_app.extensions["jobs"].connection.incr(counter_key)
    raise RuntimeError("this job always fails")


@job(queue="default", timeout=30, retry_intervals=())
def rename_account(account_id: int, name: str) -> None:
    """Writes through its own session: proves a job gets a fresh app context."""
    account = db.session.scalar(select(Account).where(Account.id == account_id))
    account.name = name
    db.session.commit()


TRIES: dict[str, list[float]] = {}  # in-process job tests: when each named job was tried


@job(queue="default", timeout=30, retry_intervals=(10, 60))
def fails_until(name: str, failures: int) -> None:
    """Fails its first `failures` tries, then succeeds (in-process retry tests)."""
    import time

    TRIES.setdefault(name, []).append(time.monotonic())
    if len(TRIES[name]) <= failures:
        raise RuntimeError(f"try {len(TRIES[name])} of {name} fails")


@job(queue="default", timeout=30, retry_intervals=())
def rename_after_another_writer(account_id: int, name: str, database_url: str) -> None:
    """Reads the account, lets another connection commit a write (the first time only), then
    writes: SQLite refuses that write, the job's snapshot being older than the database."""
    from sqlalchemy import create_engine, text

    TRIES.setdefault("rename", []).append(0)
    account = db.session.scalar(select(Account).where(Account.id == account_id))
    if len(TRIES["rename"]) == 1:
        other = create_engine(database_url)
        with other.begin() as conn:
            conn.execute(text("UPDATE accounts SET return_window_days = 31 WHERE id = :id"), {"id": account_id})
        other.dispose()
    account.name = name
    db.session.commit()

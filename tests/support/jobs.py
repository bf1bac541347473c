"""Jobs that exist only for the job-queue tests (RQ imports them by name)."""
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Account
from jobs.queue import job


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

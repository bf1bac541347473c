"""The periodic jobs, declared once by name: RQ's cron scheduler (``flask jobs cron``, or
``rq cron app.queue.cron``) registers them in production, and a small in-process timer runs them
in the embedded default. Each name is resolved to its function of ``jobs/`` only when it runs."""
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from croniter import croniter
from flask import Flask

from app.queue.backends import NamedJob, resolve_job, run_safely
from app.queue.specs import SPECS


@dataclass(frozen=True)
class Periodic:
    """A job (its dotted name, declared in ``SPECS``) and when it runs (a cron string, UTC)."""

    job: str
    cron: str
    sweep: bool = False  # a sweep: runs every SWEEP_INTERVAL_SECONDS instead when that is set

    def cron_options(self, sweep_interval: int | None = None) -> dict:
        """The keyword arguments of RQ's cron `register` for this job (its function imported now:
        RQ's cron wants the function)."""
        spec = SPECS[self.job]
        when = {"interval": sweep_interval} if self.sweep and sweep_interval else {"cron": self.cron}
        return {"func": resolve_job(self.job), "queue_name": spec.queue, "job_timeout": spec.timeout, **when}


PERIODIC = [
    Periodic("jobs.maintenance.purge_all_expired_orders_job", "17 3 * * *"),
    Periodic("jobs.maintenance.sweep_pending_photos_job", "23 * * * *"),
    Periodic("jobs.intake.sweep_unprocessed_deliveries_job", "*/2 * * * *", sweep=True),
    Periodic("jobs.reconcile.reconcile_all_accounts_job", "*/10 * * * *"),
    Periodic("jobs.reconcile.fill_parcels_all_accounts_job", "41 * * * *"),
    Periodic("jobs.actions.sweep_issuing_job", "*/2 * * * *", sweep=True),
    Periodic("jobs.shopify_returns.sweep_shopify_returns_job", "*/2 * * * *", sweep=True),
    Periodic("jobs.rules.sweep_rules_returns_job", "*/2 * * * *", sweep=True),
    Periodic("jobs.labels.sweep_labels_job", "*/2 * * * *", sweep=True),
    Periodic("jobs.shopify_returns.follow_refunds_job", "*/15 * * * *"),
    # Outbound webhooks: retries fall due on the minute (the shortest pause is 1 minute).
    Periodic("jobs.outbound.sweep_outbound_deliveries_job", "* * * * *"),
]


class InProcessScheduler(threading.Thread):
    """Runs PERIODIC in this process, for the embedded default (no Redis, no scheduler process)."""

    def __init__(self, app: Flask, periodic=PERIODIC, tick_seconds: float = 15):
        super().__init__(name="boomerang-scheduler", daemon=True)
        self.app = app
        self.periodic = list(periodic)
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        now = datetime.now(timezone.utc)
        self._next = {p: croniter(p.cron, now).get_next(datetime) for p in self.periodic}

    def run_due(self, now: datetime) -> list:
        """Run every job whose time has come; returns those that ran."""
        ran = []
        for periodic, due in self._next.items():
            if now >= due:
                run_safely(self.app, NamedJob(SPECS[periodic.job]), ())
                self._next[periodic] = croniter(periodic.cron, now).get_next(datetime)
                ran.append(periodic)
        return ran

    def run(self):
        while not self._stop.wait(self.tick_seconds):
            self.run_due(datetime.now(timezone.utc))

    def stop(self):
        """Stop after the current tick."""
        self._stop.set()

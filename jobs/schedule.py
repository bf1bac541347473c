"""The periodic jobs, declared once: RQ's cron scheduler (`rq cron jobs.cron`) registers them in
production, and a small in-process timer runs them in the embedded default."""
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from croniter import croniter
from flask import Flask

from jobs import actions, intake, maintenance, reconcile, rules, shopify_returns
from jobs.queue import run_safely

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A job and when it runs (a cron string, UTC)."""

    job: object
    cron: str
    sweep: bool = False  # a sweep: runs every SWEEP_INTERVAL_SECONDS instead when that is set

    def cron_options(self, sweep_interval: int | None = None) -> dict:
        """The keyword arguments of RQ's cron `register` for this job."""
        when = {"interval": sweep_interval} if self.sweep and sweep_interval else {"cron": self.cron}
        return {"func": self.job, "queue_name": self.job.spec.queue, "job_timeout": self.job.spec.timeout, **when}


PERIODIC = [
    Periodic(maintenance.purge_all_expired_orders, "17 3 * * *"),
    Periodic(intake.sweep_unprocessed_deliveries, "*/2 * * * *", sweep=True),
    Periodic(reconcile.reconcile_all_accounts, "*/10 * * * *"),
    Periodic(reconcile.fill_parcels_all_accounts, "41 * * * *"),
    Periodic(actions.sweep_issuing, "*/2 * * * *", sweep=True),
    Periodic(shopify_returns.sweep_shopify_returns, "*/2 * * * *", sweep=True),
    Periodic(rules.sweep_rules_returns, "*/2 * * * *", sweep=True),
    Periodic(shopify_returns.follow_refunds, "*/15 * * * *"),
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
                run_safely(self.app, periodic.job, ())
                self._next[periodic] = croniter(periodic.cron, now).get_next(datetime)
                ran.append(periodic)
        return ran

    def run(self):
        while not self._stop.wait(self.tick_seconds):
            self.run_due(datetime.now(timezone.utc))

    def stop(self):
        """Stop after the current tick."""
        self._stop.set()

"""Queueing a job by its name: app code names a job of ``jobs/`` without importing it.

``jobs/`` is a leaf that nothing in ``app/`` imports (DESIGN §3): services say which job should
run (its dotted name) with ids for arguments, and the configured backend (RQ, or in-process in the
embedded default; ``jobs/queue.py``) finds the function by that name when it runs it. How a job is
queued — its queue, timeout and retries — is declared here, once, and the job's own decorator
reads it (a test checks every name resolves to its job).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class JobSpec:
    """How one kind of job is queued."""

    name: str
    queue: str
    timeout: int
    retry_intervals: tuple[int, ...]

    @property
    def options(self) -> dict:
        """The keyword arguments of ``jobs.queue.job`` for this spec."""
        return {"queue": self.queue, "timeout": self.timeout, "retry_intervals": self.retry_intervals}


# Retries of issuing jobs start after the call lease (120 s by default): a retry reconciles with
# Shopify first and must not find the lease still held by its own failed try.
SPECS = {spec.name: spec for spec in (
    # Four retries: with the first try, WEBHOOK_MAX_ATTEMPTS (5) attempts within about 21 minutes.
    JobSpec("jobs.intake.process_webhook_delivery", "intake", 120, (10, 60, 300, 900)),
    # Items issued the old way (refundCreate, giftCardCreate, $0 draft orders) finish on it.
    JobSpec("jobs.actions.issue_item", "actions", 180, (150, 600, 1800)),
    JobSpec("jobs.actions.restock_item", "actions", 120, (60, 300, 1800)),
    JobSpec("jobs.rules.match_return_rules", "default", 120, (10, 60, 300)),
    JobSpec("jobs.rules.sweep_rules_returns", "maintenance", 300, ()),
    JobSpec("jobs.shopify_returns.plan_shopify_returns", "actions", 120, (30, 300, 1800)),
    JobSpec("jobs.shopify_returns.advance_shopify_return", "actions", 300, (150, 600, 1800)),
    JobSpec("jobs.shopify_returns.refresh_order_returns", "default", 120, (30, 300)),
    JobSpec("jobs.shopify_returns.follow_refunds", "maintenance", 300, ()),
    JobSpec("jobs.shopify_returns.sweep_shopify_returns", "maintenance", 300, ()),
    # A dispatcher's batch of stored deliveries; a failed or killed batch is left to the sweeper.
    JobSpec("jobs.intake.process_delivery_batch", "intake", 120, ()),
    # Confirming a shop's orders from the Admin API; the lease stops two from spending one bucket.
    JobSpec("jobs.intake.confirm_orders", "intake", 300, (30, 120)),
)}


def enqueue(name: str, *args, job_id: str | None = None, unique: bool | None = None):
    """Queue the job ``name`` (its dotted path, declared in ``SPECS``) with id arguments; returns
    the RQ job, or None when it runs in-process or an identical unique job already waits."""
    spec = SPECS[name]
    backend = current_app.extensions["jobs"]
    return backend.enqueue_spec(spec, args, job_id, job_id is not None if unique is None else unique)


def waiting(queue: str) -> int:
    """How many jobs wait in that queue (0 with in-process jobs, which never wait)."""
    return current_app.extensions["jobs"].waiting(queue)

"""Outbound webhook jobs, on their own `webhooks` queue: one delivery attempt, and the sweeper."""
from app.queue import job
from app.services.outbound_sending import deliver, purge_old, sweep_due


@job
def deliver_outbound_job(delivery_id: int) -> str:
    """One attempt at a delivery if it is due; a second run finds it claimed or done."""
    return deliver(delivery_id)


@job
def sweep_outbound_deliveries_job() -> int:
    """Queue every delivery whose next attempt is due (retries, lost enqueues, dead workers), and
    forget finished ones past the log's keeping time."""
    purge_old()
    return sweep_due()

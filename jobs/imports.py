"""Store connection jobs: the initial order import and the webhook subscriptions."""
from app.services import connect, imports
from jobs.queue import job


@job(queue="imports", timeout=6 * 3600, retry_intervals=(30, 120, 600))
def run_import(run_id: int) -> str:
    """Import (or continue importing) one ImportRun; safe to run twice."""
    return imports.run_import(run_id)


@job(queue="default", timeout=120, retry_intervals=(30, 300, 1800))
def sync_webhooks(account_id: int) -> dict:
    """One subscription per topic at this deployment's webhook address; safe to run twice."""
    return connect.sync_webhooks(account_id)

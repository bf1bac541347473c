"""Return-action jobs: issue one item in Shopify, restock one item, close a selection of returns,
and the sweeper that re-queues whatever a dead worker or a lost enqueue left behind."""
from app.extensions import db
from app.queue import SPECS
from jobs.queue import job


def _issuing():
    # Imported when a job runs: the workflow imports this module to queue jobs, and issuing
    # pulls in the whole Shopify client.
    from app.services import legacy_issuing as issuing

    return issuing


# Retries start after the issuing lease (120 s by default): a retry of an item left ISSUING
# reconciles with Shopify first and must not find the lease still held by its own failed try.
@job(**SPECS["jobs.actions.issue_item"].options)
def issue_item(item_id: int) -> str:
    """Issue one return item in Shopify exactly once; safe to run twice or at once."""
    return _issuing().issue_item(item_id)


@job(**SPECS["jobs.actions.restock_item"].options)
def restock_item(item_id: int) -> str:
    """Restock a first-scan refund's items once the return is received; safe to run twice."""
    return _issuing().restock_item(item_id)


@job(queue="actions", timeout=3600, retry_intervals=(30, 300))
def run_bulk_close(bulk_id: int) -> str:
    """Close the returns of one "Close selected", recording a result per return."""
    from app.services.return_workflow import run_bulk_close as close_all

    bulk = close_all(bulk_id)
    return "missing" if bulk is None else f"{bulk.done} of {bulk.total}"


@job(queue="maintenance", timeout=300, retry_intervals=())
def sweep_issuing() -> int:
    """Re-queue items a lost enqueue or a dead worker left DECIDED/ISSUING, and pending restocks."""
    issue_ids, restock_ids = _issuing().items_to_sweep()
    db.session.remove()  # hold no transaction while the jobs run
    for item_id, attempts in issue_ids:
        # The id names the attempt: a sweep while the last one still waits in the queue adds
        # nothing, and RQ (which refuses an id it remembers) accepts the next attempt's.
        issue_item.enqueue(item_id, job_id=f"sweep-issue-{item_id}-{attempts}")
    for item_id in restock_ids:
        restock_item.enqueue(item_id)  # keyed in Shopify: a duplicate restocks nothing more
    return len(issue_ids) + len(restock_ids)

"""Return-action jobs: issue one item in Shopify, restock one item, close a selection of returns,
and the sweeper that re-queues whatever a dead worker or a lost enqueue left behind."""
from app.extensions import db
from app.queue import enqueue, job
from app.services import legacy_issuing, legacy_restock, return_workflow


@job
def issue_item_job(item_id: int) -> str:
    """Issue one return item in Shopify exactly once; safe to run twice or at once."""
    return legacy_issuing.issue_item(item_id)


@job
def restock_item_job(item_id: int) -> str:
    """Restock a first-scan refund's items once the return is received; safe to run twice."""
    return legacy_restock.restock_item(item_id)


@job
def run_bulk_close_job(bulk_id: int) -> str:
    """Close the returns of one "Close selected", recording a result per return."""
    bulk = return_workflow.run_bulk_close(bulk_id)
    return "missing" if bulk is None else f"{bulk.done} of {bulk.total}"


@job
def sweep_issuing_job() -> int:
    """Re-queue items a lost enqueue or a dead worker left DECIDED/ISSUING, and pending restocks."""
    issue_ids, restock_ids = legacy_issuing.items_to_sweep()
    db.session.remove()  # hold no transaction while the jobs run
    for item_id, attempts in issue_ids:
        # The id names the attempt: a sweep while the last one still waits in the queue adds
        # nothing, and RQ (which refuses an id it remembers) accepts the next attempt's.
        enqueue("jobs.actions.issue_item_job", item_id, job_id=f"sweep-issue-{item_id}-{attempts}")
    for item_id in restock_ids:
        enqueue("jobs.actions.restock_item_job", item_id)  # keyed in Shopify: a duplicate restocks nothing more
    return len(issue_ids) + len(restock_ids)

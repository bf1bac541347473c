"""Prepaid return label jobs: buy a return's label (exactly once; safe to run twice)."""
from app.extensions import db
from app.queue import enqueue, job
from app.services import labels


@job
def buy_label_job(return_id: int) -> str:
    """Buy, record and attach the return's prepaid label; reads back before any second buy."""
    return labels.buy_label(return_id)


@job
def void_unused_label_job(return_id: int) -> str:
    """Void the bought label of a cancelled or declined return (safe to run twice)."""
    return labels.void_unused(return_id)


@job
def sweep_labels_job() -> int:
    """Queue the label job again for labels a lost job left unfinished; returns how many."""
    return_ids = labels.labels_to_sweep()
    db.session.remove()  # hold no transaction while the jobs run
    for return_id in return_ids:
        enqueue("jobs.labels.buy_label_job", return_id, job_id=f"label-sweep-{return_id}")
    return len(return_ids)

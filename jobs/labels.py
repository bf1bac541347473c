"""Prepaid return label jobs: buy a return's label (exactly once; safe to run twice)."""
from app.queue import job
from app.services import labels


@job
def buy_label_job(return_id: int) -> str:
    """Buy, record and attach the return's prepaid label; reads back before any second buy."""
    return labels.buy_label(return_id)

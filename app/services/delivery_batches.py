"""A batch of stored deliveries, processed in one job (queued by the dispatcher).

An order delivery's body is stored at once — the order is on the dashboard as soon as the batch
commits — and the order is put on the list to confirm from the Admin API, where many orders
are read in one query (app/services/order_confirm.py) instead of one or more queries per
delivery. Each shop's orders are written together in a savepoint; if that fails, each delivery
is tried alone in its own, and one that still fails is handed to the per-delivery path
(`process_delivery`, which records its error), so one bad body never fails the batch. Run twice,
a batch changes nothing: processed deliveries are skipped, and on PostgreSQL a delivery locked by
another run is skipped too (SKIP LOCKED).
"""
import logging
from collections import defaultdict

from flask import current_app
from sqlalchemy import select

from app.domain.order_data import OrderData
from app.extensions import db
from app.models import PendingDelivery, WebhookDelivery
from app.queue import enqueue
from app.services.deliveries import process_delivery
from app.services.intake import ORDER_TOPICS, mark_processed, redo_if_lost
from app.services.order_batches import upsert_orders
from app.services.order_confirm import request_confirmations
from app.services.orders import upsert_order
from app.shopify.mapping import order_from_rest
from app.shopify.webhooks import delivery_payload

log = logging.getLogger(__name__)

CONFIRM_JOB = "jobs.intake.confirm_orders_job"


def process_batch(delivery_ids: list[int]) -> dict:
    """Process the deliveries of one batch; returns counts by outcome. The order deliveries a
    body maps for are written together (`upsert_orders`: one look-up, new orders in one COPY or
    INSERT), in a savepoint; should that fail, each is tried alone in its own. What the fast path
    cannot take goes one by one through `process_delivery`."""
    # The batch's pending rows, locked (PostgreSQL: a run of the same batch beside this one skips
    # them), and their deliveries; a delivery with no pending row is processed already.
    query = (select(WebhookDelivery).join(PendingDelivery, PendingDelivery.delivery_id == WebhookDelivery.id)
             .where(PendingDelivery.delivery_id.in_(list(delivery_ids))).order_by(WebhookDelivery.id))
    # Lost in a crash, the batch's writes are done again: its deliveries stay unprocessed for the
    # sweeper. The deliveries that go one by one below commit in their own, synchronous, transactions.
    redo_if_lost()
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=PendingDelivery)
    counts = {"stored": 0, "single": 0, "failed": 0}
    mapped, one_by_one = defaultdict(list), []
    for delivery in db.session.scalars(query).all():
        data = _mapped_order(delivery)
        if data is None:
            one_by_one.append(delivery.id)
        else:
            mapped[delivery.account_id].append((delivery, data))
    for account_id, items in mapped.items():
        if _store_together(account_id, items):
            counts["stored"] += len(items)
            continue
        for delivery, data in items:
            if _store_alone(delivery, data):
                counts["stored"] += 1
            else:
                one_by_one.append(delivery.id)
    db.session.commit()
    for delivery_id in sorted(one_by_one):
        try:
            process_delivery(delivery_id)
            counts["single"] += 1
        except Exception:  # isolated: the sweeper tries this one again later
            db.session.rollback()
            counts["failed"] += 1
            log.warning("delivery %s failed in its batch; the sweeper will retry it", delivery_id, exc_info=True)
    for account_id in sorted(mapped):
        queue_confirmation(account_id)
    return counts


def _mapped_order(delivery: WebhookDelivery) -> OrderData | None:
    """The order in an order delivery's body, or None (another topic, or a body that does not map)."""
    if delivery.account_id is None or delivery.topic not in ORDER_TOPICS:
        return None
    try:
        return order_from_rest(delivery_payload(delivery.body))
    except Exception as error:  # noqa: BLE001 - any body that does not map takes the single path
        log.info("delivery %s does not map from its body (%s); processing it alone", delivery.id, error)
        return None


def _store_together(account_id: int, items: list) -> bool:
    """Write a shop's mapped orders at once, list them for confirmation and mark their
    deliveries processed, in one savepoint; False (rolled back) when any of it fails."""
    try:
        with db.session.begin_nested():
            upsert_orders(account_id, [data for _delivery, data in items])
            request_confirmations(account_id, [data.shopify_order_id for _delivery, data in items])
            mark_processed([delivery.id for delivery, _data in items])
            db.session.flush()
    except Exception as error:  # noqa: BLE001 - one of them is bad: each is tried alone
        log.info("a batch of %d orders could not be written together (%s); one by one", len(items), error)
        return False
    return True


def _store_alone(delivery: WebhookDelivery, data: OrderData) -> bool:
    """`_store_together` for one delivery."""
    try:
        with db.session.begin_nested():
            upsert_order(delivery.account_id, data)
            request_confirmations(delivery.account_id, [data.shopify_order_id])
            mark_processed([delivery.id])
            db.session.flush()
    except Exception as error:  # noqa: BLE001 - the single path records what went wrong
        log.info("delivery %s not stored from its body (%s); processing it alone", delivery.id, error)
        return False
    return True


def queue_confirmation(account_id: int) -> None:
    """With in-process jobs, run the shop's confirmer after this job. With RQ nothing is queued:
    the confirmer thread of each worker looks for listed orders every second (app/queue/worker_threads.py),
    so confirming, which mostly waits for the shop's bucket to refill, never holds a worker."""
    if not current_app.extensions["jobs"].runs_in_process:
        return
    try:
        enqueue(CONFIRM_JOB, account_id, job_id=f"confirm-{account_id}")
    except Exception:  # the confirmations are rows; nothing is lost
        log.warning("could not queue the confirmer of account %s", account_id, exc_info=True)

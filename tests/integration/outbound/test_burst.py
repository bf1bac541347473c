"""A burst: a bulk close of 1,000 returns writes a delivery per milestone and endpoint and queues
each on the webhooks queue — none on actions, where issuing runs — and in the embedded default the
webhooks queue has its own thread, so issuing jobs run at once even while a slow receiver holds
thousands of deliveries up."""
import threading
import time

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboundDelivery
from app.queue import job
from app.queue.backends import InProcessBackend
from app.services import outbound_webhooks as hooks
from app.services import return_workflow as wf
from app.services.milestones import Milestone
from tests.factories import make_account, make_return

RETURNS = 1000
# Closing without endpoints only shows that nothing is queued then, and gives the time per return
# to compare with: a smaller close shows both.
RETURNS_WITHOUT_ENDPOINTS = 100


def bulk_close(account, returns: int = RETURNS) -> float:
    """Seconds a bulk close of `returns` open returns of the account takes."""
    ids = [make_return(account, status="OPEN").id for _ in range(returns)]
    db.session.commit()
    bulk = wf.start_bulk_close(account, ids, "staff@example.com")
    started = time.perf_counter()
    wf.run_bulk_close(bulk.id)
    return time.perf_counter() - started


def test_a_bulk_close_of_1000_returns_queues_its_deliveries_on_the_webhooks_queue_only(app, jobs, receiver, capsys):
    without = bulk_close(make_account(return_action="manual"), RETURNS_WITHOUT_ENDPOINTS)
    assert not [q for q in jobs.queued if q.name == hooks.SEND_JOB]
    account = make_account(return_action="manual")
    db.session.commit()
    hooks.create_endpoint(account, receiver.url, [Milestone.CLOSED, Milestone.STATUS_CHANGED])
    hooks.create_endpoint(account, receiver.url + "/other", [Milestone.CLOSED])
    took = bulk_close(account)
    written = db.session.scalar(select(func.count()).select_from(OutboundDelivery)
                                .where(OutboundDelivery.account_id == account.id))
    assert written == RETURNS * 3  # each return: a status change and a close to one, a close to the other
    sends = [q for q in jobs.queued if q.name == hooks.SEND_JOB]
    assert len(sends) == written and {q.queue for q in sends} == {"webhooks"}
    assert not [q for q in jobs.queued if q.queue == "actions" and q.name == hooks.SEND_JOB]
    assert receiver.received == []  # nothing was sent inside the close
    with capsys.disabled():
        print(f"\nbulk close: {without / RETURNS_WITHOUT_ENDPOINTS * 1000:.1f} ms a return without endpoints"
              f" ({RETURNS_WITHOUT_ENDPOINTS} returns), {took / RETURNS * 1000:.1f} ms with 2 ({RETURNS} returns,"
              f" {written} deliveries written and queued)")


def test_embedded_jobs_of_the_webhooks_queue_run_on_their_own_thread_so_issuing_is_not_delayed(app, capsys):
    ran: dict[str, float] = {}
    done = threading.Event()

    @job(queue="webhooks", retry_intervals=())
    def slow_delivery(n):
        time.sleep(0.02)  # a slow receiver: 1,000 of them hold the webhooks thread for 20 s

    @job(queue="actions", retry_intervals=())
    def issue(label):
        ran[label] = time.perf_counter()
        done.set()

    def issuing_delay(backend, deliveries: int) -> float:
        done.clear()
        backend.submit([(slow_delivery, (n,)) for n in range(deliveries)])
        queued = time.perf_counter()
        backend.submit([(issue, ("after",))])
        assert done.wait(5), "the issuing job did not run"
        return ran["after"] - queued

    backend = InProcessBackend(current_app._get_current_object())
    quiet = issuing_delay(backend, 0)
    burst = issuing_delay(backend, 1000)
    with capsys.disabled():
        print(f"\nissuing job started {quiet * 1000:.1f} ms after queueing without deliveries, "
              f"{burst * 1000:.1f} ms behind 1,000 deliveries to a 20 ms receiver")
    assert burst < 0.5  # the 1,000 deliveries alone take 20 s on their thread
    assert backend.lane(slow_delivery) == "webhooks" and backend.lane(issue) == "main"


def test_the_procfile_runs_webhook_deliveries_in_a_worker_of_their_own():
    from pathlib import Path

    processes = dict(line.split(": ", 1) for line in
                     (Path(__file__).resolve().parents[3] / "Procfile").read_text().splitlines() if line)
    assert processes["webhooks"].endswith("jobs worker webhooks")
    assert "actions" in processes["worker"] and "webhooks" not in processes["worker"]

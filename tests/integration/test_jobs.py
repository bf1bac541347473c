"""The job queue in both modes: RQ (production) and in-process (embedded default)."""
from datetime import datetime, timedelta, timezone

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order
from jobs.maintenance import purge_account_orders_job, purge_all_expired_orders_job
from app.queue.backends import InProcessBackend, RQBackend
from app.queue.schedule import InProcessScheduler, Periodic
from tests.fixtures.app import REDIS_URL, make_test_app, rolled_back
from tests.factories import make_account, make_order
from tests.support.jobs import always_fails, rename_account

OLD = datetime.now(timezone.utc) - timedelta(days=200)


def order_count(account_id):
    return db.session.scalar(select(func.count()).select_from(Order).where(Order.account_id == account_id))


@pytest.fixture(scope="module")
def _inprocess_app(_session_app):
    return make_test_app(JOBS_BACKEND="inprocess",
                         SQLALCHEMY_DATABASE_URI=_session_app.config["SQLALCHEMY_DATABASE_URI"])


@pytest.fixture
def inprocess_app(_inprocess_app):
    with rolled_back(_inprocess_app) as app:
        yield app


@pytest.fixture(scope="module")
def _rq_app(_session_app):
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set (the embedded configuration has no Redis)")
    return make_test_app(JOBS_BACKEND="rq", REDIS_URL=REDIS_URL,
                         SQLALCHEMY_DATABASE_URI=_session_app.config["SQLALCHEMY_DATABASE_URI"])


@pytest.fixture
def rq_app(_rq_app, redis_conn):
    with rolled_back(_rq_app) as app:
        yield app


def work(app):
    """Run the RQ queues dry in this process."""
    from rq import SimpleWorker

    from app.queue import QUEUES

    backend = app.extensions["jobs"]
    SimpleWorker([backend.queue(q) for q in QUEUES], connection=backend.connection).work(burst=True)


def seed_old_and_new_orders():
    account = make_account(order_storage_months=3)
    for n in range(5):
        make_order(account, created_at=OLD + timedelta(minutes=n))
    make_order(account)  # recent: kept
    db.session.commit()
    return account


# --- in-process -------------------------------------------------------------------------------

def test_inprocess_job_outside_a_request_runs_at_once(inprocess_app):
    assert isinstance(inprocess_app.extensions["jobs"], InProcessBackend)
    account = seed_old_and_new_orders()
    purge_account_orders_job.enqueue(account.id)
    assert order_count(account.id) == 1


def test_inprocess_job_queued_in_a_request_runs_after_the_response_is_sent(inprocess_app):
    account = seed_old_and_new_orders()
    with inprocess_app.test_request_context("/"):
        purge_account_orders_job.enqueue(account.id)
        assert order_count(account.id) == 6  # nothing yet: the response has not gone out
        response = inprocess_app.process_response(inprocess_app.response_class("ok"))
        assert order_count(account.id) == 6
    response.close()  # what the WSGI server does once the body is sent
    assert order_count(account.id) == 1


def test_inprocess_job_failure_is_logged_not_raised(inprocess_app, caplog):
    account = make_account()
    db.session.commit()
    rename_account.enqueue(account.id + 999, "Nobody")  # no such account: the job fails
    assert "failed" in caplog.text


def test_a_job_writes_through_its_own_session(inprocess_app):
    account = make_account(name="Before")
    db.session.commit()
    rename_account.enqueue(account.id, "After")
    db.session.expire_all()
    assert db.session.get(type(account), account.id).name == "After"


def test_running_the_purge_twice_changes_nothing_more(inprocess_app):
    account = seed_old_and_new_orders()
    assert purge_account_orders_job(account.id) == 5
    assert purge_account_orders_job(account.id) == 0
    assert order_count(account.id) == 1


def test_the_purge_works_in_small_batches(inprocess_app):
    from app.services.retention import purge_expired_orders

    account = seed_old_and_new_orders()
    rests = []
    assert purge_expired_orders(account.id, batch_size=2, sleep=rests.append) == 5
    assert order_count(account.id) == 1
    # Two full batches, each followed by a rest as long as the batch took; none after the last.
    assert len(rests) == 2 and all(0 < rest <= 1.0 for rest in rests)


def test_the_daily_purge_covers_every_account(inprocess_app):
    first, second = seed_old_and_new_orders(), seed_old_and_new_orders()
    assert purge_all_expired_orders_job() == db.session.scalar(select(func.count()).select_from(type(first)))
    assert order_count(first.id) == 1 and order_count(second.id) == 1


def test_the_inprocess_scheduler_runs_due_jobs_once(inprocess_app):
    account = seed_old_and_new_orders()
    calls = []
    periodic = Periodic("jobs.maintenance.purge_all_expired_orders_job", "0 3 * * *")
    scheduler = InProcessScheduler(current_app._get_current_object(), periodic=[periodic])
    due = scheduler._next[periodic]
    assert scheduler.run_due(due - timedelta(seconds=1)) == []
    calls.extend(scheduler.run_due(due))
    assert calls == [periodic]
    assert order_count(account.id) == 1
    assert scheduler._next[periodic] > due  # next run is tomorrow, not again now


# --- RQ ---------------------------------------------------------------------------------------

def test_rq_job_is_queued_then_run_by_a_worker(rq_app):
    assert isinstance(rq_app.extensions["jobs"], RQBackend)
    account = seed_old_and_new_orders()
    job = purge_account_orders_job.enqueue(account.id)
    assert job.origin == "maintenance" and job.timeout == 3600
    assert order_count(account.id) == 6  # queued, not run
    work(rq_app)
    assert order_count(account.id) == 1
    assert job.get_status(refresh=True) == "finished"


def test_rq_failing_job_is_retried_then_lands_in_the_failed_registry(rq_app, redis_conn):
    job = always_fails.enqueue("attempts")
    assert job.retries_left == 2
    work(rq_app)
    assert int(redis_conn.get("attempts")) == 3  # the first run and two retries
    registry = rq_app.extensions["jobs"].queue("default").failed_job_registry
    assert job.id in registry.get_job_ids()
    assert 0 < registry.connection.ttl(job.key) <= rq_app.config["RQ_FAILURE_TTL_SECONDS"]


def test_rq_job_enqueued_again_while_waiting_is_not_queued_twice(rq_app):
    account = seed_old_and_new_orders()
    first = purge_account_orders_job.enqueue(account.id, job_id=f"purge-{account.id}")
    second = purge_account_orders_job.enqueue(account.id, job_id=f"purge-{account.id}")
    assert first is not None and second is None
    assert rq_app.extensions["jobs"].queue("maintenance").count == 1


def test_rq_retry_intervals_grow(rq_app):
    job = purge_account_orders_job.enqueue(1)
    assert job.retry_intervals == [60, 600] and job.retries_left == 2


def test_served_inprocess_jobs_run_on_a_thread_even_if_the_response_is_never_closed(tmp_path):
    """What `make demo` runs: a job queued by a request runs although nobody closes the response
    (a browser that hangs up after a redirect's headers)."""
    app = make_test_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'thread.sqlite3'}",
                        JOBS_BACKEND="inprocess", JOBS_INPROCESS_THREAD=True)
    with app.app_context():
        db.create_all()
        account = make_account(name="Before")
        db.session.commit()
        account_id = account.id
    with app.test_request_context("/"):
        rename_account.enqueue(account_id, "After")
        app.process_response(app.response_class("ok"))  # the response is never closed
    app.extensions["jobs"].wait_idle()
    with app.app_context():
        assert db.session.get(type(account), account_id).name == "After"
        db.session.remove()
        db.engine.dispose()

"""The real worker entry point, as the Procfile runs it, in its own process (own database)."""
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order
from jobs.maintenance import purge_account_orders_job
from tests.fixtures.app import PROJECT_ROOT, REDIS_URL, make_test_app
from tests.factories import make_account, make_order


@pytest.fixture
def rq_e2e_app(e2e_app, redis_conn):
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    return make_test_app(SQLALCHEMY_DATABASE_URI=e2e_app.config["SQLALCHEMY_DATABASE_URI"],
                         JOBS_BACKEND="rq", REDIS_URL=REDIS_URL)


def test_flask_jobs_worker_runs_queued_jobs_in_their_own_app_context(rq_e2e_app):
    old = datetime.now(timezone.utc) - timedelta(days=400)
    with rq_e2e_app.app_context():
        account = make_account()
        for _ in range(3):
            make_order(account, created_at=old)
        make_order(account)
        db.session.commit()
        purge_account_orders_job.enqueue(account.id)
        account_id = account.id

    env = {**os.environ, "BOOMERANG_ENV": "test",
           "TEST_DATABASE_URL": rq_e2e_app.config["SQLALCHEMY_DATABASE_URI"], "TEST_REDIS_URL": REDIS_URL}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--burst"],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]

    with rq_e2e_app.app_context():
        remaining = db.session.scalar(select(func.count()).select_from(Order).where(Order.account_id == account_id))
        db.session.remove()
    assert remaining == 1


def test_a_worker_yields_the_cpu_to_the_web_server(rq_e2e_app):
    """A worker lowers its own CPU priority (WORKER_NICE, 10 by default), so a burst of background
    work on a shared host does not hold up a webhook's answer."""
    env = {**os.environ, "BOOMERANG_ENV": "test", "WORKER_NICE": "7",
           "TEST_DATABASE_URL": rq_e2e_app.config["SQLALCHEMY_DATABASE_URI"], "TEST_REDIS_URL": REDIS_URL}
    before = os.getpriority(os.PRIO_PROCESS, 0)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "intake"],
                              cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while os.getpriority(os.PRIO_PROCESS, worker.pid) == before and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            time.sleep(0.1)
        assert os.getpriority(os.PRIO_PROCESS, worker.pid) == min(before + 7, 19)
    finally:
        # Its priority is all this test needs: kill the worker with the scheduler process RQ forks
        # (a warm shutdown takes seconds; an orphaned scheduler would go on moving other tests' jobs).
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(15)


def test_a_worker_runs_each_job_in_its_own_process_without_forking(rq_e2e_app, redis_conn):
    """No fork per job: on a small host the fork and exit of a work-horse per job held up the web
    server's answers during a flash sale (bench/flash_sale.py)."""
    from rq import Queue

    job = Queue("maintenance", connection=redis_conn).enqueue("os.getpid")
    env = {**os.environ, "BOOMERANG_ENV": "test", "WORKER_NICE": "0",
           "TEST_DATABASE_URL": rq_e2e_app.config["SQLALCHEMY_DATABASE_URI"], "TEST_REDIS_URL": REDIS_URL}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--burst",
                               "maintenance"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        _out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(15)
    assert worker.returncode == 0, err.decode()[-2000:]
    job.refresh()
    assert job.return_value() == worker.pid

"""The embedded default's jobs and the embedded database under contention: a failed in-process
job is tried again after its declared intervals, and no more; a job whose write met another
writer's newer commit is run again at once; a write that waits past its bound for another
writer's lock answers 503 with Retry-After, never 500; a login holds no lock through its slow
password check."""
import logging
import sqlite3
import time

import pytest

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Account
from tests.fixtures.app import make_test_app
from tests.factories import make_account, make_user
from tests.support.jobs import TRIES, fails_until, rename_after_another_writer
from tests.support.shopify_webhooks import SECRET, post_webhook

SHOP = "busy-store.myshopify.com"

SCALE = 0.01  # the intervals (10, 60) become 0.1 s and 0.6 s


@pytest.fixture
def embedded(tmp_path):
    """A served embedded app of its own (SQLite file, jobs on the jobs thread, retries on)."""
    path = tmp_path / "embedded.sqlite3"
    app = make_test_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", JOBS_BACKEND="inprocess",
                        JOBS_INPROCESS_THREAD=True, JOBS_INPROCESS_RETRIES=True,
                        JOBS_RETRY_INTERVAL_SCALE=SCALE, SQLITE_BUSY_TIMEOUT_SECONDS=0.3)
    app.database_path = path
    with app.app_context():
        db.create_all()
    TRIES.clear()
    yield app
    app.extensions["jobs"].wait_idle(10)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def queue_from_a_request(app, job_func, *args):
    with app.test_request_context("/", method="POST"):
        job_func.enqueue(*args)
        app.process_response(app.response_class("ok"))


def test_a_failed_inprocess_job_is_tried_again_after_each_declared_interval(embedded):
    queue_from_a_request(embedded, fails_until, "twice", 2)
    assert embedded.extensions["jobs"].wait_idle(10)
    first, second, third = TRIES["twice"]
    assert second - first >= 10 * SCALE and third - second >= 60 * SCALE
    assert len(TRIES["twice"]) == 3


def test_an_inprocess_job_that_keeps_failing_stops_after_its_last_retry_and_says_so(embedded, caplog):
    caplog.set_level(logging.ERROR, logger="app.queue.backends")
    queue_from_a_request(embedded, fails_until, "always", 99)
    assert embedded.extensions["jobs"].wait_idle(10)
    time.sleep(60 * SCALE * 3)  # nothing more comes
    assert len(TRIES["always"]) == 3  # the first try and one per interval
    messages = [r.getMessage() for r in caplog.records]
    assert any("try 1 of 3); tried again in 0.1 s" in m for m in messages)
    assert any("try 3 of 3); not tried again" in m for m in messages)


def test_a_job_run_at_once_outside_a_request_is_retried_on_the_jobs_thread(embedded):
    with embedded.app_context():
        fails_until.enqueue("outside", 1)
    assert len(TRIES["outside"]) == 1
    assert embedded.extensions["jobs"].wait_idle(10)
    assert len(TRIES["outside"]) == 2


def test_a_job_whose_write_met_a_newer_commit_is_run_again_at_once(embedded):
    embedded.config["JOBS_INPROCESS_RETRIES"] = False  # not the declared retries: a re-run
    embedded.extensions["jobs"].retries = False
    with embedded.app_context():
        account_id = make_account(name="Before").id
        db.session.commit()
    queue_from_a_request(embedded, rename_after_another_writer, account_id, "After",
                         f"sqlite:///{embedded.database_path}")
    assert embedded.extensions["jobs"].wait_idle(10)
    assert len(TRIES["rename"]) == 2
    with embedded.app_context():
        account = db.session.get(Account, account_id)
        assert (account.name, account.return_window_days) == ("After", 31)


def wrong_password_login(client):
    """A login the form refuses (wrong password), posted as a browser posts it: what is examined
    is the answer while another writer holds the database, not being logged in."""
    return client.post("/login", data={"email": "owner@example.com", "password": "wrong password"},
                       headers={"Accept": "text/html"})


def deliver(client):
    return post_webhook(client, {"id": 820982911946154508, "email": "jon@example.com"}, SHOP)


@pytest.mark.parametrize("send", [wrong_password_login, deliver])
def test_a_write_kept_waiting_past_its_bound_answers_503_with_retry_after(embedded, send):
    with embedded.app_context():
        make_user(make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET)),
                  email="owner@example.com", password="correct horse battery")
        db.session.commit()
    holder = sqlite3.connect(embedded.database_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer (a job) holds the lock, longer than the bound
    try:
        started = time.monotonic()
        response = send(embedded.test_client())
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 5  # the login's rate limit may name a later time
    assert "busy for a moment" in response.get_data(as_text=True)
    assert 0.3 <= waited < 3


def test_a_login_holds_no_lock_while_its_password_is_checked(embedded, monkeypatch):
    """The check is slow on purpose (scrypt); a webhook or a job must not wait on it."""
    import app.services.accounts as accounts

    with embedded.app_context():
        make_user(make_account(), email="owner@example.com", password="correct horse battery")
        db.session.commit()
    others = []

    def slow_check(password_hash, password):
        other = sqlite3.connect(embedded.database_path, isolation_level=None, timeout=0.1)
        try:
            other.execute("BEGIN IMMEDIATE")  # another writer, meanwhile
            other.execute("ROLLBACK")
            others.append("wrote")
        except sqlite3.OperationalError as error:
            others.append(str(error))
        finally:
            other.close()
        return password == "correct horse battery"

    monkeypatch.setattr(accounts, "check_password_hash", slow_check)
    response = embedded.test_client().post("/login", data={"email": "owner@example.com",
                                                           "password": "correct horse battery"})
    assert response.status_code == 303
    assert others == ["wrote"]

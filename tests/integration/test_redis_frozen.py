"""A dependency that accepts connections and never answers (a frozen Redis or PostgreSQL) costs a
webhook and /healthz a bounded time; the worker's supervisor starts RQ again after Redis trouble.

The silent server below is what a stopped process looks like from outside: the kernel completes
the TCP handshake, then nothing is ever read or written."""
import socket
import threading
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError
from sqlalchemy import func, select

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import WebhookDelivery
from app.queue import RedisUnavailable
from app.queue.worker import Supervisor
from tests.fixtures.app import make_test_app, rolled_back
from tests.factories import make_account
from tests.fixture_files import shopify_json
from tests.support.shopify_webhooks import SECRET, post_webhook

SHOP = "acme-outdoor.myshopify.com"
ORDER = shopify_json("webhook_orders_create_docs_2026-04.metadata.json")["response"]


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers; closed (unblocking any caller) after."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def within(seconds: float, call):
    """Run `call` on a thread; returns (its result, elapsed) or fails after `seconds` (the thread
    is left to the fixture's teardown, which unblocks it)."""
    outcome = {}

    def run():
        started = time.monotonic()
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], outcome["elapsed"]


def test_webhooks_are_answered_within_a_second_while_redis_does_not_answer(_session_app, silent_port):
    # No pause after a failed enqueue: had the warm-up below waited on Redis, the deliveries
    # measured after it would wait too, instead of being spared by the pause.
    app = make_test_app(SQLALCHEMY_DATABASE_URI=_session_app.config["SQLALCHEMY_DATABASE_URI"],
                        JOBS_BACKEND="rq", REDIS_URL=f"redis://127.0.0.1:{silent_port}/0",
                        REDIS_RETRY_AFTER_SECONDS=0)
    with rolled_back(app):
        make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET))
        db.session.commit()
        client = app.test_client()
        # One delivery first, not timed: an app's first request pays once for what a running
        # server did long before (imports, compiled statements, the shop's keys), which on a
        # busy machine alone came near a second. It must still be answered, within 3 s.
        response, _elapsed = within(3, lambda: post_webhook(client, {**ORDER, "id": 899}, SHOP))
        assert response.status_code == 200, response.data
        for number in range(4):
            response, elapsed = within(3, lambda: post_webhook(client, {**ORDER, "id": 900 + number}, SHOP))  # noqa: B023 - within() runs it at once
            assert response.status_code == 200, response.data
            assert elapsed < 1, f"delivery {number} answered after {elapsed:.2f} s"
        # Stored, for the sweeper to queue when Redis answers again.
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 5


def test_an_enqueue_gives_up_after_the_timeout_then_fails_fast_for_a_moment(silent_port):
    from jobs.intake import process_webhook_delivery_job

    app = make_test_app(JOBS_BACKEND="rq", REDIS_URL=f"redis://127.0.0.1:{silent_port}/0",
                        REDIS_SOCKET_TIMEOUT=0.3, REDIS_RETRY_AFTER_SECONDS=60)
    backend = app.extensions["jobs"]

    def enqueue():
        try:
            backend.enqueue(process_webhook_delivery_job, (1,), "delivery-1", False)
        except (RedisTimeoutError, RedisConnectionError) as error:
            return error

    error, elapsed = within(3, enqueue)
    assert isinstance(error, RedisTimeoutError) and elapsed < 0.6
    error, elapsed = within(3, enqueue)
    assert isinstance(error, RedisUnavailable) and elapsed < 0.05


def test_healthz_answers_within_a_second_naming_a_redis_that_does_not_answer(_session_app, silent_port):
    app = make_test_app(SQLALCHEMY_DATABASE_URI=_session_app.config["SQLALCHEMY_DATABASE_URI"],
                        REDIS_URL=f"redis://127.0.0.1:{silent_port}/0")
    client = app.test_client()
    for _ in range(3):  # a check still stuck from the last probe is not started twice
        response, elapsed = within(3, lambda: client.get("/healthz"))
        assert elapsed < 1
        assert response.status_code == 503
        assert response.json["failing"] == ["redis"]
        assert response.json["checks"]["database"] == "ok"


def test_healthz_answers_within_a_second_naming_both_when_neither_answers(silent_port):
    app = make_test_app(SQLALCHEMY_DATABASE_URI=f"postgresql://postgres@127.0.0.1:{silent_port}/frozen",
                        REDIS_URL=f"redis://127.0.0.1:{silent_port}/0")
    client = app.test_client()
    for _ in range(2):
        response, elapsed = within(5, lambda: client.get("/healthz"))
        assert elapsed < 1
        assert response.status_code == 503
        assert response.json["failing"] == ["database", "redis"]


def test_the_supervisor_starts_the_worker_again_after_redis_trouble_with_a_growing_wait():
    waits, runs = [], []

    def run_once():
        runs.append(1)
        if len(runs) <= 3:
            raise RedisConnectionError("Connection refused")
        if len(runs) == 4:
            return False  # RQ quit on its own (it logs "Redis connection timeout, quitting")
        return True  # stopped on request

    Supervisor("worker", max_wait=1.5, sleep=waits.append).run(run_once)
    assert len(runs) == 5
    assert waits == [0.5, 1.0, 1.5, 1.5]


def test_an_error_that_is_not_redis_is_not_swallowed():
    def run_once():
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        Supervisor("worker", max_wait=1, sleep=lambda _: None).run(run_once)


def test_the_sweeps_run_every_sweep_interval_when_it_is_set_and_the_rest_keep_their_cron_times():
    from app.queue.schedule import PERIODIC

    by_name = {periodic.job: periodic for periodic in PERIODIC}
    sweep = by_name["jobs.intake.sweep_unprocessed_deliveries_job"]
    assert sweep.cron_options(2)["interval"] == 2 and "cron" not in sweep.cron_options(2)
    assert sweep.cron_options(None)["cron"] == "*/2 * * * *"
    assert by_name["jobs.actions.sweep_issuing_job"].cron_options(2)["interval"] == 2
    assert by_name["jobs.maintenance.purge_all_expired_orders_job"].cron_options(2)["cron"] == "17 3 * * *"

"""With the limiter's Redis down or frozen, login, the portal look-up and sign-up answer at once
(never 500, never a hang): the limits count in memory with a warning, and go back to Redis when it
returns. Each test starts its own redis-server on a free port; the machine's Redis is not touched."""
import logging
import os
import signal
import socket
import subprocess
import time

import pytest
import redis
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.extensions import db, limiter
from app.rate_limits import EXTENSION_KEY
from tests.factories import PASSWORD, make_account, make_user
from tests.support.portal import make_line, make_portal_order

UNREACHABLE = "rate-limit storage unreachable"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, stopped (or frozen, then thawed) only by this test."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=1)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        yield process, port, client
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        process.wait(5)


@pytest.fixture
def user(app):
    account = make_account()
    found = make_user(account, email=f"owner-{account.slug}@example.com")
    make_portal_order(account, [make_line()], name="#1234", email="pat@example.com")
    db.session.commit()
    return found


def limits_in(app, monkeypatch, uri):
    monkeypatch.setitem(app.config, "RATELIMIT_STORAGE_URI", uri)
    monkeypatch.setitem(app.config, "RATELIMIT_RETRY_SECONDS", 0.3)
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "PORTAL_LOOKUP_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, None)  # built again from these settings


def timed(call):
    started = time.monotonic()
    response = call()
    return response.status_code, time.monotonic() - started


def timed_login(client, user, password, address="203.0.113.50"):
    """(status, seconds) of the login form's answer to ``user`` with ``password``, from ``address``."""
    return timed(lambda: client.post("/login", data={"email": user.email, "password": password},
                                     environ_base={"REMOTE_ADDR": address}))


def lookup(client, user, email, address="203.0.113.60"):
    return timed(lambda: client.post(f"/r/{user.account.slug}", data={"order_number": "#1234", "email": email},
                                     environ_base={"REMOTE_ADDR": address}))


def assert_limits_still_work(client, user):
    """Login and look-up answer within 2 s, succeed with the right details, and still limit failures."""
    assert [timed_login(client, user, "wrong password!")[0] for _ in range(4)] == [422, 422, 422, 429]
    status, seconds = timed_login(client, user, PASSWORD, address="203.0.113.51")
    assert status == 303 and seconds < 2
    client.post("/logout")
    assert [lookup(client, user, "who@example.com")[0] for _ in range(4)] == [422, 422, 422, 429]
    status, seconds = lookup(client, user, "pat@example.com", address="203.0.113.61")
    assert status == 303 and seconds < 2


def test_with_redis_down_login_and_lookup_work_and_say_so_in_the_log(app, client, user, monkeypatch, caplog):
    limits_in(app, monkeypatch, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="app.rate_limits"):
        started = time.monotonic()
        assert_limits_still_work(client, user)
        assert time.monotonic() - started < 5
    assert [r.getMessage() for r in caplog.records if UNREACHABLE in r.getMessage()]


def test_with_redis_frozen_login_and_lookup_answer_within_two_seconds(app, client, user, own_redis, monkeypatch,
                                                                      caplog):
    process, port, _redis = own_redis
    limits_in(app, monkeypatch, f"redis://127.0.0.1:{port}/0")
    assert timed_login(client, user, "wrong password!", address="203.0.113.70")[0] == 422  # Redis answers
    os.kill(process.pid, signal.SIGSTOP)
    with caplog.at_level(logging.WARNING, logger="app.rate_limits"):
        assert_limits_still_work(client, user)
        time.sleep(0.4)  # past the retry delay: Redis is tried again, still frozen, costs one timeout
        status, seconds = timed_login(client, user, PASSWORD, address="203.0.113.52")
        assert status == 303 and seconds < 2
    assert [r for r in caplog.records if UNREACHABLE in r.getMessage()]


def test_the_limits_go_back_to_redis_when_it_returns(app, client, user, own_redis, monkeypatch, caplog):
    process, port, redis_client = own_redis
    limits_in(app, monkeypatch, f"redis://127.0.0.1:{port}/0")
    os.kill(process.pid, signal.SIGSTOP)
    assert timed_login(client, user, "wrong password!", address="203.0.113.80")[0] == 422  # counted in memory
    os.kill(process.pid, signal.SIGCONT)
    assert redis_client.dbsize() == 0
    time.sleep(0.4)
    with caplog.at_level(logging.WARNING, logger="app.rate_limits"):
        assert timed_login(client, user, "wrong password!", address="203.0.113.81")[0] == 422
    assert redis_client.dbsize() > 0  # counted in Redis again
    assert [r for r in caplog.records if "storage is back" in r.getMessage()]


def flask_limiter_in(app, monkeypatch, uri):
    """Point the app's Flask-Limiter (sign-up) at `uri`, with the app's own storage options."""
    assert app.config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] <= 0.5
    assert limiter._in_memory_fallback_enabled
    storage = storage_from_string(uri, **app.config["RATELIMIT_STORAGE_OPTIONS"])
    monkeypatch.setattr(limiter, "_storage", storage)
    monkeypatch.setattr(limiter, "_limiter", FixedWindowRateLimiter(storage))
    monkeypatch.setattr(limiter, "_storage_dead", False)
    monkeypatch.setitem(app.config, "SIGNUP_RATE_LIMIT", "2 per minute")


def signup(client, email):
    return timed(lambda: client.post("/signup", data={"store_name": "Acme", "email": email, "password": PASSWORD,
                                                      "confirm": PASSWORD},
                                     environ_base={"REMOTE_ADDR": "203.0.113.90"}))


def test_with_redis_down_or_frozen_signup_answers_at_once_and_is_still_limited(app, client, user, own_redis,
                                                                                monkeypatch):
    process, port, _redis = own_redis
    for uri in (f"redis://127.0.0.1:{free_port()}/0", f"redis://127.0.0.1:{port}/0"):
        if str(port) in uri:
            os.kill(process.pid, signal.SIGSTOP)
        flask_limiter_in(app, monkeypatch, uri)
        answers = [signup(client, user.email) for _ in range(3)]  # a registered email: nothing is written
        assert [status for status, _ in answers] == [303, 303, 429]
        assert max(seconds for _, seconds in answers) < 2
        limiter._fallback_storage.reset()

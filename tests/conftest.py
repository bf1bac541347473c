"""Shared fixtures.

Two configurations run the same suite:
- embedded default: SQLite + in-process jobs (no environment needed);
- production shape: PostgreSQL + Redis, by setting TEST_DATABASE_URL and TEST_REDIS_URL.

Tests in one process use one transaction per test, rolled back (SQLAlchemy's "join a session
into an external transaction" recipe, with Flask-SQLAlchemy's engine swapped for the
connection). Tests that cross a process or thread boundary (live server, browser, forked
worker) use their own database, emptied between tests (see `e2e_app`).
"""
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.services.intake import forget_refusals, forget_shop_keys

pytest_plugins = ["tests.support.e2e", "tests.sandbox_fixtures", "tests.support.shopify_webhooks"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL")


class ServerLikeClient(FlaskClient):
    """A test client that reads and closes each response, as a WSGI server does, so work
    scheduled to run after the response is sent (in-process jobs) runs before the call returns."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


def make_test_app(**overrides):
    """A TestConfig app with overrides."""
    app = create_app({"CONFIG_CLASS": TestConfig, **overrides})
    app.test_client_class = ServerLikeClient
    return app


def reset_schema(app) -> None:
    """Drop everything and rebuild the schema through the migrations (so they are tested too)."""
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


@pytest.fixture(scope="session")
def _session_app():
    app = make_test_app()
    reset_schema(app)
    return app


@contextmanager
def rolled_back(app):
    """Run the body inside one transaction that is rolled back afterwards; the app's own
    commits only release SAVEPOINTs."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        engines = db.engines
        original = engines[None]
        engines[None] = connection
        try:
            yield app
        finally:
            db.session.remove()
            forget_shop_keys()  # cached rows of this test are rolled back with it
            forget_refusals()  # and so are the accounts its unwritten refusal counts belong to
            engines[None] = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def app(_session_app):
    """The app, with every database write of the test rolled back afterwards."""
    with rolled_back(_session_app) as app:
        yield app


@pytest.fixture
def redis_conn():
    """Redis on its own database number, flushed before and after the test."""
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set (the embedded configuration has no Redis)")
    from redis import Redis

    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def drain_jobs(app):
    """Run every queued job to completion: in the production shape, a dispatcher pass (stored
    deliveries to batch jobs, as a worker's dispatcher does), an RQ SimpleWorker and a confirmer
    pass, until none finds anything; nothing in the embedded default, where jobs already ran when
    the response closed."""

    def drain():
        backend = app.extensions["jobs"]
        if hasattr(backend, "queue"):
            from rq import SimpleWorker

            from app.services.dispatch import dispatch_pending
            from app.services.order_confirm import confirm_all_pending
            from app.queue import QUEUES

            while True:
                dispatched = dispatch_pending()
                worked = SimpleWorker([backend.queue(name) for name in QUEUES], connection=backend.connection).work(
                    burst=True, with_scheduler=False)
                # …and a worker's confirmer thread: orders stored from bodies read back from Shopify.
                confirmed = confirm_all_pending("test-drain")
                if not dispatched and not worked and not confirmed:
                    break

    if REDIS_URL:
        from redis import Redis

        Redis.from_url(REDIS_URL).flushdb()
    return drain


class AuthActions:
    """Sign up, log in and out through the real forms (flaskr's pattern)."""

    def __init__(self, client):
        self.client = client

    def signup(self, store="Acme Outdoor", email="owner@example.com", password="correct horse battery"):
        return self.client.post("/signup", data={
            "store_name": store, "email": email, "password": password, "confirm": password})

    def login(self, email="owner@example.com", password="correct horse battery"):
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    """Form-driven login helpers."""
    return AuthActions(client)


def production_shape() -> bool:
    """PostgreSQL and Redis are configured (TEST_DATABASE_URL and TEST_REDIS_URL)."""
    return bool(REDIS_URL) and TestConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """Mark browser and chaos tests so they can be selected or left out with -m. Chaos tests
    kill and freeze the production shape's parts: outside it there is nothing of theirs to run,
    so they are deselected (not skipped, which FAIL_ON_SKIP would count)."""
    kept, deselected = [], []
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
        if "tests/chaos/" in str(item.fspath):
            item.add_marker(pytest.mark.chaos)
            if not production_shape():
                deselected.append(item)
                continue
        kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """The production-shape run must skip nothing: FAIL_ON_SKIP=1 turns any skip into a failure."""
    if os.environ.get("FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"FAIL_ON_SKIP=1: {len(skipped)} test(s) were skipped", red=True)
        if session.exitstatus == 0:
            session.exitstatus = 1

"""Chaos tests: the production shape as real processes (gunicorn, `flask jobs worker`, `flask jobs
cron`) on a redis-server and a PostgreSQL cluster of their own, killed, frozen and restarted
while deliveries arrive and refunds are issued. They run in the production-shape run only
(TEST_DATABASE_URL on PostgreSQL and TEST_REDIS_URL set; see tests/conftest.py); leases and
sweep intervals are shortened through their settings."""
from pathlib import Path

import pytest

from app.config import normalise_database_url
from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Account
from tests.fixtures.app import make_test_app, reset_schema
from tests.support import chaos
from tests.support.shopify_webhooks import SECRET

SHOP = "chaos-outdoor.myshopify.com"
# Shortened for the tests: a stored delivery is swept after 3 s, sweeps run every 2 s, a claim on
# an item being issued lapses after 8 s, work a killed job left queued-for is swept after 10 s, and
# RQ's retries wait out nothing longer than that.
SETTINGS = {"WEBHOOK_SWEEP_AFTER_SECONDS": 3, "SWEEP_INTERVAL_SECONDS": 2, "ISSUE_LEASE_SECONDS": 8,
            "SWEEP_GRACE_SECONDS": 10,
            "WORKER_RECONNECT_MAX_SECONDS": 4}


@pytest.fixture(scope="session")
def postgres_cluster():
    """A PostgreSQL cluster of this test session's own, on a port of 5441-5449."""
    cluster = chaos.PostgresCluster()
    cluster.init()
    yield cluster
    cluster.destroy()


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of this test's own, on a port of 6391-6399."""
    server = chaos.RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class Stack:
    """The app's processes against the test's own Redis and PostgreSQL, plus an in-process app
    on the same database for setting up and counting."""

    def __init__(self, app, env: dict, logs: Path):
        self.app, self.env, self.logs = app, env, logs
        self.processes: list[chaos.Process] = []
        self.web_port = None

    def web(self) -> int:
        process, self.web_port = chaos.gunicorn(self.env, self.logs)
        self.processes.append(process)
        return self.web_port

    def worker(self, name: str = "worker") -> chaos.Process:
        process = chaos.flask_command(name, self.env, self.logs, "jobs", "worker")
        self.processes.append(process)
        return process

    def cron(self) -> chaos.Process:
        process = chaos.flask_command("cron", self.env, self.logs, "jobs", "cron")
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def logs_tail(self) -> str:
        return "\n".join(process.tail() for process in self.processes)


@pytest.fixture
def stack(postgres_cluster, redis_server, tmp_path, request):
    """An empty database (migrated) with one account (not connected to Shopify: a delivery is
    then stored from its body alone, so the time measured is intake's and the queue's, not the
    sandbox's); processes started by the test through the returned Stack, all stopped afterwards
    (their logs printed on failure)."""
    app = make_test_app(SQLALCHEMY_DATABASE_URI=normalise_database_url(postgres_cluster.url),
                        JOBS_BACKEND="rq", REDIS_URL=redis_server.url, **SETTINGS)
    reset_schema(app)
    with app.app_context():
        account = Account(name="Chaos Outdoor", slug="chaos", shop_domain=SHOP,
                          webhook_secret_encrypted=encrypt_secret(SECRET))
        db.session.add(account)
        db.session.commit()
        app.account_id = account.id
    env = chaos.app_env(postgres_cluster.url, redis_server.url, app.config["TOKEN_ENCRYPTION_KEYS"][0], **SETTINGS)
    running = Stack(app, env, tmp_path)
    yield running
    running.stop()
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        print(running.logs_tail())
    with app.app_context():
        db.engine.dispose()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


FIGURES: list[str] = []


@pytest.fixture
def figure():
    """Record a measured figure; all are printed in the run's summary, passed or failed."""
    return FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("chaos figures")
        for line in FIGURES:
            terminalreporter.write_line(line)

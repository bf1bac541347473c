"""Fixtures for tests that cross a thread or process boundary: a live server and a browser.

They cannot share the per-test transaction, so they use their own database (`…_e2e`),
emptied between tests.
"""
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from werkzeug.serving import make_server

from app.extensions import db

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def e2e_database_url() -> str:
    """The base test database URL with `_e2e` appended to the database name (created if missing)."""
    return scratch_database_url("_e2e")


def scratch_database_url(suffix: str) -> str:
    """The base test database URL with `suffix` appended to the database name (created if missing)."""
    from app.config import TestConfig

    url = make_url(TestConfig.SQLALCHEMY_DATABASE_URI)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        return str(url.set(database=str(path.with_name(path.stem + suffix + path.suffix))))
    name = f"{url.database}{suffix}"
    from sqlalchemy import create_engine

    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _e2e_session_app():
    from tests.fixtures.app import make_test_app, reset_schema

    app = make_test_app(SQLALCHEMY_DATABASE_URI=e2e_database_url(), WTF_CSRF_ENABLED=True)
    reset_schema(app)
    return app


def empty_database(app) -> None:
    """Delete every row (schema stays): the isolation for cross-process tests."""
    with app.app_context():
        tables = [t for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())
        db.session.remove()


@pytest.fixture
def e2e_app(_e2e_session_app):
    """An app on the e2e database, emptied before the test."""
    empty_database(_e2e_session_app)
    yield _e2e_session_app


class LiveServer:
    """The app served by werkzeug on a thread, on a free port of 127.0.0.1."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "") -> str:
        """An absolute URL on the live server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def _live_server(_e2e_session_app):
    server = LiveServer(_e2e_session_app)
    yield server
    server.stop()


@pytest.fixture
def live_server(e2e_app, _live_server):
    """The live server, over an emptied e2e database."""
    return _live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless, quiet on a closed network (never `playwright install`)."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture(autouse=True)
def _no_cdn_on_a_closed_network(request):
    """Browser tests answer the htmx CDN at once with a network error, as an unreachable CDN
    would eventually: a page's synchronous <script> otherwise waits on a DNS or connect timeout
    before it renders (seconds, at random). The htmx tests add their own routes, which win."""
    if "page" not in request.fixturenames:
        return
    page = request.getfixturevalue("page")
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, target=None):
        path = SCREENSHOTS / f"{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take


@contextmanager
def served_jobs(app, monkeypatch):
    """The embedded default as it is served: in-process jobs run on the app's jobs thread (the
    test config runs them when a response is closed, and werkzeug skips that close when the
    browser hangs up after reading a redirect), a failed one tried again after a twentieth of its
    intervals; the block ends once they are all done. The production shape: an RQ worker thread."""
    backend = app.extensions["jobs"]
    if getattr(backend, "runs_in_process", False):
        monkeypatch.setattr(backend, "use_thread", True)
        monkeypatch.setattr(backend, "retries", True)
        monkeypatch.setattr(backend, "retry_scale", 0.05)
    try:
        with rq_thread_worker(app, monkeypatch):
            yield
    finally:
        if getattr(backend, "runs_in_process", False):
            backend.wait_idle(60)  # nothing of this test still running when the next empties the database


@contextmanager
def rq_thread_worker(app, monkeypatch):
    """Production shape: an RQ worker on a thread of this process runs what the live app queues
    (the embedded default runs jobs in-process and needs none)."""
    backend = app.extensions["jobs"]
    if not hasattr(backend, "queue"):
        yield
        return
    from rq import SimpleWorker
    from rq.timeouts import TimerDeathPenalty

    from app.queue import QUEUES
    from app.queue import backends as queue_backends

    class ThreadWorker(SimpleWorker):
        death_penalty_class = TimerDeathPenalty  # SIGALRM is for the main thread only

        def _install_signal_handlers(self):  # so are signal handlers
            pass

    monkeypatch.setattr(queue_backends, "_worker_app", app)
    backend.connection.flushdb()
    stop = threading.Event()

    def work():
        from app.services.dispatch import dispatch_pending
        from app.services.order_confirm import confirm_all_pending

        queues = [backend.queue(name) for name in QUEUES]
        while not stop.is_set():
            with app.app_context():  # as a worker's dispatcher: stored deliveries to batch jobs
                dispatch_pending()
            ThreadWorker(queues, connection=backend.connection).work(burst=True, with_scheduler=False)
            with app.app_context():  # and its confirmer: orders read back from Shopify
                confirm_all_pending("test-worker")
            stop.wait(0.2)

    thread = threading.Thread(target=work, name="test-rq-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(15)

"""`GET /healthz`: 200 when the database (and Redis, when configured) answer; 503 naming the part.

The checks run side by side on a small pool of threads and the answer goes out within
HEALTHZ_TIMEOUT_SECONDS whatever they do: a frozen PostgreSQL or Redis (a process stopped, a
network that drops packets) is reported as not answering instead of holding the load balancer's
probe. A check still waiting from an earlier probe is waited on again rather than started twice,
so a frozen part costs at most one thread per part.
"""
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Blueprint, current_app, jsonify
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.redis_client import connect

bp = Blueprint("health", __name__)

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")
_lock = threading.Lock()
_running: dict[tuple[int, str], Future] = {}  # (app, part) -> its check, while it runs
_engines: dict[str, object] = {}  # database URL -> the checks' own engine


@bp.get("/healthz")
def healthz():
    """Report each dependency; load balancers read the status code, people read the body."""
    app = current_app._get_current_object()
    deadline = app.config["HEALTHZ_TIMEOUT_SECONDS"]
    checks = {"database": (_check_database, _database_url(), deadline)}
    if app.config.get("REDIS_URL"):
        checks["redis"] = (_check_redis, app.extensions.get("health_redis") or _redis_client(app), None)
    futures = {name: _start(app, name, *check) for name, check in checks.items()}
    wait(futures.values(), timeout=deadline)
    states = {name: future.result() if future.done() else f"error: no answer within {deadline:g} s"
              for name, future in futures.items()}
    healthy = all(state == "ok" for state in states.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": states}
    if not healthy:
        body["failing"] = [name for name, state in states.items() if state != "ok"]
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _start(app, name: str, check, target, deadline) -> Future:
    key = (id(app), name)
    with _lock:
        future = _running.get(key)
        if future is None or future.done():
            future = _running[key] = _pool.submit(_guarded, check, target, deadline)
        return future


def _guarded(check, target, deadline) -> str:
    try:
        return check(target, deadline)
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy
        return f"error: {type(error).__name__}"


def _database_url():
    # Under a test's transaction the bind is a Connection; its engine has the URL.
    bind = db.engine
    return getattr(bind, "engine", bind).url


def _check_database(url, deadline: float) -> str:
    """SELECT 1 on a connection of its own (never one of the app's pool, which a stuck check
    would hold), with PostgreSQL's connect_timeout and statement_timeout inside the deadline."""
    key = url.render_as_string(hide_password=False)
    engine = _engines.get(key)
    if engine is None:
        connect_args = {}
        if url.get_backend_name() == "postgresql":
            connect_args = {"connect_timeout": max(1, round(deadline)),
                            "options": f"-c statement_timeout={int(deadline * 1000)}"}
        engine = _engines.setdefault(key, create_engine(url, poolclass=NullPool, connect_args=connect_args))
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return "ok"


def _redis_client(app):
    return app.extensions.setdefault("health_redis", connect(app.config))


def _check_redis(client, _deadline) -> str:
    """PING with the configured socket timeouts (below the deadline by default)."""
    client.ping()
    return "ok"

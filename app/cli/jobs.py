"""`flask jobs worker` and `flask jobs cron` (RQ on Redis), and `flask serve` (the embedded default,
jobs in-process with its periodic timer)."""
import os

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.serving import run_simple

from app.extensions import db
from app.queue import QUEUES
from app.queue import worker as queue_worker
from app.queue.backends import set_worker_app
from app.queue.schedule import InProcessScheduler
from app.queue.worker_threads import Confirmer, Dispatcher

jobs_cli = AppGroup("jobs", help="Background jobs: worker and scheduler.")


@jobs_cli.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker (with its scheduler, which runs retries) over the named queues; it
    reconnects when Redis goes away and comes back. With `intake` among the queues, the worker's
    dispatcher (stored webhook deliveries to batch jobs) and confirmer (orders stored from webhook
    bodies read back from the Admin API) threads run beside it."""
    _require_redis()
    queue_worker.import_jobs()

    app = current_app._get_current_object()
    set_worker_app(app)
    if app.config["WORKER_NICE"] > 0:
        os.nice(app.config["WORKER_NICE"])  # raising one's own niceness needs no privilege
    names = queues or QUEUES
    if "intake" in names:
        # The dispatcher uses this process's connection pool; a forked child (RQ's scheduler) must not
        # share those connections, so each child starts with a fresh pool.
        engine = db.engine
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        Dispatcher(app).start()
        Confirmer(app).start()
    queue_worker.run_worker(app, names, burst=burst)


@jobs_cli.command("cron")
def cron() -> None:
    """Queue the periodic jobs on time (run exactly one); it reconnects when Redis goes away."""
    _require_redis()
    queue_worker.run_cron(current_app._get_current_object())


def _require_redis() -> None:
    if not hasattr(current_app.extensions["jobs"], "queue"):
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker is needed.")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host: str, port: int) -> None:
    """Serve the app for the embedded default, with the in-process periodic timer."""
    app = current_app._get_current_object()
    if app.config.get("SCHEDULER_ENABLED") and not hasattr(app.extensions["jobs"], "queue"):
        InProcessScheduler(app).start()
    # app.run() refuses to run inside a `flask` command; werkzeug's server is what it would use.
    run_simple(host, port, app, threaded=True, use_reloader=False)

"""The worker and the cron scheduler, kept running through Redis outages.

RQ's worker quits for good on most Redis errors (a timeout, a failed heartbeat, a lost
connection while a job runs), and RQ's cron scheduler on any. Here each runs under a small
supervisor: when it ends without having been asked to stop, a warning is logged and a fresh one
is started after a back-off that grows to WORKER_RECONNECT_MAX_SECONDS, so work resumes within
seconds of Redis coming back, without a restart. Jobs lost with Redis's memory are queued again
by the sweepers from the database, which is the record.

The worker is RQ's SimpleWorker: each job runs in the worker's own process instead of a forked
work-horse. A fork (and the exit of the child) per job is kernel work the web server's requests
wait behind on a small host: during a flash sale it doubled intake's p99 on 2 cores
(bench/flash_sale.py). Nothing is lost by not forking: a job's app context and database session
are its own (app/queue/backends.py), its timeout is still enforced (SIGALRM in this, the main, thread),
and a worker killed mid-job leaves the job to the database sweepers, as a killed work-horse did.
"""
import logging
import signal
import threading
import time

from flask import Flask
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler

from app.queue import tuning
from app.queue.backends import resolve_job
from app.queue.schedule import PERIODIC
from app.queue.specs import SPECS
from app.redis_client import connect

log = logging.getLogger(__name__)

# A run that lasted this long was working: the next failure starts the back-off from the beginning.
_HEALTHY_RUN_SECONDS = 30.0
_FIRST_WAIT_SECONDS = 0.5


class Supervisor:
    """Runs `run_once` again after it fails, until it ends on request or a stop signal arrives."""

    def __init__(self, what: str, max_wait: float, sleep=None):
        self.what = what
        self.max_wait = max_wait
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait

    def run(self, run_once) -> None:
        """Call `run_once()` (True: it stopped on request) until it stops on request."""
        wait = _FIRST_WAIT_SECONDS
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                if run_once():
                    return
                log.warning("%s stopped without being asked to (Redis trouble?)", self.what)
            except RedisError as error:
                log.warning("%s lost Redis: %s: %s", self.what, type(error).__name__, error)
            if time.monotonic() - started > _HEALTHY_RUN_SECONDS:
                wait = _FIRST_WAIT_SECONDS
            log.warning("%s: starting again in %.1f s", self.what, wait)
            self._wait(wait)
            wait = min(wait * 2, self.max_wait)

    def _wait(self, seconds: float) -> None:
        # Between runs nobody else handles SIGTERM/SIGINT: they end the supervisor.
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
        for sig in previous:
            signal.signal(sig, lambda *_: self._stop.set())
        try:
            self._sleep(seconds)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def import_jobs() -> None:
    """Import every job's module now, before the worker takes its first job (a job's first run
    would otherwise pay for it)."""
    for name in SPECS:
        resolve_job(name)


def run_worker(app: Flask, queue_names, burst: bool = False) -> None:
    """`flask jobs worker`: an RQ worker that runs jobs in its own process (with RQ's scheduler,
    which runs retries) over the named queues, started again whenever Redis trouble ends it."""
    tuning.enable()  # long batch work may tune this process (it serves no requests)
    ttl = app.config["RQ_WORKER_TTL"]
    max_wait = app.config["WORKER_RECONNECT_MAX_SECONDS"]

    def run_once() -> bool:
        # Its own connection: RQ raises the socket timeout above its blocking wait (ttl - 15 s),
        # which must not leak into the app's short-timeout connection used to enqueue.
        connection = connect(app.config, socket_timeout=ttl - 5)
        worker = SimpleWorker([Queue(name, connection=connection) for name in queue_names],
                        connection=connection, worker_ttl=ttl)
        # RQ's own reconnect wait while dequeuing grows to 60 s by default; resume sooner.
        worker.max_connection_wait_time = max_wait
        try:
            worker.work(with_scheduler=True, burst=burst)
        except RedisError:
            # Asked to stop while Redis was away: RQ's shutdown fails on Redis, the stop stands.
            if worker._shutdown_requested_date is None:
                raise
        return burst or worker._shutdown_requested_date is not None

    Supervisor("worker", max_wait).run(run_once)


def run_cron(app: Flask) -> None:
    """`flask jobs cron`: RQ's cron scheduler over the periodic jobs (run exactly one), started
    again whenever Redis trouble ends it."""
    class Scheduler(CronScheduler):
        stop_requested = False

        def _request_stop(self, signum, frame):
            self.stop_requested = True
            super()._request_stop(signum, frame)

    def run_once() -> bool:
        scheduler = Scheduler(connection=connect(app.config))
        for periodic in PERIODIC:
            scheduler.register(**periodic.cron_options(app.config["SWEEP_INTERVAL_SECONDS"]))
        try:
            scheduler.start()  # returns only when asked to stop; Redis errors raise
        except RedisError:
            if not scheduler.stop_requested:  # a stop while Redis was away stands
                raise
        return True

    Supervisor("cron scheduler", app.config["WORKER_RECONNECT_MAX_SECONDS"]).run(run_once)

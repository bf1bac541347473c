"""The job backends, and the decorator that makes a function of ``jobs/`` a job.

With REDIS_URL set, jobs go to RQ: named queues, a timeout per job type, Retry with growing
intervals, a bounded failure TTL, and an optional unique job id so a job enqueued again while the
first is still waiting is not queued twice. Without Redis (the embedded default) a job runs
in-process: after the response has been sent when enqueued during a request, at once otherwise.

Jobs take ids, never ORM objects or secrets, and every job is written so a second run changes
nothing.
"""
import functools
import heapq
import importlib
import itertools
import logging
import threading
import time
from contextlib import contextmanager

from flask import Flask, current_app, g, has_app_context, has_request_context
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from app.extensions import is_database_busy
from app.queue.specs import SPECS, JobSpec
from app.redis_client import connect

log = logging.getLogger(__name__)

_running = threading.local()  # in-process: jobs queued by the job now running
_collected = threading.local()  # in-process: jobs queued inside `InProcessBackend.collecting`


def job(func=None, *, queue: str | None = None, timeout: int = 180, retry_intervals: tuple[int, ...] = (10, 60, 300)):
    """Declare a job function: bare (``@job``) for a job of ``jobs/``, queued as its entry in
    ``SPECS`` says; with a queue, timeout and retries for a job outside that table (the tests').
    The decorated function runs in a fresh app context per call and gains
    ``.enqueue(*ids, job_id=None)``."""

    def decorate(func):
        name = f"{func.__module__}.{func.__qualname__}"
        if queue is None:
            if name not in SPECS:
                raise LookupError(f"job {name} is not declared in app/queue/specs.py")
            spec = SPECS[name]
        else:
            spec = JobSpec(name, queue, timeout, tuple(retry_intervals))

        @functools.wraps(func)
        def run(*args, **kwargs):
            outermost = getattr(_running, "pending", None) is None
            if outermost:
                _running.pending = []
            try:
                with _job_context():
                    return func(*args, **kwargs)
            finally:
                if outermost:
                    # Jobs this job queued in-process run after it has finished and committed,
                    # as they would behind it on a real queue.
                    pending, _running.pending = _running.pending, None
                    for app, job_func, job_args in pending:
                        run_safely(app, job_func, job_args)

        run.spec = spec
        run.enqueue = functools.partial(_enqueue_function, run)
        return run

    return decorate if func is None else decorate(func)


def _enqueue_function(job_func, *args, job_id: str | None = None, unique: bool | None = None):
    """Queue ``job_func(*args)`` on the configured backend (``app.queue.enqueue`` with the
    function instead of its name)."""
    backend = current_app.extensions["jobs"]
    return backend.enqueue(job_func, args, job_id, job_id is not None if unique is None else unique)


# --- backends -------------------------------------------------------------------------------

class RQBackend:
    """Jobs go to Redis through RQ; a separate worker process runs them."""

    runs_in_process = False

    def __init__(self, app: Flask):
        self.connection = connect(app.config)
        self.failure_ttl = app.config["RQ_FAILURE_TTL_SECONDS"]
        self.retry_after = app.config["REDIS_RETRY_AFTER_SECONDS"]
        self._quiet_until = 0.0  # monotonic time before which enqueues do not ask Redis
        self._queues = {}

    def queue(self, name: str):
        """The RQ queue of that name (created lazily, one per name)."""
        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.connection)
        return self._queues[name]

    @contextmanager
    def collecting(self):
        """Nothing to collect: a job goes to Redis when queued (see InProcessBackend.collecting)."""
        yield []

    def enqueue(self, job_func, args, job_id, unique):
        """Queue one job; raises RedisUnavailable at once for a moment after Redis has failed."""
        if time.monotonic() < self._quiet_until:
            raise RedisUnavailable(f"Redis failed less than {self.retry_after:g} s ago; not queued")
        try:
            return self._enqueue(job_func, args, job_id, unique)
        except RedisError:
            self._quiet_until = time.monotonic() + self.retry_after
            raise

    def _enqueue(self, job_func, args, job_id, unique):
        spec = job_func.spec
        retry = None
        if spec.retry_intervals:
            retry = Retry(max=len(spec.retry_intervals), interval=list(spec.retry_intervals))
        # RQ given a pipeline sends the queue's registration and the job together: one round
        # trip instead of two (a unique job's atomic script still goes on its own).
        pipeline = self.connection.pipeline()
        try:
            # A job named by app code goes to RQ as its dotted path, imported by the worker.
            target = spec.name if isinstance(job_func, NamedJob) else job_func
            job = self.queue(spec.queue).enqueue(
                target, *args, job_id=job_id, unique=unique,
                job_timeout=spec.timeout, retry=retry, failure_ttl=self.failure_ttl,
                description=f"{spec.name}{args}", pipeline=pipeline,
            )
            pipeline.execute()
            return job
        except DuplicateJobError:
            # The same job is already waiting; it will do this work.
            return None

    def enqueue_spec(self, spec: JobSpec, args, job_id, unique):
        """Queue a job by its name: the worker imports it when it runs (app code never does)."""
        return self.enqueue(NamedJob(spec), args, job_id, unique)

    def waiting(self, name: str) -> int:
        """Jobs waiting in the named queue."""
        return self.queue(name).count


class RedisUnavailable(RedisConnectionError):
    """Redis failed moments ago: the job is not queued (what it would do is stored, and a sweeper
    queues it), without waiting out another timeout."""


class InProcessBackend:
    """The embedded default: no Redis, no worker; jobs run in this process.

    Jobs queued during a request run after the response: on a background thread of this
    process (the default — a server may never call the response's close() when the browser hangs
    up early, e.g. after reading a redirect's headers), or, with JOBS_INPROCESS_THREAD off (the
    test config), when the response is closed, which makes tests deterministic.

    A job that fails is tried again as RQ would (see `RQBackend.enqueue`): after each of its
    declared retry intervals (times JOBS_RETRY_INTERVAL_SCALE), on the background thread, and
    then no more (JOBS_INPROCESS_RETRIES off: never).

    Outbound webhook deliveries (the `webhooks` queue) run on a thread of their own (`lane`), as
    they have their own worker on RQ: a burst to a slow receiver never delays issuing."""

    runs_in_process = True

    def __init__(self, app: Flask):
        self.app = app
        self.use_thread = app.config["JOBS_INPROCESS_THREAD"]
        self.retries = app.config["JOBS_INPROCESS_RETRIES"]
        self.retry_scale = float(app.config["JOBS_RETRY_INTERVAL_SCALE"])
        # Per lane, a heap of (when, order, job_func, args, attempt) and the thread that drains it.
        self._due: dict[str, list] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0

    @staticmethod
    def lane(job_func) -> str:
        """The thread a job runs on: the outbound webhooks queue has its own, so a burst of
        deliveries to a slow receiver never waits ahead of issuing (as its own worker does on RQ)."""
        return "webhooks" if job_func.spec.queue == "webhooks" else "main"

    def submit(self, jobs: list, delay: float = 0.0, attempt: int = 0) -> None:
        """Run jobs on the background thread of their lane in `delay` seconds, one after another,
        in order."""
        when = time.monotonic() + delay
        with self._cond:
            for job_func, args in jobs:
                lane = self.lane(job_func)
                if lane not in self._threads:
                    self._due[lane] = []
                    self._threads[lane] = threading.Thread(target=self._drain_forever, args=(lane,),
                                                           name=f"boomerang-jobs-{lane}", daemon=True)
                    self._threads[lane].start()
                heapq.heappush(self._due[lane], (when, next(self._order), job_func, args, attempt))
            self._cond.notify_all()

    def retry_later(self, job_func, args, attempt: int) -> float | None:
        """Schedule try number `attempt` + 1 of a job that failed `attempt` times; the seconds
        until it runs, or None when the job has no retry left."""
        intervals = job_func.spec.retry_intervals
        if not self.retries or attempt > len(intervals):
            return None
        delay = intervals[attempt - 1] * self.retry_scale
        self.submit([(job_func, args)], delay, attempt)
        return delay

    def _drain_forever(self, lane: str) -> None:
        due = self._due[lane]
        while True:
            with self._cond:
                while not due or due[0][0] > time.monotonic():
                    self._cond.wait(due[0][0] - time.monotonic() if due else None)
                _, _, job_func, args, attempt = heapq.heappop(due)
                self._busy += 1
            try:
                run_safely(self.app, job_func, args, attempt)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has run, retries included (tests and shutdown);
        False if `timeout` seconds passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not any(self._due.values()) and not self._busy, timeout)

    def enqueue_spec(self, spec: JobSpec, args, job_id, unique):
        """Run a job named by its dotted path, found when it runs (as a worker would)."""
        return self.enqueue(NamedJob(spec), args, job_id, unique)

    def waiting(self, name: str) -> int:
        """Nothing waits: jobs run in this process."""
        return 0

    @contextmanager
    def collecting(self):
        """Jobs queued inside the block are listed instead of run, for `run_after_response`:
        the webhook fast path answers without a request context, where `enqueue` would
        otherwise run them at once, before the answer."""
        outer = getattr(_collected, "jobs", None)
        _collected.jobs = jobs = []
        try:
            yield jobs
        finally:
            _collected.jobs = outer

    def run_after_response(self, jobs: list, call_on_close) -> None:
        """Run `jobs` once the response has gone out: on the background thread, or (with
        JOBS_INPROCESS_THREAD off) when the server closes the response, through
        `call_on_close(callback)`."""
        if self.use_thread:
            self.submit(jobs)
        else:
            call_on_close(lambda: [run_safely(self.app, job_func, args) for job_func, args in jobs])

    def enqueue(self, job_func, args, job_id, unique):
        if getattr(_collected, "jobs", None) is not None:  # innermost: a request context may be around it
            _collected.jobs.append((job_func, args))
        elif has_request_context():
            # Keep the request fast: run once the response has gone out (see _run_deferred).
            g.setdefault("deferred_jobs", []).append((job_func, args))
        elif getattr(_running, "pending", None) is not None:
            if self.use_thread and self.lane(job_func) != "main":
                self.submit([(job_func, args)])  # its own lane, never behind (or ahead of) this job's work
            else:
                _running.pending.append((self.app, job_func, args))
        else:
            run_safely(self.app, job_func, args)
        return None


def resolve_job(name: str):
    """The job function of that dotted name, imported now (app code names jobs, never imports
    them: this is where a name becomes a function, when the job runs or a worker starts)."""
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


class NamedJob:
    """A job known by its name: RQ is given the dotted path (it imports the function in the
    worker); run in-process, the function is imported at that moment."""

    def __init__(self, spec: JobSpec):
        self.spec = spec

    def __call__(self, *args):
        return resolve_job(self.spec.name)(*args)


# A job's transaction begins deferred (it may read across a call to Shopify and must not block
# requests meanwhile), so its first write upgrades it, and SQLite refuses that upgrade at once,
# without its busy wait, while another connection writes or once one has committed since the
# job began reading (https://www.sqlite.org/lang_transaction.html, "Read transactions";
# https://www.sqlite.org/rescode.html#busy_snapshot). The cure is to roll back and run the
# transaction again: the job is run again after these pauses, and only then is it a failure.
BUSY_PAUSES = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0)


def run_safely(app: Flask, job_func, args, attempt: int = 0) -> bool:
    """Run one in-process job (after `attempt` failed tries); whether it succeeded. A failure is
    logged and the job scheduled again after its next retry interval, never raised into the
    caller."""
    for pause in (*BUSY_PAUSES, None):
        try:
            with app.app_context():
                job_func(*args)
            return True
        except Exception as error:  # a failed job must not break the request that queued it
            if pause is not None and is_database_busy(error):
                time.sleep(pause)
                continue
            backend = app.extensions.get("jobs")
            delay = backend.retry_later(job_func, args, attempt + 1) if isinstance(backend, InProcessBackend) else None
            tried = f"try {attempt + 1} of {len(job_func.spec.retry_intervals) + 1}"
            if delay is None:
                log.exception("job %s%r failed (%s); not tried again", job_func.spec.name, args, tried)
            else:
                log.exception("job %s%r failed (%s); tried again in %.1f s", job_func.spec.name, args, tried, delay)
            return False
    return False


def _run_deferred(response):
    deferred = g.pop("deferred_jobs", None)
    if deferred:
        current_app.extensions["jobs"].run_after_response(deferred, response.call_on_close)
    return response


# --- app contexts for jobs -------------------------------------------------------------------

_worker_app: Flask | None = None


def set_worker_app(app: Flask) -> None:
    """Give a worker process the app its jobs run in (built once, before its first job)."""
    global _worker_app
    _worker_app = app


@functools.cache
def _default_worker_app() -> Flask:
    from app import create_app  # a cycle: create_app sets up this module's backends

    return create_app()


class _job_context:
    """A fresh app context per job, so each job gets its own database session."""

    def __enter__(self):
        if has_app_context():
            app = current_app._get_current_object()
        else:
            # Jobs run in the worker's own process (SimpleWorker), on its connection pool.
            app = _worker_app or _default_worker_app()
        self._ctx = app.app_context()
        self._ctx.push()

    def __exit__(self, *exc):
        self._ctx.pop(exc[1])
        return False


def init_app(app: Flask) -> None:
    """Choose the backend: RQ when REDIS_URL is set (or JOBS_BACKEND=rq), in-process otherwise.

    The backend in use is ``app.extensions["jobs"]``, and app code only ever reaches it there. Any
    object with the same members (``runs_in_process``, ``enqueue``, ``enqueue_spec``, ``waiting``, and
    ``collecting``, which the webhook fast path asks for) may be put in its place: the tests put
    one there that records what is queued and runs nothing (``tests/support/queue.py``)."""
    choice = app.config.get("JOBS_BACKEND") or ("rq" if app.config.get("REDIS_URL") else "inprocess")
    if choice == "rq":
        if not app.config.get("REDIS_URL"):
            raise RuntimeError("JOBS_BACKEND=rq needs REDIS_URL")
        app.extensions["jobs"] = RQBackend(app)
    elif choice == "inprocess":
        app.extensions["jobs"] = InProcessBackend(app)
        app.after_request(_run_deferred)
    else:
        raise RuntimeError(f"JOBS_BACKEND must be rq or inprocess, not {choice!r}")

"""The job queue: app code queues a job of ``jobs/`` by its name, without importing it.

``jobs/`` is a leaf that nothing in ``app/`` imports (DESIGN §3): services say which job should
run (its dotted name, declared in ``app/queue/specs.py``) with ids for arguments, and the
configured backend (RQ, or in-process in the embedded default; ``app/queue/backends.py``) finds
the function by that name when it runs it. The worker, its threads and the periodic timer live
beside it (``worker.py``, ``worker_threads.py``, ``schedule.py``).
"""
from __future__ import annotations

from flask import current_app

from app.queue.backends import RedisUnavailable, job
from app.queue.specs import QUEUES, SPECS, JobSpec

__all__ = ["QUEUES", "SPECS", "JobSpec", "RedisUnavailable", "enqueue", "job", "waiting"]


def enqueue(name: str, *args, job_id: str | None = None, unique: bool | None = None):
    """Queue the job ``name`` (its dotted path, declared in ``SPECS``) with id arguments; returns
    the RQ job, or None when it runs in-process or an identical unique job already waits.

    A job with a ``job_id`` is unique unless told otherwise: enqueued again while the first is
    still waiting, it is not queued twice."""
    spec = SPECS[name]
    backend = current_app.extensions["jobs"]
    return backend.enqueue_spec(spec, args, job_id, job_id is not None if unique is None else unique)


def waiting(queue: str) -> int:
    """How many jobs wait in that queue (0 with in-process jobs, which never wait)."""
    return current_app.extensions["jobs"].waiting(queue)

"""A job backend that records what is queued and runs nothing, for tests about *what* gets queued.

It stands where the app keeps its job backend, ``app.extensions["jobs"]`` (``app/queue/backends.py``),
so app code queues on it exactly as on RQ or in-process: by name through ``app.queue.enqueue`` or
through a job function's ``.enqueue``. Nothing of the app is patched.
"""
from contextlib import contextmanager


class Queued(tuple):
    """One queued job. It compares and unpacks as ``(name, args)``, the pair a test writes down; the
    enqueue's keyword arguments are on ``kwargs`` (``job_id``, ``unique``)."""

    def __new__(cls, name: str, args, job_id: str | None = None, unique: bool = False, queue: str | None = None):
        self = super().__new__(cls, (name, tuple(args)))
        self.kwargs = {"job_id": job_id, "unique": unique}
        self.queue = queue
        return self

    @property
    def name(self) -> str:
        """The job's dotted name."""
        return self[0]

    @property
    def args(self) -> tuple:
        """The job's (id) arguments."""
        return self[1]


class RecordingBackend:
    """Records each job queued, in order, in ``queued``; runs none of them.

    ``runs_in_process`` is the answer app code gets when it asks how jobs run (webhook intake and
    batches choose their path by it): take it from the backend this one stands in for. Set
    ``refuse`` to an exception to have every enqueue raise it, as RQ does while Redis is away."""

    def __init__(self, runs_in_process: bool = False, refuse: BaseException | None = None):
        self.runs_in_process = runs_in_process
        self.refuse = refuse
        self.queued: list = []

    @classmethod
    def standing_in_for(cls, backend) -> "RecordingBackend":
        """A recorder that answers ``runs_in_process`` as ``backend`` does."""
        return cls(runs_in_process=getattr(backend, "runs_in_process", False))

    def enqueue_spec(self, spec, args, job_id, unique):
        """Record a job queued by name (``app.queue.enqueue``)."""
        if self.refuse is not None:
            raise self.refuse
        self.queued.append(Queued(spec.name, args, job_id, unique, spec.queue))

    def enqueue(self, job_func, args, job_id, unique):
        """Record a job queued through its function's ``.enqueue``."""
        return self.enqueue_spec(job_func.spec, args, job_id, unique)

    @contextmanager
    def collecting(self):
        """Nothing is held back: a job is recorded when queued (the webhook fast path asks every
        backend for this; see ``InProcessBackend.collecting``)."""
        yield []

    def waiting(self, name: str) -> int:
        """How many recorded jobs are on the named queue."""
        return sum(1 for job in self.queued if getattr(job, "queue", None) == name)

    def names(self) -> list[str]:
        """The short names (after the last dot) of what is queued now, in order."""
        return [name.rsplit(".", 1)[1] for name, _ in self.queued]

    def args_of(self, name: str) -> list[tuple]:
        """The arguments of each queued job of that name (dotted, or short), in order."""
        return [args for queued, args in self.queued if queued == name or queued.rsplit(".", 1)[1] == name]


def record_jobs(app, monkeypatch, backend: RecordingBackend | None = None) -> RecordingBackend:
    """Put ``backend`` (a new recorder by default) where ``app`` keeps its job backend, until the
    test ends: the app's jobs are recorded from now on, not run."""
    backend = backend or RecordingBackend.standing_in_for(app.extensions["jobs"])
    monkeypatch.setitem(app.extensions, "jobs", backend)
    return backend


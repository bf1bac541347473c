"""Interpreter tuning for long batch work (the bulk import), applied in a worker process only.

Two process-wide knobs speed up an import by a third or more (bench/import_bulk.py), and both
would hurt a web server's requests if turned in its process, where the embedded configuration
runs jobs on a background thread:
- the cyclic garbage collector, paused for the import: the parsed nodes are acyclic and freed
  by reference counting, yet the collector traverses every batch held in memory again and again;
- the interpreter's switch interval, cut to a few microseconds: the importing thread waits on
  PostgreSQL a dozen times a batch and, each time it is ready again, must win the GIL back from
  the thread reading ahead, which CPython hands over only every switch interval (5 ms).

`flask jobs worker` calls `enable()` before its first job; elsewhere `batch_work()` changes
nothing, so a service may always ask for it.
"""
import gc
import sys
from contextlib import contextmanager

# 5-20 µs measured best here (the import over 50,000 orders).
SWITCH_INTERVAL = 0.000005

_enabled = False


def enable() -> None:
    """Let `batch_work` tune this process: called by a worker process before its first job."""
    global _enabled
    _enabled = True


def enabled() -> bool:
    """Whether this process applies the tuning (a worker's does)."""
    return _enabled


class BatchWork:
    """What `batch_work` yields: `after_batch()` collects the young generations when the
    collector is paused (what it would have done itself), and does nothing otherwise."""

    def __init__(self, paused_gc: bool):
        self.paused_gc = paused_gc

    def after_batch(self) -> None:
        """Call between batches."""
        if self.paused_gc:
            gc.collect(1)


@contextmanager
def batch_work():
    """In a worker process: the collector paused and the switch interval short while the block
    runs, both restored after; anywhere else, nothing changes."""
    if not _enabled:
        yield BatchWork(paused_gc=False)
        return
    collecting = gc.isenabled()
    interval = sys.getswitchinterval()
    gc.disable()
    sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
    try:
        yield BatchWork(paused_gc=True)
    finally:
        sys.setswitchinterval(interval)
        if collecting:
            gc.enable()

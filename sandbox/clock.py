"""Clocks for the sandbox.

The sandbox never calls ``time.time()`` directly for anything a test may want to
control (rate-limit buckets, order timestamps, the 60-day window, search lag,
bulk-operation progress).  It asks a clock.  ``RealClock`` is wall time;
``VirtualClock`` only moves when someone sleeps on it or advances it, so a test
can run a 5,000-order throttled import in virtual minutes and real seconds.
"""
from __future__ import annotations

import threading
import time


class RealClock:
    """Wall-clock time: ``now()`` is ``time.time()``, ``sleep`` really sleeps."""

    virtual = False

    def now(self) -> float:
        """Return the current time in seconds since the epoch."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """A thread-safe clock that only moves when told to.

    ``sleep(s)`` advances the clock by ``s`` and returns at once, so code that
    backs off on THROTTLED keeps its logic but costs no real time.  Threads that
    wait for virtual time to pass (bulk operations) use ``wait_until``.
    """

    virtual = True

    def __init__(self, start: float | None = None):
        # Default start: real "now", truncated so seeded data is stable within a run.
        self._now = float(int(time.time()) if start is None else start)
        self._cond = threading.Condition()

    def now(self) -> float:
        """Return the current virtual time in seconds since the epoch."""
        with self._cond:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and wake any waiters."""
        with self._cond:
            if seconds > 0:
                self._now += seconds
            self._cond.notify_all()
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance virtual time by ``seconds`` without blocking."""
        self.advance(seconds)
        # Give other threads (bulk runner, webhook worker) a chance to run.
        time.sleep(0)

    def set(self, when: float) -> None:
        """Jump to an absolute time (never backwards)."""
        with self._cond:
            self._now = max(self._now, float(when))
            self._cond.notify_all()

    def wait_until(self, when: float, real_timeout: float = 0.05) -> bool:
        """Wait (briefly, in real time) for virtual time to reach ``when``.

        Returns True when the clock has reached ``when``.  The real-time timeout
        keeps background threads responsive to shutdown.
        """
        with self._cond:
            if self._now >= when:
                return True
            self._cond.wait(real_timeout)
            return self._now >= when


def wait_until(clock, when: float, real_timeout: float = 0.05) -> bool:
    """Wait until ``clock`` reaches ``when``; works for both clock kinds.

    For a real clock this sleeps at most ``real_timeout``; for a virtual one it
    waits for another thread to advance the clock.  Returns True once reached.
    """
    if hasattr(clock, "wait_until"):
        return clock.wait_until(when, real_timeout)
    remaining = when - clock.now()
    if remaining <= 0:
        return True
    time.sleep(min(remaining, real_timeout))
    return clock.now() >= when

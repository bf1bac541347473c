"""The threads of `flask jobs worker` (RQ) beside the worker itself: the dispatcher (stored
deliveries to batch jobs within a fraction of a second) and the confirmer (orders stored from
webhook bodies read back from the Admin API, at the pace of the shop's bucket). Neither forks or
holds a worker: the confirmer mostly waits for points to refill."""
import logging
import threading
import uuid

from flask import Flask

from app.extensions import db
from app.services.dispatch import CLAIM_LIMIT, dispatch_pending
from app.services.order_confirm import confirm_all_pending

log = logging.getLogger(__name__)

CONFIRM_LOOK_SECONDS = 1.0


class _PassThread(threading.Thread):
    """Runs `work()` in a fresh app context, pass after pass, waiting `interval` after a pass that
    did less than `busy` (a busy one goes again at once). Errors are logged, never raised: the
    database or Redis may be away for a while, and the thread must outlive it."""

    busy = 1

    def __init__(self, app: Flask, name: str, interval: float):
        super().__init__(name=name, daemon=True)
        self.app = app
        self.interval = interval
        self._halt = threading.Event()

    def work(self) -> int:
        """One pass; returns how much it did."""
        raise NotImplementedError

    def run_once(self) -> int:
        """One pass in its own app context (0 when it failed)."""
        with self.app.app_context():
            try:
                return self.work()
            except Exception:  # logged; the next pass tries again
                log.warning("%s pass failed", self.name, exc_info=True)
                return 0
            finally:
                db.session.remove()

    def run(self):
        while not self._halt.is_set():
            if self.run_once() < self.busy:
                self._halt.wait(self.interval)

    def stop(self):
        """Stop after the current pass."""
        self._halt.set()


class Dispatcher(_PassThread):
    """Every DISPATCH_INTERVAL_SECONDS, claim new deliveries and queue them in batches. Each
    worker runs one; their claims never overlap (app/services/dispatch.py). A pass that found a
    full claim goes again at once; otherwise what arrives meanwhile makes the next batches fuller."""

    busy = CLAIM_LIMIT

    def __init__(self, app: Flask):
        super().__init__(app, "boomerang-dispatcher", app.config["DISPATCH_INTERVAL_SECONDS"])

    def work(self) -> int:
        return dispatch_pending()


class Confirmer(_PassThread):
    """Every CONFIRM_LOOK_SECONDS, confirm the listed orders of every shop. Each worker runs one;
    a shop's lease lets one of them at a time spend its bucket (app/services/order_confirm.py)."""

    def __init__(self, app: Flask):
        super().__init__(app, "boomerang-confirmer", CONFIRM_LOOK_SECONDS)
        self.holder = f"confirmer-{uuid.uuid4().hex[:12]}"

    def work(self) -> int:
        return confirm_all_pending(self.holder, self.app.config["CONFIRM_JOB_SECONDS"])

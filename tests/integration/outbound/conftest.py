"""Fixtures for outbound webhooks: a receiver on 127.0.0.1, a clock the sender reads, and the jobs
queued recorded (``jobs.queued``) so each test says when a delivery is attempted."""
import pytest

from tests.support.outbound import outbound_clock, receiver  # noqa: F401  (fixtures)
from tests.support.shopify_returns import record_jobs


@pytest.fixture
def jobs(app, monkeypatch):
    """Jobs queued by name are recorded; ``jobs.run()`` runs them (each twice)."""
    return record_jobs(app, monkeypatch)

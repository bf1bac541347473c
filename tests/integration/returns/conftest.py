"""Fixtures for issuing through Shopify returns against the sandbox."""
import pytest

from tests.support.shopify_returns import record_jobs


@pytest.fixture
def jobs(app, monkeypatch):
    """Jobs queued by name are recorded; ``jobs.run()`` runs them (each twice)."""
    return record_jobs(app, monkeypatch)


@pytest.fixture
def virtual_clock(app, sandbox, monkeypatch):
    """Clients pace on the sandbox's virtual clock (no real waiting on the bucket)."""
    monkeypatch.setitem(app.config, "SHOPIFY_CLOCK", sandbox.clock)
    return sandbox.clock

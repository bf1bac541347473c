"""The suite's fixtures, layered in ``tests/fixtures/`` and registered here (FlaskBB's way): ``app``
(the app, its rolled-back database, Redis, jobs), ``accounts`` on it, ``shops`` in the sandbox,
``auth`` to log in, ``jobs`` to record what is queued. Model builders are in ``tests/factories.py``.

Two configurations run the same suite:
- embedded default: SQLite + in-process jobs (no environment needed);
- production shape: PostgreSQL + Redis, by setting TEST_DATABASE_URL and TEST_REDIS_URL.
"""
import os

import pytest

# The layered fixtures and helpers import one another: registered before any is imported, their
# asserts are rewritten (pytest explains a failed assert there too).
pytest.register_assert_rewrite("tests.fixtures", "tests.support")

from app.config import TestConfig  # noqa: E402  (after the registration above)
from tests.fixtures.app import REDIS_URL  # noqa: E402

pytest_plugins = ["tests.fixtures.app", "tests.fixtures.accounts", "tests.fixtures.shops", "tests.fixtures.auth",
                  "tests.fixtures.jobs", "tests.support.e2e", "tests.sandbox_fixtures",
                  "tests.support.shopify_webhooks"]


def production_shape() -> bool:
    """PostgreSQL and Redis are configured (TEST_DATABASE_URL and TEST_REDIS_URL)."""
    return bool(REDIS_URL) and TestConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """Mark browser and chaos tests so they can be selected or left out with -m. Chaos tests
    kill and freeze the production shape's parts: outside it there is nothing of theirs to run,
    so they are deselected (not skipped, which FAIL_ON_SKIP would count)."""
    kept, deselected = [], []
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
        if "tests/chaos/" in str(item.fspath):
            item.add_marker(pytest.mark.chaos)
            if not production_shape():
                deselected.append(item)
                continue
        kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """The production-shape run must skip nothing: FAIL_ON_SKIP=1 turns any skip into a failure."""
    if os.environ.get("FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"FAIL_ON_SKIP=1: {len(skipped)} test(s) were skipped", red=True)
        if session.exitstatus == 0:
            session.exitstatus = 1

"""The bulk import's process-wide tuning (collector paused, short switch interval) happens in a
worker process only: in the web process, where the embedded configuration runs jobs, an import
changes neither, so requests served meanwhile keep the interpreter's defaults."""
import gc
import sys
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ImportRun, Order
from app.queue import tuning
from app.services.imports import import_bulk_nodes
from app.shopify.bulk import iter_bulk_objects
from tests.factories import make_account
from tests.unit.shopify.test_bulk import jsonl_for, second_order
from tests.unit.shopify.test_mapping import GRAPHQL_ORDER_1001


def _watched_nodes(seen: list):
    """The bulk export's nodes, noting the collector's state and the switch interval as each
    is read (by the importing thread, then by the reader thread)."""
    for node in iter_bulk_objects(jsonl_for([GRAPHQL_ORDER_1001, second_order()])):
        seen.append((gc.isenabled(), sys.getswitchinterval()))
        yield node


def _import(seen: list) -> int:
    account = make_account(shop_domain=None)
    run = ImportRun(account_id=account.id, status="running", method="bulk", imported=0,
                    since=datetime(2000, 1, 1, tzinfo=timezone.utc))
    db.session.add(run)
    db.session.commit()
    import_bulk_nodes(run, account, _watched_nodes(seen))
    return db.session.scalar(select(func.count()).select_from(Order).where(Order.account_id == account.id))


@pytest.fixture
def defaults():
    """The interpreter's settings before the test, checked unchanged after it."""
    before = (gc.isenabled(), sys.getswitchinterval())
    yield before
    assert (gc.isenabled(), sys.getswitchinterval()) == before


def test_an_import_outside_a_worker_leaves_the_collector_and_switch_interval_alone(app, defaults, monkeypatch):
    monkeypatch.setattr(tuning, "_enabled", False)
    seen = []
    assert _import(seen) == 2
    assert seen and set(seen) == {defaults}


def test_in_a_worker_the_import_pauses_the_collector_and_shortens_the_switch_interval(app, defaults, monkeypatch):
    monkeypatch.setattr(tuning, "_enabled", False)
    tuning.enable()  # what `flask jobs worker` does before its first job
    assert tuning.enabled()
    seen = []
    assert _import(seen) == 2
    assert seen and all(enabled is False and interval <= tuning.SWITCH_INTERVAL for enabled, interval in seen)


def test_a_worker_gets_the_tuning_before_its_first_job(monkeypatch):
    """`run_worker` enables it (checked without Redis: the worker's supervisor is stopped at once)."""
    from app.queue import worker as queue_worker

    monkeypatch.setattr(tuning, "_enabled", False)

    class Stop(Exception):
        pass

    def refuse(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(queue_worker, "connect", refuse)

    class App:
        config = {"RQ_WORKER_TTL": 60, "WORKER_RECONNECT_MAX_SECONDS": 1}

    with pytest.raises(Stop):
        queue_worker.run_worker(App(), ["default"], burst=True)
    assert tuning.enabled()

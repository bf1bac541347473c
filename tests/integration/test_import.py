"""The initial order import: bulk export, paginated fallback, idempotence, resumption, the window."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Account, ImportRun, Order
from app.services import imports
from app.shopify import errors as E
from tests.factories import make_account
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.connect import (SEEDED, SHOP, connected_account, make_shop, order_count, sandbox_order_count,
                                   use_virtual_time)
from tests.support.imports import run_now, snapshot


# --- the bulk path and its fallback -------------------------------------------------------------------

def test_the_bulk_import_stores_every_order_with_its_lines(app, shop):
    account = connected_account(shop)
    run = run_now(account)
    assert run.status == "completed" and run.method == "bulk" and run.bulk_operation_id
    assert run.total == run.imported == SEEDED == order_count(account.id)
    assert run.error is None and run.finished_at is not None
    sandbox_orders = shop.store.get_shop(SHOP).orders
    for order in db.session.scalars(select(Order).where(Order.account_id == account.id)):
        source = sandbox_orders[order.shopify_order_id]
        assert order.name == f"#{source.number}"
        assert order.email == source.email
        assert len(order.lines) == len(source.lines)
        assert [line.quantity for line in order.lines] == [line.quantity for line in source.lines]


@pytest.mark.parametrize("where", ["start", "wait", "download"])
def test_when_the_bulk_export_fails_the_import_falls_back_to_pages(app, shop, monkeypatch, where):
    def broken(*args, **kwargs):
        if where == "download":
            raise E.BulkResultError("line 3 is not valid JSON (truncated download?)", line_number=3)
        raise E.BulkOperationError("bulk operation failed (INTERNAL_SERVER_ERROR)", status="FAILED")

    target = {"start": "start_bulk_orders", "wait": "wait_for_bulk_operation",
              "download": "iter_bulk_orders"}[where]
    monkeypatch.setattr(imports, target, broken)
    account = connected_account(shop)
    run = run_now(account)
    assert run.status == "completed" and run.method == "paginated"
    assert run.imported == SEEDED == order_count(account.id)


def test_a_shop_without_orders_imports_nothing_and_finishes(app, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, orders=0)
    account = connected_account(shop)
    run = run_now(account)
    assert run.status == "completed" and run.imported == 0 and run.total == 0


# --- idempotence and resumption -------------------------------------------------------------------

def test_running_the_import_twice_leaves_the_same_rows(app, shop):
    account = connected_account(shop)
    first = run_now(account)
    rows = snapshot(account.id)
    assert len(rows) == SEEDED
    assert imports.run_import(first.id) == "not claimed (completed)"
    second = run_now(account)  # a finished import is not continued: a new run starts
    assert second.id != first.id and second.status == "completed"
    db.session.expire_all()
    assert snapshot(account.id) == rows


def test_an_import_that_crashes_midway_continues_where_it_stopped(app, shop, monkeypatch):
    monkeypatch.setattr(imports, "BULK_BATCH_SIZE", 7)
    real = imports.upsert_graphql_orders
    calls = []

    def crashing(account_id, batch):
        calls.append(len(batch))
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return real(account_id, batch)

    monkeypatch.setattr(imports, "upsert_graphql_orders", crashing)
    account = connected_account(shop)
    run = imports.start_import(account, enqueue=False)
    with pytest.raises(RuntimeError):
        imports.run_import(run.id)
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert run.status == "failed" and "RuntimeError" in run.error
    assert run.imported == 14 == order_count(account.id)

    calls.clear()
    monkeypatch.setattr(imports, "upsert_graphql_orders", lambda a, b: calls.append(len(b)) or real(a, b))
    assert imports.run_import(run.id) == "completed"
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert order_count(account.id) == SEEDED == sandbox_order_count(shop)
    assert run.imported == run.total == SEEDED
    assert sum(calls) == SEEDED - 14  # the committed batches were not written again


def test_a_paginated_import_that_crashes_resumes_from_its_last_batch(app, shop, monkeypatch):
    monkeypatch.setattr(imports, "start_bulk_orders", lambda *a, **k: (_ for _ in ()).throw(
        E.BulkOperationError("bulk unavailable")))
    monkeypatch.setattr(imports, "PAGINATED_BATCH_SIZE", 10)
    real = imports.upsert_orders
    calls = []

    def crashing(account_id, batch):
        calls.append(1)
        if len(calls) == 3:
            raise E.ShopifyTimeoutError("Shopify did not answer")
        return real(account_id, batch)

    monkeypatch.setattr(imports, "upsert_orders", crashing)
    account = connected_account(shop)
    run = imports.start_import(account, enqueue=False)
    with pytest.raises(E.ShopifyTimeoutError):
        imports.run_import(run.id)
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert run.status == "failed" and run.method == "paginated"
    assert run.error == "Shopify did not answer in time. Try again in a minute."
    assert run.imported == 20 == order_count(account.id)
    resume_from = run.resume_from
    assert resume_from is not None

    real_iter = imports.iter_orders
    seen = {}

    def spying_iter(client, **kwargs):
        seen.update(kwargs)
        return real_iter(client, **kwargs)

    monkeypatch.setattr(imports, "iter_orders", spying_iter)
    monkeypatch.setattr(imports, "upsert_orders", real)
    assert imports.run_import(run.id) == "completed"
    assert seen["created_at_min"] == resume_from
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert order_count(account.id) == SEEDED == sandbox_order_count(shop)
    assert run.imported == SEEDED


def test_only_one_worker_can_hold_a_run_and_an_abandoned_run_can_be_taken_over(app, shop):
    account = connected_account(shop)
    run = imports.start_import(account, enqueue=False)
    assert imports.claim(run.id) is True
    assert imports.claim(run.id) is False
    later = datetime.now(timezone.utc) + imports.LEASE + timedelta(seconds=1)
    assert imports.claim(run.id, now=later) is True


def test_a_revoked_token_stops_the_import_and_disconnects_the_store(app, shop):
    account = connected_account(shop)
    shop.store.uninstall_app(SHOP, shop.client_id)
    run = run_now(account)
    assert run.status == "failed" and "no longer accepts" in run.error
    db.session.expire_all()
    account = db.session.get(Account, account.id)
    assert not account.is_connected and "no longer accepts" in account.disconnect_reason


# --- the window ---------------------------------------------------------------------------------------

def test_the_window_is_capped_at_60_days_without_read_all_orders(app, shop):
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    capped = make_account(initial_import_days=90, granted_scopes=["read_orders", "read_products"])
    since, note = imports.import_window(capped, now)
    assert since == now - timedelta(days=60)
    assert "last 60 days instead of 90" in note and "read_all_orders" in note
    full = make_account(initial_import_days=90, granted_scopes=["read_orders", "read_all_orders"])
    assert imports.import_window(full, now) == (now - timedelta(days=90), None)
    default = make_account(granted_scopes=["read_orders"])
    assert imports.import_window(default, now) == (now - timedelta(days=30), None)


def test_orders_older_than_the_window_are_not_imported(app, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, orders=0)
    import time as _time

    sandbox.store.seed(SHOP, orders=10, days=10, seed=5, end=_time.time() - 40 * 86400)  # too old
    sandbox.store.seed(SHOP, orders=12, days=20, seed=6, end=_time.time())
    account = connected_account(shop)
    run = run_now(account)
    assert run.imported == 12 == order_count(account.id)

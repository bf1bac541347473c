"""The initial order import: bulk export, paginated fallback, idempotence, resumption, progress."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Account, ImportRun, Order
from app.services import imports
from app.services.orders import upsert_order
from app.shopify import errors as E
from app.shopify.operations import iter_orders
from tests.factories import PASSWORD, make_account, make_user
from tests.integration.test_connect import (SEEDED, SHOP, make_shop, order_count, sandbox_order_count,
                                            use_virtual_time)
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)


@pytest.fixture
def shop(sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    return make_shop(sandbox)


def connected_account(shop, **fields) -> Account:
    """An account connected to the sandbox shop with its legacy token (no connect flow)."""
    app_scopes = shop.store.get_app(shop.client_id).scopes
    values = dict(shop_domain=shop.domain, api_origin=shop.origin, connection_method="legacy_token",
                  access_token_encrypted=encrypt_secret(shop.token),
                  webhook_secret_encrypted=encrypt_secret(shop.client_secret),
                  granted_scopes=list(app_scopes), connected_at=datetime.now(timezone.utc))
    values.update(fields)
    account = make_account(**values)
    db.session.commit()
    return account


def snapshot(account_id):
    """Every stored order and line of an account, as plain comparable values."""
    orders = db.session.scalars(select(Order).where(Order.account_id == account_id)
                                .order_by(Order.shopify_order_id)).all()
    return [(o.shopify_order_id, o.name, o.email, o.updated_at, o.total_price, tuple(o.tags),
             tuple((line.shopify_line_id, line.quantity, line.discounted_unit_price,
                    line.fulfilled_quantity, line.refunded_quantity) for line in o.lines))
            for o in orders]


def run_now(account) -> ImportRun:
    run = imports.start_import(account, enqueue=False)
    imports.run_import(run.id)
    db.session.expire_all()
    return db.session.get(ImportRun, run.id)


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


# --- the batch upsert agrees with upsert_order ------------------------------------------------------

def test_the_batch_upsert_stores_exactly_what_upsert_order_stores(app, shop):
    from app.services import imports as svc

    client = svc.store_client(connected_account(shop))
    data = list(iter_orders(client, created_at_min=datetime.now(timezone.utc) - timedelta(days=31)))
    assert len(data) == SEEDED
    one_by_one = make_account(shop_domain=None)
    batched = make_account(shop_domain=None)
    for item in data:
        upsert_order(one_by_one.id, item)
    counts = svc.upsert_orders(batched.id, data)
    db.session.commit()
    assert counts["created"] == SEEDED
    assert snapshot(batched.id) == snapshot(one_by_one.id)

    def full_rows(account_id):
        skip = {"id", "account_id", "stored_at", "order_id"}
        out = []
        for order in db.session.scalars(select(Order).where(Order.account_id == account_id)
                                        .order_by(Order.shopify_order_id)):
            row = {c.key: getattr(order, c.key) for c in Order.__table__.columns if c.key not in skip}
            row["lines"] = [{c.key: getattr(line, c.key) for c in line.__table__.columns if c.key not in skip}
                            for line in order.lines]
            out.append(row)
        return out

    db.session.expire_all()
    assert full_rows(batched.id) == full_rows(one_by_one.id)

    # Newest updatedAt wins in both; older data is stale; a duplicate in one batch counts once.
    from dataclasses import replace

    first = data[0]
    newer = replace(first, updated_at=first.updated_at + timedelta(minutes=5), tags=("vip",))
    older = replace(first, updated_at=first.updated_at - timedelta(minutes=5), tags=("old",))
    assert upsert_order(one_by_one.id, newer) == "updated"
    assert upsert_order(one_by_one.id, older) == "stale"
    counts = svc.upsert_orders(batched.id, [older, newer, data[1]])
    db.session.commit()
    assert counts["updated"] == 2 and counts["stale"] == 1
    assert svc.upsert_orders(batched.id, [older])["stale"] == 1
    db.session.commit()
    db.session.expire_all()
    assert full_rows(batched.id) == full_rows(one_by_one.id)


def test_a_batch_meeting_an_order_stored_meanwhile_falls_back_to_one_by_one(app, shop, monkeypatch):
    """A webhook stored one of the batch's orders after the batch looked: the batch's fast insert
    (COPY on PostgreSQL, multi-row INSERT on SQLite) hits the unique key, only that batch is rolled
    back, and the orders are stored one by one as ``upsert_order`` stores them."""
    from dataclasses import replace

    from app.services import imports as svc

    client = svc.store_client(connected_account(shop))
    data = list(iter_orders(client, created_at_min=datetime.now(timezone.utc) - timedelta(days=31)))
    batched, one_by_one = make_account(shop_domain=None), make_account(shop_domain=None)
    for account_id in (batched.id, one_by_one.id):
        assert upsert_order(account_id, data[3]) == "created"  # the webhook's copy
    db.session.commit()
    from app.services import order_batches

    monkeypatch.setattr(order_batches, "_stored", lambda account_id, ids: {})  # it came after the look-up
    newer = replace(data[3], updated_at=data[3].updated_at + timedelta(minutes=1), tags=("late",))
    batch = data[:3] + [newer] + data[4:]
    counts = svc.upsert_orders(batched.id, batch)
    db.session.commit()
    assert counts["created"] == SEEDED - 1 and counts["updated"] == 1
    for item in batch:
        upsert_order(one_by_one.id, item)
    db.session.commit()
    db.session.expire_all()
    assert snapshot(batched.id) == snapshot(one_by_one.id)
    assert len(snapshot(batched.id)) == SEEDED
    stored = db.session.scalar(select(Order).where(Order.account_id == batched.id,
                                                   Order.shopify_order_id == newer.shopify_order_id))
    assert stored.tags == ["late"]


def test_awkward_values_are_stored_alike_by_the_batch_and_by_upsert_order(app, shop):
    """Characters that need escaping on the way in (COPY's text format on PostgreSQL), blanks
    that become None, missing product tags, an address with nested values."""
    from dataclasses import replace

    from app.services import imports as svc

    client = svc.store_client(connected_account(shop))
    data = list(iter_orders(client, created_at_min=datetime.now(timezone.utc) - timedelta(days=31)))[:4]
    odd = 'tab\there, new\nline, back\\slash \\N "quoted" ünïcödé \u2603'
    line = replace(data[0].lines[0], title=odd, sku="", image_url="", product_tags=None,
                   variant_title=odd)
    data[0] = replace(data[0], email="  MiXed.Case@Example.COM ", customer_first_name=odd,
                      customer_last_name=None, tags=(odd, "b"), discount_codes=(odd,),
                      shipping_address={"address1": odd, "city": None, "zip": "\\N", "n": [1, {"a": odd}]},
                      lines=(line,) + tuple(data[0].lines[1:]))
    data[1] = replace(data[1], email=None, shipping_address=None, customer_first_name=None,
                      customer_last_name=None, cancelled_at=data[1].updated_at, lines=())
    one_by_one, batched = make_account(shop_domain=None), make_account(shop_domain=None)
    for item in data:
        upsert_order(one_by_one.id, item)
    assert svc.upsert_orders(batched.id, data)["created"] == len(data)
    db.session.commit()
    db.session.expire_all()
    skip = {"id", "account_id", "stored_at", "order_id"}

    def rows(account_id):
        return [({c.key: getattr(o, c.key) for c in Order.__table__.columns if c.key not in skip},
                 [{c.key: getattr(li, c.key) for c in li.__table__.columns if c.key not in skip}
                  for li in o.lines])
                for o in db.session.scalars(select(Order).where(Order.account_id == account_id)
                                            .order_by(Order.shopify_order_id))]

    assert rows(batched.id) == rows(one_by_one.id)
    first = rows(batched.id)[[d.shopify_order_id for d in sorted(data, key=lambda d: d.shopify_order_id)]
                             .index(data[0].shopify_order_id)]
    assert first[0]["email"] == "mixed.case@example.com" and first[0]["tags"] == [odd, "b"]
    assert first[1][0]["title"] == odd and first[1][0]["sku"] is None and first[1][0]["product_tags"] == []


def test_imported_orders_teach_whether_customer_data_is_readable(app, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, protected_data=False)
    account = connected_account(shop, protected_data_readable=None)
    run_now(account)
    db.session.expire_all()
    assert db.session.get(Account, account.id).protected_data_readable is False


# --- progress in the dashboard -----------------------------------------------------------------------

def _login(client, account, role="staff"):
    user = make_user(account, role=role)
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD})


def _run(account, **fields):
    values = dict(account_id=account.id, status="running", method="bulk",
                  since=datetime.now(timezone.utc) - timedelta(days=30), imported=20, total=80)
    values.update(fields)
    run = ImportRun(**values)
    db.session.add(run)
    db.session.commit()
    return run


HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/dashboard/"}


def test_the_progress_fragment_polls_while_running_and_stops_when_done(app, client):
    account = make_account()
    _login(client, account)  # staff may watch the import
    run = _run(account)
    html = client.get(f"/dashboard/imports/{run.id}/progress", headers=HX).get_data(as_text=True)
    assert f'hx-get="/dashboard/imports/{run.id}/progress"' in html
    assert 'hx-trigger="every 1s"' in html and 'hx-swap="outerHTML"' in html
    assert 'role="progressbar"' in html and 'aria-valuenow="25"' in html and 'aria-valuemax="100"' in html
    assert "20 of 80 orders imported (25%)" in html
    assert "<!doctype html>" not in html  # a fragment, not a page
    assert '<a href="/dashboard/">Refresh</a>' in html

    run.status, run.imported, run.finished_at = "completed", 80, datetime.now(timezone.utc)
    db.session.commit()
    html = client.get(f"/dashboard/imports/{run.id}/progress", headers=HX).get_data(as_text=True)
    assert "hx-trigger" not in html and "hx-get" not in html
    assert 'aria-valuenow="100"' in html and "Finished" in html and "Refresh" not in html


def test_the_progress_shows_an_unknown_total_errors_and_the_window_note(app, client):
    account = make_account()
    _login(client, account)
    run = _run(account, method="paginated", total=None, imported=35)
    html = client.get(f"/dashboard/imports/{run.id}/progress", headers=HX).get_data(as_text=True)
    assert "aria-valuenow" not in html and 'aria-valuetext="Importing page by page: 35 orders so far"' in html
    run.status, run.error = "failed", "Shopify did not answer in time. Try again in a minute."
    run.window_note = "Importing the last 60 days instead of 90: without read_all_orders …"
    db.session.commit()
    html = client.get(f"/dashboard/imports/{run.id}/progress", headers=HX).get_data(as_text=True)
    assert 'role="alert">Shopify did not answer in time' in html
    assert "instead of 90" in html and "hx-trigger" not in html


def test_the_overview_shows_the_running_import_and_works_without_javascript(app, client):
    account = make_account()
    _login(client, account)
    run = _run(account)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="import-progress"' in page and 'hx-trigger="every 1s"' in page
    assert '<a href="/dashboard/">Refresh</a>' in page
    # Without htmx the fragment URL is a page of its own.
    page = client.get(f"/dashboard/imports/{run.id}/progress").get_data(as_text=True)
    assert "<h1>Order import</h1>" in page and 'role="progressbar"' in page


def test_another_accounts_import_is_not_found(app, client):
    mine, theirs = make_account(), make_account()
    _login(client, mine)
    run = _run(theirs)
    assert client.get(f"/dashboard/imports/{run.id}/progress", headers=HX).status_code == 404
    assert client.get("/dashboard/imports/999999/progress").status_code == 404


def test_an_admin_can_continue_a_failed_import(app, client, shop, drain_jobs):
    account = connected_account(shop)
    _login(client, account, role="admin")
    run = _run(account, status="failed", error="Shopify did not answer in time.", imported=0, total=None,
               method=None)
    page = client.get("/dashboard/connect").get_data(as_text=True)
    assert "Continue the import" in page
    response = client.post("/dashboard/imports", data={})
    assert response.status_code == 303
    drain_jobs()
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert run.status == "completed" and run.imported == SEEDED
    assert db.session.scalars(select(ImportRun).where(ImportRun.account_id == account.id)).all() == [run]


def test_staff_cannot_start_an_import(app, client, shop):
    account = connected_account(shop)
    _login(client, account, role="staff")
    assert client.post("/dashboard/imports", data={}).status_code == 403
    assert db.session.scalars(select(ImportRun).where(ImportRun.account_id == account.id)).all() == []


def _stored_rows(account_id):
    """An account's orders and lines, every column but the ids and stored_at."""
    skip = {"id", "account_id", "stored_at", "order_id"}
    return [({c.key: getattr(o, c.key) for c in Order.__table__.columns if c.key not in skip},
             [{c.key: getattr(li, c.key) for c in li.__table__.columns if c.key not in skip}
              for li in o.lines])
            for o in db.session.scalars(select(Order).where(Order.account_id == account_id)
                                        .order_by(Order.shopify_order_id))]


def test_bulk_nodes_read_ahead_are_stored_as_upsert_order_stores_them(app):
    """The import's own path (nodes mapped ahead into COPY text by the reader thread, ids drawn
    ahead) against ``upsert_order`` of the full mapping, with characters COPY must escape; then
    the same batches again, all stored already: the full way, from the nodes kept compact."""
    import copy

    from app.services.import_ahead import batches_ahead
    from app.services.order_batches import upsert_graphql_orders
    from app.shopify.bulk import iter_bulk_objects
    from app.shopify.mapping import order_from_graphql
    from tests.unit.shopify.test_bulk import jsonl_for, second_order
    from tests.unit.shopify.test_mapping import GRAPHQL_ORDER_1001

    odd = 'tab\there, new\nline, back\\slash \\N "quoted" ünïcödé \u2603'
    first = copy.deepcopy(GRAPHQL_ORDER_1001)
    first.update(name=odd, tags=[odd, "b"], discountCodes=[odd])
    first["shippingAddress"]["city"] = odd
    first["lineItems"]["nodes"][0].update(title=odd, sku="\\N", variantTitle="\r")
    nodes = list(iter_bulk_objects(jsonl_for([first, second_order()])))
    one_by_one, ahead = make_account(shop_domain=None), make_account(shop_domain=None)
    for node in nodes:
        upsert_order(one_by_one.id, order_from_graphql(copy.deepcopy(node)))
    lean = db.session.get_bind().dialect.name == "postgresql"
    for _ in range(2):
        with batches_ahead(iter(copy.deepcopy(nodes)), 1, ahead.id, lean=lean) as batches:
            for batch in batches:
                counts, unreadable = upsert_graphql_orders(ahead.id, batch)
                assert unreadable == 0 and sum(counts.values()) == 1
                db.session.commit()
        db.session.expire_all()
        assert _stored_rows(ahead.id) == _stored_rows(one_by_one.id)
    assert odd in [order["name"] for order, _ in _stored_rows(ahead.id)]

"""The import's progress in the dashboard: the polling fragment, the overview, continuing a failed run."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import ImportRun
from tests.factories import make_account
from tests.fixtures.auth import log_in
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.connect import SEEDED, connected_account


# --- progress in the dashboard -----------------------------------------------------------------------

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
    log_in(client, account)  # staff may watch the import
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
    log_in(client, account)
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
    log_in(client, account)
    run = _run(account)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="import-progress"' in page and 'hx-trigger="every 1s"' in page
    assert '<a href="/dashboard/">Refresh</a>' in page
    # Without htmx the fragment URL is a page of its own.
    page = client.get(f"/dashboard/imports/{run.id}/progress").get_data(as_text=True)
    assert "<h1>Order import</h1>" in page and 'role="progressbar"' in page


def test_another_accounts_import_is_not_found(app, client):
    mine, theirs = make_account(), make_account()
    log_in(client, mine)
    run = _run(theirs)
    assert client.get(f"/dashboard/imports/{run.id}/progress", headers=HX).status_code == 404
    assert client.get("/dashboard/imports/999999/progress").status_code == 404


def test_an_admin_can_continue_a_failed_import(app, client, shop, drain_jobs):
    account = connected_account(shop)
    log_in(client, account, role="admin")
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
    log_in(client, account, role="staff")
    assert client.post("/dashboard/imports", data={}).status_code == 403

"""Exports in Chromium, phone and desktop, JavaScript on and off: an admin filters the returns list,
makes a mistake in the filters (no download offered until it is corrected), then downloads both
CSVs of what the list shows; staff see no download links until the account lets them."""
import csv
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from tests.factories import make_account, make_return, make_user
from tests.support.journey import log_in


def _rows(download) -> list[dict]:
    raw = open(download.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}],
                         ids=["phone", "desktop"])
def test_filter_the_list_and_download_both_csvs(e2e_app, live_server, browser, screenshot, viewport, js):
    size = "phone" if viewport["width"] < 500 else "desktop"
    name = f"exports-{size}-{'js' if js else 'nojs'}"
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outdoor", slug=name, shop_domain=f"{name}.myshopify.com",
                               return_action="manual")
        make_user(account, role="admin", email=f"admin-{name}@example.com")
        make_user(account, role="staff", email=f"staff-{name}@example.com")
        opens = [make_return(account, items=[("refund", "DECIDED"), ("credit", "DECIDED")], days_ago=d,
                             customer_name="=HYPERLINK(\"http://evil.example\")" if d == 1 else f"Pat {d}")
                 for d in range(1, 4)]
        for ret in opens:
            ret.items[0].unit_value, ret.items[1].unit_value = Decimal("0.10"), Decimal("0.20")
        closed = make_return(account, status="CLOSED", days_ago=2)
        db.session.commit()
        want = [r.rma_number for r in opens]
        closed_rma, account_id = closed.rma_number, account.id
        db.session.remove()
    context = browser.new_context(viewport=viewport, java_script_enabled=js, accept_downloads=True)
    page = context.new_page()
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))

    log_in(page, live_server, f"admin-{name}@example.com")
    page.goto(live_server.url("/dashboard/returns"))
    expect(page.get_by_role("link", name="Returns (CSV)")).to_be_visible()

    # A mistake first: the end date before the start. The list says why and offers no download.
    page.get_by_label("Status").select_option("OPEN")
    page.get_by_label("Started from").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_label("Started until").fill((date.today() - timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Choose a date on or after the first one.")).to_be_visible()
    expect(page.get_by_role("link", name="Returns (CSV)")).to_have_count(0)
    screenshot(f"{name}-filter-mistake", page)

    # Corrected: the status stays chosen, the dates are cleared; the downloads carry the filter.
    expect(page.get_by_label("Status")).to_have_value("OPEN")
    page.get_by_label("Started from").fill("")
    page.get_by_label("Started until").fill("")
    page.get_by_label("Sort").select_option("oldest")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=closed_rma)).to_have_count(0)
    expect(page.get_by_text("Download the matching returns, all pages:")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(f"{name}-filtered", page)

    with page.expect_download() as returns_download:
        page.get_by_role("link", name="Returns (CSV)").click()
    download = returns_download.value
    assert download.suggested_filename == f"{name}-returns-{datetime.now(timezone.utc).date().isoformat()}.csv"
    rows = _rows(download)
    assert [row["RMA"] for row in rows] == list(reversed(want))        # open only, oldest first
    assert {row["Returned value"] for row in rows} == {"0.30"}
    assert rows[-1]["Customer name"] == "'=HYPERLINK(\"http://evil.example\")"

    with page.expect_download() as items_download:
        page.get_by_role("link", name="Returned items (CSV)").click()
    items = _rows(items_download.value)
    assert [row["RMA"] for row in items] == [rma for rma in reversed(want) for _ in range(2)]
    assert [row["Unit value"] for row in items] == ["0.10", "0.20"] * 3
    assert items_download.value.suggested_filename.startswith(f"{name}-returned-items-")
    # Still on the list, with the filter kept.
    expect(page.get_by_label("Status")).to_have_value("OPEN")

    # Staff: no links, and the URL itself is refused, until the admin allows it.
    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, f"staff-{name}@example.com")
    page.goto(live_server.url("/dashboard/returns"))
    expect(page.get_by_role("link", name=want[0])).to_be_visible()
    expect(page.get_by_role("link", name="Returns (CSV)")).to_have_count(0)
    screenshot(f"{name}-staff-no-links", page)
    with e2e_app.app_context():
        db.session.get(Account, account_id).staff_may_export = True
        db.session.commit()
        db.session.remove()
    page.reload()
    with page.expect_download() as staff_download:
        page.get_by_role("link", name="Returned items (CSV)").click()
    assert len(_rows(staff_download.value)) == 2 * 3 + 1
    context.close()


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}],
                         ids=["phone", "desktop"])
def test_the_setting_is_a_checkbox_on_the_settings_page(e2e_app, live_server, page, screenshot, viewport):
    size = "phone" if viewport["width"] < 500 else "desktop"
    page.set_viewport_size(viewport)
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outdoor", slug=f"exports-settings-{size}")
        make_user(account, role="admin", email=f"admin-exports-settings-{size}@example.com")
        db.session.commit()
        account_id = account.id
        db.session.remove()
    log_in(page, live_server, f"admin-exports-settings-{size}@example.com")
    page.goto(live_server.url("/dashboard/settings"))
    box = page.get_by_label("Staff may export returns")
    expect(box).not_to_be_checked()
    box.check()
    screenshot(f"exports-settings-{size}", page)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.get_by_label("Staff may export returns")).to_be_checked()
    with e2e_app.app_context():
        assert db.session.get(Account, account_id).staff_may_export is True
        db.session.remove()

"""The staff returns workflow in Chromium: filter the list, select, close in bulk and see a result
per return, a quick close per row, and the return page's actions; phone and desktop screenshots."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.support.e2e import SCREENSHOTS, rq_thread_worker
from tests.support.journey import log_in
from tests.factories import make_account, make_return, make_user


@pytest.fixture
def job_worker(e2e_app, monkeypatch):
    """An RQ worker thread in the production shape (nothing in the embedded default)."""
    with rq_thread_worker(e2e_app, monkeypatch):
        yield


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}],
                         ids=["phone", "desktop"])
def test_filter_select_close_in_bulk_and_on_the_page(e2e_app, live_server, job_worker, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outdoor", slug=f"staff-{size}", return_action="manual")
        make_user(account, role="staff", email=f"staff-{size}@example.com")
        opens = [make_return(account, items=[(None, "UNDECIDED")], days_ago=i) for i in range(3)]
        cancelled = make_return(account, status="CANCELLED", items=[(None, "UNDECIDED")], days_ago=4)
        received = make_return(account, status="RECEIVED", items=[("exchange", "FAILED"), (None, "NO_ACTION")],
                               days_ago=5, tracking="1Z999AA10123456784", tracking_state="DELIVERED")
        received.items[0].failure_reason = "The exchange variant sold out before it could be sent."
        db.session.commit()
        rmas = {"opens": [r.rma_number for r in opens], "cancelled": cancelled.rma_number,
                "received": received.rma_number}
        db.session.remove()
    log_in(page, live_server, f"staff-{size}@example.com")

    page.goto(live_server.url("/dashboard/returns"))
    expect(page.get_by_role("link", name=rmas["received"])).to_be_visible()
    screenshot(f"staff-returns-{size}")

    # Filter: open returns only.
    page.get_by_label("Status").select_option("OPEN")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=rmas["received"])).to_have_count(0)
    for rma in rmas["opens"]:
        expect(page.get_by_role("link", name=rma)).to_be_visible()

    # Quick close of the newest, from its row: asked first, then back to the filtered list.
    page.get_by_role("button", name=f"Close return {rmas['opens'][0]}").click()
    expect(page.locator("#confirm-action")).to_contain_text("1 item is not decided")
    page.get_by_role("button", name=f"Close return {rmas['opens'][0]}").click()
    expect(page.get_by_text(f"{rmas['opens'][0]}: Closed.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Close return {rmas['opens'][0]}")).to_have_count(0)

    # Back to every return, select the other two open ones and the cancelled one, close them.
    page.goto(live_server.url("/dashboard/returns"))
    for rma in (*rmas["opens"][1:], rmas["cancelled"]):
        page.get_by_label(f"Select return {rma}").check()
    expect(page.get_by_text("3 selected")).to_be_visible()
    page.get_by_role("button", name="Close selected").click()
    expect(page.locator("#confirm-action")).to_contain_text(
        f"{rmas['cancelled']} stays as it is: This return was cancelled.")
    page.get_by_role("button", name="Close 3 returns").click()
    progress = page.locator("#bulk-progress")
    expect(progress.get_by_text("3 of 3 handled")).to_be_visible()
    expect(progress.get_by_text("2 closed, 1 not closed")).to_be_visible()
    expect(progress.get_by_text(re.compile(f"{rmas['cancelled']}: This return was cancelled."))).to_be_visible()
    expect(progress).not_to_have_attribute("hx-trigger", re.compile("every"))
    # The rows below are reloaded in place: the closed ones lose their Close button.
    for rma in rmas["opens"]:
        expect(page.get_by_role("button", name=f"Close return {rma}")).to_have_count(0)
    screenshot(f"staff-bulk-close-{size}")

    # Select all on this page ticks every row.
    page.goto(live_server.url("/dashboard/returns"))
    page.get_by_label("Select all on this page").check()
    expect(page.get_by_text("5 selected")).to_be_visible()

    # The return page: a failed exchange switched to a credit note, the other item decided by hand.
    page.get_by_role("link", name=rmas["received"]).click()
    expect(page.get_by_text("The exchange variant sold out before it could be sent.")).to_be_visible()
    screenshot(f"staff-return-{size}")
    page.get_by_role("button", name=re.compile(r"^Credit note for Item")).first.click()
    expect(page.locator(".flash-success", has_text="Credit note decided.")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Refund for Item")).first.click()
    expect(page.locator(".flash-success", has_text="Refund decided.")).to_be_visible()
    page.get_by_role("button", name="Mark processed").click()
    expect(page.locator(".flash-success", has_text="Marked processed.")).to_be_visible()
    screenshot(f"staff-return-processed-{size}")


def test_close_all_matching_across_pages_after_a_confirmation_that_counts_them(
        e2e_app, live_server, job_worker, page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outdoor", slug="staff-matching", return_action="manual")
        make_user(account, role="staff", email="staff-matching@example.com")
        for i in range(30):
            make_return(account, status="RECEIVED", items=[(None, "NO_ACTION")], days_ago=i)
        kept = make_return(account, status="OPEN", items=[(None, "UNDECIDED")]).rma_number
        db.session.commit()
        db.session.remove()
    log_in(page, live_server, "staff-matching@example.com")
    page.goto(live_server.url("/dashboard/returns?status=RECEIVED"))
    page.get_by_role("button", name="Close all matching returns").click()
    expect(page.locator("#confirm-action")).to_contain_text("30 items are not decided")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#confirm-action").screenshot(path=str(SCREENSHOTS / "staff-close-matching-confirm-phone.png"))
    page.get_by_role("button", name="Close 30 returns").click()
    progress = page.locator("#bulk-progress")
    expect(progress.get_by_text("30 of 30 handled")).to_be_visible(timeout=15_000)
    expect(progress.get_by_text("Show the 30 closed returns")).to_be_visible()   # a long run folds away
    expect(page.locator("#returns-results")).to_contain_text("No returns match")  # the list reloaded
    screenshot("staff-close-matching-phone")
    page.goto(live_server.url("/dashboard/returns?status=CLOSED&per_page=50"))
    expect(page.locator(".returns-table tbody tr")).to_have_count(30)
    page.goto(live_server.url("/dashboard/returns?status=OPEN"))
    expect(page.get_by_role("link", name=kept)).to_be_visible()

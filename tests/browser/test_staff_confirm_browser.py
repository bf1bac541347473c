"""Staff actions that issue money or goods ask first, in Chromium, on a phone and a desktop, with
JavaScript on and off: the list's Close, "Close selected" and "Close all matching" say how many
returns, per option the items and their value, and which parcels were never received; the return
page's "Mark processed" on an open return needs "Process without receipt"; Cancel asks too. The
history then says who fired the return action."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import make_account, make_return, make_user
from tests.support.e2e import SCREENSHOTS, rq_thread_worker
from tests.support.journey import DESKTOP, PHONE, all_controls_are_labelled, log_in, shoot

SHAPES = [pytest.param(viewport, js, id=f"{'phone' if viewport is PHONE else 'desktop'}-js-{'on' if js else 'off'}")
          for viewport in (PHONE, DESKTOP) for js in (True, False)]


@pytest.fixture
def job_worker(e2e_app, monkeypatch):
    """Jobs as the app runs them: on its background thread in the embedded default (the test
    config runs them when a response is closed, which a browser following a redirect may skip),
    on an RQ worker thread in the production shape."""
    backend = e2e_app.extensions["jobs"]
    if getattr(backend, "runs_in_process", False):
        monkeypatch.setattr(backend, "use_thread", True)
    with rq_thread_worker(e2e_app, monkeypatch):
        yield


def signed_in(e2e_app, live_server, browser, viewport, js: bool, walk: str):
    """(screenshot name, the account's facts, a staff member's page): the page in its own context,
    JavaScript on or off, the htmx CDN unreachable."""
    name = f"confirm-{walk}-{'phone' if viewport is PHONE else 'desktop'}-js-{'on' if js else 'off'}"
    facts = first_scan_account(e2e_app, name)
    context = browser.new_context(viewport=viewport, java_script_enabled=js)
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))
    page = context.new_page()
    log_in(page, live_server, facts["staff"])
    return name, facts, page


def first_scan_account(e2e_app, name: str) -> dict:
    """The facts of a First scan account (the demo's) with open returns never shipped, one in
    transit and one received, their items decided (20.00 USD each); committed."""
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outdoor", slug=name, return_action="first_scan")
        make_user(account, role="staff", email=f"{name}@example.com")
        bare = [make_return(account, items=[("refund", "DECIDED"), ("credit", "DECIDED")], days_ago=3 + i)
                for i in range(2)]
        on_way = make_return(account, status="IN_TRANSIT", tracking="1Z999AA1", items=[("exchange", "DECIDED")],
                             action_triggered_at=None, days_ago=2)
        received = make_return(account, status="RECEIVED", tracking="1Z999AA2", items=[(None, "NO_ACTION")],
                               days_ago=1)
        db.session.commit()
        facts = {"staff": f"{name}@example.com", "bare": [(r.id, r.rma_number) for r in bare],
                 "on_way": (on_way.id, on_way.rma_number), "received": (received.id, received.rma_number)}
        db.session.remove()
    return facts


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_the_list_asks_before_it_closes_and_issues(e2e_app, live_server, job_worker, browser, viewport, js):
    name, facts, page = signed_in(e2e_app, live_server, browser, viewport, js, "list")
    (first_id, first_rma), (second_id, second_rma) = facts["bare"]

    # A row's Close: a confirmation of what it issues, and that the parcel never shipped.
    page.goto(live_server.url("/dashboard/returns?status=OPEN"))
    page.get_by_role("button", name=f"Close return {first_rma}").click()
    confirm = page.locator("#confirm-action")
    expect(confirm.get_by_role("heading", name=f"Close return {first_rma}?")).to_be_visible()
    table = confirm.get_by_role("table", name="What will be issued")
    expect(table.get_by_role("row", name=re.compile(r"Refund 1 item 20\.00 USD"))).to_be_visible()
    expect(table.get_by_role("row", name=re.compile(r"Credit note 1 item 20\.00 USD"))).to_be_visible()
    expect(confirm).to_contain_text(f"{first_rma} has no tracking number and has not been received")
    all_controls_are_labelled(page)
    shoot(snap, page, f"{name}-row")
    # Going back changes nothing.
    confirm.get_by_role("link", name="Back to the list").click()
    expect(page.get_by_role("button", name=f"Close return {first_rma}")).to_be_visible()
    page.get_by_role("button", name=f"Close return {first_rma}").click()
    page.get_by_role("button", name=f"Close return {first_rma}").click()
    expect(page.get_by_text(f"{first_rma}: Closed.")).to_be_visible()
    assert "status=OPEN" in page.url
    expect(page.get_by_role("button", name=f"Close return {first_rma}")).to_have_count(0)

    # Its history says who fired the return action, and that nothing had been received.
    page.goto(live_server.url(f"/dashboard/returns/{first_id}"))
    history = page.locator(".history")
    expect(history).to_contain_text(f"Closed by {facts['staff']} before the parcel was received, so the chosen "
                                    "options are issued in Shopify now")

    # Close selected: the open one and the one on its way, counted per option, then closed.
    page.goto(live_server.url("/dashboard/returns"))
    page.get_by_label(f"Select return {second_rma}").check()
    page.get_by_label(f"Select return {facts['on_way'][1]}").check()
    page.get_by_role("button", name="Close selected").click()
    confirm = page.locator("#confirm-action")
    expect(confirm.get_by_role("heading", name="Close 2 returns?")).to_be_visible()
    table = confirm.get_by_role("table", name="What will be issued")
    for option in ("Refund", "Credit note", "Exchange"):
        expect(table.get_by_role("row", name=re.compile(rf"{option} 1 item 20\.00 USD"))).to_be_visible()
    expect(confirm).to_contain_text(f"1 has no tracking number and has not been received: the options are issued "
                                    f"without the parcel ({second_rma})")
    expect(confirm).to_contain_text("1 is on the way and has not been received yet")
    if js:  # in place, above the list
        assert page.url.endswith("/dashboard/returns")
    shoot(snap, page, f"{name}-selected")
    confirm.get_by_role("button", name="Close 2 returns").click()
    progress = page.locator("#bulk-progress")
    expect(progress.get_by_text("2 of 2 handled")).to_be_visible(timeout=15_000)
    expect(progress.get_by_text("2 closed")).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_processing_before_receipt_and_cancelling_ask_first(e2e_app, live_server, job_worker, browser, viewport, js):
    name, facts, page = signed_in(e2e_app, live_server, browser, viewport, js, "return")
    (first_id, first_rma), (second_id, second_rma) = facts["bare"]

    page.goto(live_server.url(f"/dashboard/returns/{first_id}"))
    page.get_by_role("button", name="Mark processed").click()
    confirm = page.locator("#confirm-action")
    expect(confirm.get_by_role("heading", name=f"Mark return {first_rma} processed?")).to_be_visible()
    expect(confirm.get_by_role("table", name="What will be issued")).to_contain_text("20.00 USD")
    override = confirm.get_by_label("Process without receipt")
    expect(override).not_to_be_checked()
    confirm.get_by_role("button", name=f"Mark return {first_rma} processed").click()
    # Refused: the box says why, and nothing was processed or issued.
    confirm = page.locator("#confirm-action")
    expect(confirm.locator("#without-receipt-error")).to_contain_text("has not been received")
    expect(confirm.get_by_label("Process without receipt")).to_have_attribute("aria-invalid", "true")
    all_controls_are_labelled(page)
    shoot(snap, page, f"{name}-override")
    confirm.get_by_label("Process without receipt").check()
    confirm.get_by_role("button", name=f"Mark return {first_rma} processed").click()
    expect(page.locator(".flash-success", has_text="Marked processed.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(f"Return {first_rma}"))).to_contain_text("Processed")
    expect(page.locator(".history")).to_contain_text(f"Processed by {facts['staff']} without receipt (override)")

    # Cancel asks first too (no dialog needed), and going back keeps the return.
    page.goto(live_server.url(f"/dashboard/returns/{second_id}"))
    page.get_by_role("button", name="Cancel return").click()
    confirm = page.locator("#confirm-action")
    expect(confirm).to_contain_text("Nothing will be issued")
    shoot(snap, page, f"{name}-cancel")
    confirm.get_by_role("button", name=f"Cancel return {second_rma}").click()
    expect(page.get_by_role("heading", name=re.compile(f"Return {second_rma}"))).to_contain_text("Cancelled")
    page.context.close()


def snap(name: str, target) -> None:
    """A full-page screenshot of `target` (this file's pages have their own contexts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

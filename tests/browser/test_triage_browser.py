"""Triage in Chromium, on a phone and a desktop: the overview's counts lead to the matching list,
each row of the list says options, value, issue state (failure flagged), carrier state and
whether someone must decide, and webhook trouble leads an admin to the store page's explanation."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from app.crypto import encrypt_secret
from app.extensions import db
from tests.factories import make_account, make_delivery, make_return, make_user
from tests.support.journey import DESKTOP, PHONE, all_controls_are_labelled, log_in, new_page, shoot

SHOP = "triage-outdoor.myshopify.com"


def no_sideways_scroll(page) -> None:
    """Nothing on the page is wider than the window (a phone never scrolls sideways)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.fixture
def store(e2e_app):
    """A connected store whose webhooks are refused (another app's secret), with one dead
    delivery, and three returns: a failed exchange, one waiting for a decision, one issued."""
    now = datetime.now(timezone.utc)
    with e2e_app.test_request_context():
        account = make_account(name="Triage Outdoor", shop_domain=SHOP, return_action="manual",
                               access_token_encrypted=encrypt_secret("shpat_x"),
                               webhook_secret_encrypted=encrypt_secret("shpss_x"),
                               connected_at=now - timedelta(days=2), webhooks_ok_at=now - timedelta(minutes=30),
                               webhooks_refused_at=now - timedelta(minutes=5), webhooks_refused_count=3)
        make_user(account, role="admin", email="boss@triage.example.com")
        make_user(account, role="staff", email="staff@triage.example.com")
        failed = make_return(account, status="RECEIVED", items=[("refund", "ISSUED"), ("exchange", "FAILED")],
                             tracking="1Z999AA10123456784", tracking_state="DELIVERED", days_ago=3)
        waiting = make_return(account, items=[(None, "NO_ACTION")], days_ago=1)
        issued = make_return(account, status="CLOSED", items=[("credit", "ISSUED")], days_ago=5,
                             tracking="9400111899223", tracking_state="IN_TRANSIT")
        make_delivery(account, shop_domain=SHOP, event_id="stuck", received_at=now - timedelta(hours=3), attempts=10)
        db.session.commit()
        rmas = {"failed": failed.rma_number, "waiting": waiting.rma_number, "issued": issued.rma_number}
        db.session.remove()
    return rmas


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_staff_triage_from_the_overview_and_the_list(live_server, browser, screenshot, store, viewport):
    size = "phone" if viewport is PHONE else "desktop"
    page = new_page(browser, viewport)
    log_in(page, live_server, "staff@triage.example.com")
    page.goto(live_server.url("/dashboard/"))
    glance = page.get_by_role("region", name="At a glance")
    expect(glance.get_by_role("link", name="1 with a failed item")).to_be_visible()
    expect(glance.get_by_role("link", name="1 awaiting a decision")).to_be_visible()
    expect(glance.get_by_text("1 dead deliveries")).to_be_visible()
    attention = page.locator("#needs-attention")
    expect(attention.get_by_text(re.compile(r"Boomerang refused 3 deliveries from triage-outdoor"))).to_be_visible()
    expect(attention.get_by_text("Ask an admin of this account to look at the Store page.")).to_be_visible()
    no_sideways_scroll(page)
    shoot(screenshot, page, f"triage-overview-staff-{size}")

    glance.get_by_role("link", name="1 awaiting a decision").click()
    expect(page).to_have_url(re.compile(r"/dashboard/returns\?issue=decision$"))
    expect(page.get_by_label("Issue state")).to_have_value("decision")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link", name=store["waiting"])).to_be_visible()
    expect(rows.first.get_by_text("Needs a decision")).to_be_visible()
    expect(rows.first.get_by_text("No tracking")).to_be_visible()

    page.get_by_role("link", name="Clear filters").click()
    expect(rows).to_have_count(3)
    failed = page.locator("tr", has=page.get_by_role("link", name=store["failed"]))
    expect(failed.get_by_text("Failed", exact=True)).to_be_visible()
    expect(failed.get_by_text("1 failed, 1 issued")).to_be_visible()
    expect(failed.get_by_text("Refund, Exchange")).to_be_visible()
    expect(failed.get_by_text("40.00 USD")).to_be_visible()
    expect(failed.get_by_text("Delivered")).to_be_visible()
    issued = page.locator("tr", has=page.get_by_role("link", name=store["issued"]))
    expect(issued.get_by_text("In transit")).to_be_visible()
    expect(issued.get_by_text("Needs a decision")).to_have_count(0)
    expect(page.get_by_text("R-1042, #1042, 1042 or the customer's email")).to_be_visible()
    all_controls_are_labelled(page)
    no_sideways_scroll(page)
    shoot(screenshot, page, f"triage-list-{size}")
    page.context.close()


def test_an_admin_follows_webhook_trouble_to_the_store_page_without_javascript(live_server, browser, screenshot,
                                                                               store):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, "boss@triage.example.com")
    page.goto(live_server.url("/dashboard/"))
    shoot(screenshot, page, "triage-overview-admin")
    page.get_by_role("link", name="See webhooks on the Store page").click()
    section = page.locator("#webhooks")
    expect(section.get_by_text(re.compile(r"Boomerang refused 3 deliveries from triage-outdoor\.myshopify\.com "
                                          r"because their signatures do not match"))).to_be_visible()
    expect(section.get_by_text(re.compile("Connect the store again \\(Store page\\) with the app's current API "
                                          "secret key"))).to_be_visible()
    expect(section.get_by_text(re.compile(r"1 delivery from Shopify could not be processed in 5 attempts"))
           ).to_be_visible()
    no_sideways_scroll(page)
    section.scroll_into_view_if_needed()
    shoot(screenshot, page, "triage-store-webhooks")
    # The overview's count of the failed returns is the list's, with JavaScript off too.
    page.goto(live_server.url("/dashboard/"))
    page.get_by_role("region", name="At a glance").get_by_role("link", name="1 with a failed item").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name=store["failed"])).to_be_visible()
    context.close()

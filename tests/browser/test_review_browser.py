"""Review before approval in Chromium: the shopper on a phone submits a return that awaits review
and is told not to send it yet; staff on a desktop decline it (Shopify's reason, a message) or
approve it, singly from its page and in bulk from the list, each asked first — JavaScript on (the
browser's dialog) and off (a page that asks); the shopper's status page then shows the shop's
message, escaped, or that the return is approved."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account, Return
from tests.browser.test_portal_choices import JS, shopper  # noqa: F401  (the fixture)
from tests.browser.test_portal_journey import seed
from tests.browser.test_portal_returning import return_socks
from tests.factories import make_return, make_user
from tests.support.journey import DESKTOP, all_controls_are_labelled, fresh_page, log_in, shoot

MESSAGE = "Socks can't go back once worn <b>sorry</b>."


def reviewing_shop(e2e_app, sandbox, slug: str) -> dict:
    """The portal journey's shop, reviewing every return, with a staff login; its facts."""
    facts = seed(e2e_app, sandbox, slug)
    with e2e_app.app_context():
        account = db.session.scalar(db.select(Account).where(Account.slug == slug))
        account.review_mode = "all"
        make_user(account, role="staff", email=f"{slug}@example.com")
        db.session.commit()
        facts["account_id"] = account.id
        db.session.remove()
    return {**facts, "staff": f"{slug}@example.com"}


def staff_page(browser, live_server, email: str, js: bool):
    page = fresh_page(browser, DESKTOP, js)
    if js:
        page.on("dialog", lambda dialog: dialog.accept())  # the ask-first question, answered yes
    log_in(page, live_server, email)
    return page


def confirm_without_js(page, js: bool, button: str) -> None:
    """Without JavaScript the question is a page of its own: say yes there."""
    if not js:
        page.get_by_role("button", name=re.compile(button)).click()


@pytest.mark.parametrize("js", JS)
def test_the_shopper_waits_for_review_then_reads_the_shops_decline(e2e_app, live_server, sandbox, shopper, browser,
                                                                    screenshot, js):
    facts = reviewing_shop(e2e_app, sandbox, f"review-decline-{js:d}")
    phone = shopper(js)
    rma = return_socks(phone, live_server, facts["slug"])
    expect(phone.get_by_role("heading", name="Awaiting review")).to_be_visible()
    expect(phone.get_by_role("heading", name="Tracking number")).to_have_count(0)
    phone.get_by_role("link", name="See your return's status").click()
    expect(phone.get_by_role("heading", name="Awaiting review — the shop checks your return before you send it")) \
        .to_be_visible()
    expect(phone.get_by_role("button", name="Cancel this return")).to_have_count(0)
    expect(phone.get_by_label("Tracking number")).to_have_count(0)
    shoot(screenshot, phone, f"review-shopper-awaiting-{'js' if js else 'no-js'}")
    status_url = phone.url

    desk = staff_page(browser, live_server, facts["staff"], js)
    desk.goto(live_server.url("/dashboard/returns?status=REQUESTED"))
    desk.get_by_role("link", name=rma).click()
    review = desk.locator("#review")
    expect(review).to_contain_text("Return request awaiting approval")
    # Too long a message: a clear error, and what was typed is still there.
    review.get_by_label("Reason (Shopify's)").select_option(label="The return contains final sale items")
    review.get_by_label("Message to the shopper").fill("x" * 501)
    review.get_by_role("button", name="Decline").click()
    confirm_without_js(desk, js, "Decline")
    expect(desk.get_by_text("Keep the message to 500 characters")).to_be_visible()
    expect(desk.get_by_label("Message to the shopper")).to_have_value("x" * 501)
    expect(desk.get_by_label("Reason (Shopify's)")).to_have_value("FINAL_SALE")
    all_controls_are_labelled(desk)
    shoot(screenshot, desk, f"review-staff-too-long-{'js' if js else 'no-js'}")
    desk.get_by_label("Message to the shopper").fill(MESSAGE)
    desk.locator("#review").get_by_role("button", name="Decline").click()
    if not js:
        expect(desk.get_by_role("heading", name="Decline 1 return?")).to_be_visible()
        expect(desk.get_by_text("In Shopify each return request is declined")).to_be_visible()
        shoot(screenshot, desk, "review-staff-decline-asks-no-js")
    confirm_without_js(desk, js, "Decline 1 return")
    expect(desk.get_by_text(f"Return {rma} declined.")).to_be_visible()
    expect(desk.get_by_role("heading", name="Declined", exact=True)).to_be_visible()
    shoot(screenshot, desk, f"review-staff-declined-{'js' if js else 'no-js'}")

    phone.goto(status_url)
    expect(phone.get_by_role("heading", name="Your return was declined")).to_be_visible()
    expect(phone.locator(".decline-note")).to_have_text(MESSAGE)  # the text, not markup
    expect(phone.get_by_text("Nothing will be refunded, credited or exchanged").first).to_be_visible()
    expect(phone.get_by_label("Tracking number")).to_have_count(0)
    shoot(screenshot, phone, f"review-shopper-declined-{'js' if js else 'no-js'}")


@pytest.mark.parametrize("js", JS)
def test_staff_approve_singly_and_in_bulk_and_the_shopper_may_send_it(e2e_app, live_server, sandbox, shopper,
                                                                      browser, screenshot, js):
    facts = reviewing_shop(e2e_app, sandbox, f"review-approve-{js:d}")
    phone = shopper(js)
    rma = return_socks(phone, live_server, facts["slug"], how_many="1")
    phone.get_by_role("link", name="See your return's status").click()
    status_url = phone.url
    with e2e_app.app_context():
        account = db.session.get(Account, facts["account_id"])
        others = [make_return(account, status="REQUESTED", days_ago=i + 1) for i in range(2)]
        bulk = [r.rma_number for r in others]
        db.session.commit()
        db.session.remove()

    desk = staff_page(browser, live_server, facts["staff"], js)
    desk.goto(live_server.url("/dashboard/returns?status=REQUESTED"))
    for number in bulk:
        desk.get_by_label(f"Select return {number}").check()
    desk.get_by_role("button", name="Approve selected").click()
    asked = desk.locator("#review-confirm")
    expect(asked.get_by_role("heading", name="Approve 2 returns?")).to_be_visible()
    expect(asked).to_contain_text("In Shopify each return request is approved")
    shoot(screenshot, desk, f"review-staff-bulk-approve-asks-{'js' if js else 'no-js'}")
    asked.get_by_role("button", name="Approve 2 returns").click()
    expect(desk.get_by_text("2 of 2 returns approved.")).to_be_visible()

    desk.goto(live_server.url("/dashboard/returns?status=REQUESTED"))
    desk.get_by_role("link", name=rma).click()
    desk.locator("#review").get_by_role("button", name="Approve").click()
    if not js:
        expect(desk.get_by_role("heading", name=f"Approve return {rma}?")).to_be_visible()
    confirm_without_js(desk, js, f"Approve {rma}")
    expect(desk.get_by_text(f"Return {rma} approved.")).to_be_visible()
    with e2e_app.app_context():
        statuses = {r.rma_number: r.status for r in db.session.scalars(
            db.select(Return).where(Return.account_id == facts["account_id"]))}
        db.session.remove()
    assert statuses == {rma: "OPEN", **{number: "OPEN" for number in bulk}}

    phone.goto(status_url)
    expect(phone.locator("#approved")).to_contain_text("approved your return: you can send it now")
    expect(phone.get_by_label("Tracking number")).to_be_visible()
    shoot(screenshot, phone, f"review-shopper-approved-{'js' if js else 'no-js'}")


@pytest.mark.parametrize("js", JS)
def test_bulk_decline_from_the_list_takes_one_message(e2e_app, live_server, sandbox, browser, screenshot, js):
    facts = reviewing_shop(e2e_app, sandbox, f"review-bulk-decline-{js:d}")
    with e2e_app.app_context():
        account = db.session.get(Account, facts["account_id"])
        waiting = [make_return(account, status="REQUESTED", days_ago=i + 1).rma_number for i in range(2)]
        done = make_return(account, status="CLOSED", days_ago=4).rma_number
        db.session.commit()
        db.session.remove()
    desk = staff_page(browser, live_server, facts["staff"], js)
    desk.goto(live_server.url("/dashboard/returns"))
    for number in [*waiting, done]:
        desk.get_by_label(f"Select return {number}").check()
    desk.get_by_role("button", name="Decline selected").click()
    asked = desk.locator("#review-confirm")
    expect(asked.get_by_role("heading", name="Decline 2 returns?")).to_be_visible()
    expect(asked).to_contain_text(f"Left alone (not awaiting review): {done} (closed)")
    asked.get_by_label("Reason (Shopify's)").select_option("RETURN_PERIOD_ENDED")
    asked.get_by_label("Message to the shopper").fill("Past the 30 days.")
    all_controls_are_labelled(desk)
    shoot(screenshot, desk, f"review-staff-bulk-decline-{'js' if js else 'no-js'}")
    asked.get_by_role("button", name="Decline 2 returns").click()
    expect(desk.get_by_text("2 of 3 returns declined.")).to_be_visible()
    expect(desk.get_by_text(f"Return {done} is not awaiting review (it is closed).")).to_be_visible()

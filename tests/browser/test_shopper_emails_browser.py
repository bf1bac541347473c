"""An admin switches a shopper email off in the settings and previews another, in Chromium on a
phone and a desktop, JavaScript on and off: the switch is saved with the page, the preview shows
the subject, the text and the HTML (in its sandboxed frame, under its own CSP) for one of the
shop's returns, and the return chosen to preview with stays chosen."""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.domain.vocabulary import EmailKind
from app.models import Account
from tests.factories import make_account, make_return, make_user
from tests.support.e2e import SCREENSHOTS
from tests.support.journey import SHAPES, log_in, shape_name




@pytest.mark.parametrize("viewport, js", SHAPES)
def test_an_admin_switches_an_email_off_and_previews_another(e2e_app, live_server, browser, screenshot, viewport, js):
    name = shape_name(viewport, js)
    with e2e_app.app_context():
        account = make_account(name="Acme Outfitters", slug=f"emails-{name}", primary_color="#7a2e8e")
        make_user(account, role="admin", email=f"boss-emails-{name}@example.com")
        older = make_return(account, status="DECLINED", email="pat@example.com")
        older.decline_note = "This coat was bought in our outlet, which takes its own returns."
        newer = make_return(account, status="OPEN", email="sam@example.com")
        db.session.commit()
        account_id, older_rma, newer_rma, older_id = account.id, older.rma_number, newer.rma_number, older.id
        db.session.remove()
    page = browser.new_context(viewport=viewport, java_script_enabled=js).new_page()
    log_in(page, live_server, f"boss-emails-{name}@example.com")
    page.goto(live_server.url("/dashboard/settings"))
    section = page.locator("#shopper-emails")
    received = section.get_by_label("Parcel received")
    expect(received).to_be_checked()
    received.uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.locator("#shopper-emails").get_by_label("Parcel received")).not_to_be_checked()
    expect(page.locator("#shopper-emails").get_by_label("Return declined")).to_be_checked()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#shopper-emails").screenshot(path=str(SCREENSHOTS / f"settings-shopper-emails-{name}.png"))
    with e2e_app.app_context():
        assert db.session.get(Account, account_id).shopper_emails_off == ["received"]
        db.session.remove()

    # The preview opens in its own tab: the settings page keeps whatever is being typed there.
    page.locator("#shopper-emails").get_by_label("Return cancelled").uncheck()
    with page.context.expect_page() as opened:
        page.locator("#preview-declined").click()
    expect(page.locator("#shopper-emails").get_by_label("Return cancelled")).not_to_be_checked()
    page = opened.value
    expect(page.get_by_role("heading", name="Preview: Return declined")).to_be_visible()
    # The latest return first; the older, declined one chosen from the list, and kept chosen.
    expect(page.locator("#email-subject")).to_have_text(f"Your return {newer_rma} was declined")
    page.get_by_label("Show it with the return").select_option(str(older_id))
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#email-subject")).to_have_text(f"Your return {older_rma} was declined")
    expect(page.get_by_label("Show it with the return")).to_have_value(str(older_id))
    expect(page.locator("#email-to")).to_have_text("pat@example.com")
    expect(page.locator("#email-text")).to_contain_text("This coat was bought in our outlet")
    frame = page.frame_locator("#email-html")
    expect(frame.get_by_text("This coat was bought in our outlet, which takes its own returns.")).to_be_visible()
    expect(frame.get_by_role("link", name="See your return")).to_be_visible()
    screenshot(f"email-preview-declined-{name}", target=page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The frame itself, scrolled into view (a full-page capture may leave a frame below the fold unpainted).
    page.locator("#email-html").scroll_into_view_if_needed()
    page.locator("#email-html").screenshot(path=str(SCREENSHOTS / f"email-frame-declined-{name}.png"))

    # The switched-off email's preview says it is not sent.
    page.get_by_role("link", name="Parcel received").click()
    expect(page.locator("#switched-off")).to_be_visible()
    expect(page.frame_locator("#email-html").get_by_text("has received your parcel")).to_be_visible()
    screenshot(f"email-preview-received-off-{name}", target=page)
    page.locator("#email-html").scroll_into_view_if_needed()
    page.locator("#email-html").screenshot(path=str(SCREENSHOTS / f"email-frame-received-{name}.png"))
    if not js:
        return
    # Every kind, each email framed as customers see it (the subject's words are in its body too).
    for kind in EmailKind:
        page.goto(live_server.url(f"/dashboard/settings/emails/{kind.value}/preview"))
        expect(page.get_by_role("heading", name=f"Preview: {kind.label}")).to_be_visible()
        frame = page.frame_locator("#email-html")
        expect(frame.get_by_text("Acme Outfitters").first).to_be_visible()
        expect(frame.get_by_role("link").last).to_be_visible()
        page.locator("#email-html").scroll_into_view_if_needed()
        page.locator("#email-html").screenshot(path=str(SCREENSHOTS / f"email-frame-{kind.value}-{name}.png"))

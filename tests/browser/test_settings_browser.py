"""Settings in Chromium, on a phone and a desktop, with JavaScript on and off: an admin edits three
sections and a colour white text cannot be read on; one Save refuses the colour with the reason and
the nearest shade that reads, keeping every edit; with JavaScript the preview follows the colour as
it is typed; the shade offered saves everything. Links read at WCAG AA in the dashboard and in the
portal, also for a colour stored before colours were checked."""
import re

import pytest
from playwright.sync_api import expect

from app.domain.contrast import AA_NORMAL, contrast_ratio
from app.extensions import db
from app.models import Account
from app.services.rules import create_rule
from tests.factories import make_account, make_user
from tests.support.e2e import SCREENSHOTS
from tests.support.journey import DESKTOP, PHONE, SHAPES, all_controls_are_labelled, fresh_page, log_in
from tests.support.rules import FAULTY_REFUND

RULES = "My rules, automatically (the portal does not ask)"
EMAIL = "Boomerang emails the customer"


def shot(page, name: str, element: str | None = "#general") -> None:
    """The whole page, and `element` alone (the General section: name, colour and its preview)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if element:
        page.locator(element).screenshot(path=str(SCREENSHOTS / f"{name}-section.png"))


def signed_in_admin(e2e_app, live_server, page, name: str, **fields) -> tuple:
    """An account whose portal is /r/<name>, with an admin signed in on `page`; the page and the account id."""
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=name, **fields)
        make_user(account, role="admin", email=f"boss-{name}@example.com")
        db.session.commit()
        account_id = account.id
        db.session.remove()
    log_in(page, live_server, f"boss-{name}@example.com")
    return page, account_id


def hex_of(css_colour: str) -> str:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css_colour)[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def colours_of(page, selector: str) -> tuple[str, str]:
    """The text colour of the first `selector` and the colour of the nearest background behind it."""
    return tuple(hex_of(value) for value in page.locator(selector).first.evaluate("""element => {
        let behind = element;
        while (behind && getComputedStyle(behind).backgroundColor.match(/rgba\\(.*, 0\\)|transparent/)) {
            behind = behind.parentElement;
        }
        return [getComputedStyle(element).color,
                behind ? getComputedStyle(behind).backgroundColor : "rgb(255, 255, 255)"];
    }"""))


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_one_save_keeps_every_edit_and_refuses_an_unreadable_colour(e2e_app, live_server, browser, viewport, js):
    name = f"settings-{'phone' if viewport is PHONE else 'desktop'}-js-{'on' if js else 'off'}"
    page, account_id = signed_in_admin(e2e_app, live_server, fresh_page(browser, viewport, js), name)
    with e2e_app.app_context():  # rules mode, chosen below, needs a rule that can decide something
        create_rule(account_id, FAULTY_REFUND)
        db.session.remove()
    page.goto(live_server.url("/dashboard/settings"))
    expect(page.get_by_role("button", name=re.compile("^Save"))).to_have_count(1)
    all_controls_are_labelled(page)

    # Three sections edited, and a light yellow.
    page.get_by_label("Store name").fill("Acme Trail Co")
    page.get_by_label(RULES).check()
    page.get_by_label(EMAIL).check()
    page.get_by_label("Portal colour").fill("#ffe680")
    preview = page.locator("#colour-preview")
    if js:  # the preview follows the colour before anything is saved
        expect(preview).to_contain_text("White text on #ffe680 reaches only 1.2:1")
        expect(preview.locator("svg rect").nth(1)).to_have_attribute("fill", "#ffe680")
        shot(page, f"{name}-preview-refused")
    page.get_by_role("button", name="Save settings").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Nothing was saved")
    expect(summary).to_be_focused()  # read first by a screen reader, also without JavaScript
    expect(summary.get_by_role("link", name=re.compile("^Portal colour: White text on #ffe680 reaches only 1.2:1"))
           ).to_be_visible()
    expect(page.locator("#primary_color-error")).to_contain_text("The nearest shade that passes is #907300.")
    expect(page.get_by_label("Store name")).to_have_value("Acme Trail Co")
    expect(page.get_by_label(RULES)).to_be_checked()
    expect(page.get_by_label(EMAIL)).to_be_checked()
    expect(page.get_by_label("Portal colour")).to_have_value("#ffe680")
    expect(preview.locator("svg rect").nth(1)).to_have_attribute("fill", "#ffe680")
    shot(page, f"{name}-refused")
    shot(page, f"{name}-refused-summary", "#error-summary")
    with e2e_app.app_context():
        stored = db.session.get(Account, account_id)
        assert (stored.name, stored.option_mode, stored.issued_notice, stored.primary_color) == (
            "Acme Outdoor", "customer_choice", "shopify", "#1f6feb")
        db.session.remove()

    summary.get_by_role("link", name=re.compile("^Portal colour")).click()
    page.get_by_label("Portal colour").fill("#907300")
    if js:
        expect(preview).to_contain_text("readable (WCAG AA needs 4.5:1)")
        expect(preview.locator("svg rect").nth(1)).to_have_attribute("fill", "#907300")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash-success")).to_have_text("Settings saved.")
    page.reload()
    expect(page.get_by_label("Store name")).to_have_value("Acme Trail Co")
    expect(page.get_by_label(RULES)).to_be_checked()
    expect(page.get_by_label(EMAIL)).to_be_checked()
    expect(page.get_by_label("Portal colour")).to_have_value("#907300")
    shot(page, f"{name}-saved")
    with e2e_app.app_context():
        stored = db.session.get(Account, account_id)
        assert (stored.name, stored.option_mode, stored.issued_notice, stored.primary_color) == (
            "Acme Trail Co", "rules", "email", "#907300")
        db.session.remove()
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_links_and_buttons_read_at_aa_in_the_dashboard_and_the_portal(e2e_app, live_server, browser, viewport):
    size = "phone" if viewport is PHONE else "desktop"
    # A light yellow stored before colours were checked.
    page, _ = signed_in_admin(e2e_app, live_server, fresh_page(browser, viewport, True), f"sunny-{size}",
                              primary_color="#ffe680")
    page.goto(live_server.url("/dashboard/"))
    text, behind = colours_of(page, "main a:not(.button)")
    assert contrast_ratio(text, "#f6f7f9") >= AA_NORMAL, (text, behind)  # also on the page, not only its card

    page.goto(live_server.url(f"/r/sunny-{size}"))
    text, behind = colours_of(page, ".button.primary")
    assert behind == "#ffe680" and contrast_ratio(text, behind) >= AA_NORMAL, (text, behind)
    page.locator("main").evaluate(
        "main => main.insertAdjacentHTML('beforeend', '<p><a href=\"#\" id=\"probe\">a link</a></p>')")
    text, behind = colours_of(page, "#probe")
    assert contrast_ratio(text, behind) >= AA_NORMAL and contrast_ratio(text, "#eef4ff") >= AA_NORMAL, (text, behind)
    shot(page, f"portal-stored-light-colour-{size}", "main")
    page.context.close()

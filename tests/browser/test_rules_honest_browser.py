"""The rules pages kept honest in a browser: a drag raises no Content-Security-Policy errors,
a rule moves straight to a position (keyboard, JavaScript on and off), and rules mode cannot be
switched on with nothing to decide."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_rules_browser import fill_condition, positions, settled, setup_account
from tests.support.journey import log_in
from tests.support.rules import BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION, FAULTY_REFUND


def test_a_drag_raises_no_console_errors(e2e_app, live_server, page):
    page.set_viewport_size({"width": 1280, "height": 900})
    account_id = setup_account(e2e_app, "csp@example.com", (FAULTY_REFUND, BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION))
    log_in(page, live_server, "csp@example.com")
    page.goto(live_server.url("/dashboard/rules"))
    settled(page)
    errors = []  # from here on: what the drag and the list's redraw raise
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    canada = page.locator(".rule-item", has_text="Canada: no automation")
    canada.locator(".drag-handle").drag_to(page.locator(".rule-item").first.locator(".drag-handle"))
    expect(page.locator("#rules-status")).to_have_text("New order saved.")
    settled(page)
    assert positions(e2e_app, account_id)[0] == "Canada: no automation"
    # A second drag, on the redrawn list.
    faulty = page.locator(".rule-item", has_text="Faulty items are refunded")
    faulty.locator(".drag-handle").drag_to(page.locator(".rule-item").first.locator(".drag-handle"))
    expect(page.locator(".rule-item").first).to_contain_text("Faulty items are refunded")
    settled(page)
    assert errors == [], "\n".join(errors)

VIEWPORTS = [pytest.param({"width": 390, "height": 844}, id="phone"),
             pytest.param({"width": 1280, "height": 900}, id="desktop")]
FIVE = (FAULTY_REFUND, BIG_DISCOUNT_CREDIT,
        {"name": "VIP orders are refunded", "outcome": "refund", "enabled": True,
         "conditions": [{"dimension": "tag", "operator": "has", "value": "vip"}]},
        {"name": "Staff codes get a credit note", "outcome": "credit", "enabled": True,
         "conditions": [{"dimension": "discount_code", "operator": "contains", "value": "STAFF"}]},
        CANADA_NO_ACTION)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_move_a_rule_straight_to_a_position_with_the_keyboard(e2e_app, live_server, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    account_id = setup_account(e2e_app, f"place-{size}@example.com", FIVE)
    log_in(page, live_server, f"place-{size}@example.com")
    page.goto(live_server.url("/dashboard/rules"))
    settled(page)
    # Number 5 to the top: type the position, press Enter (one round trip, not four).
    place = page.get_by_label("Position of Canada: no automation")
    expect(place).to_have_value("5")
    place.focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(page.locator(".rule-item").first).to_contain_text("Canada: no automation")
    expect(page.locator("#rules-status")).to_have_text("“Canada: no automation” is now number 1.")
    settled(page)
    expect(page.get_by_label("Position of Canada: no automation")).to_be_focused()
    expect(page.get_by_label("Position of Canada: no automation")).to_have_value("1")
    assert positions(e2e_app, account_id) == ["Canada: no automation", "Faulty items are refunded",
                                              "Big discounts get a credit note", "VIP orders are refunded",
                                              "Staff codes get a credit note"]
    screenshot(f"rules-move-to-position-{size}")
    # A position that does not exist is refused, saying which ones do; nothing moves.
    page.get_by_label("Position of VIP orders are refunded").fill("9")
    page.get_by_role("button", name="Move VIP orders are refunded to that position").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a position from 1 to 5.")
    refused = page.get_by_label("Position of VIP orders are refunded")
    expect(refused).to_have_value("9")
    expect(refused).to_have_attribute("aria-invalid", "true")
    expect(refused).to_have_accessible_description(re.compile("Choose a position from 1 to 5."))
    assert positions(e2e_app, account_id)[3] == "VIP orders are refunded"
    screenshot(f"rules-move-to-position-refused-{size}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_move_to_a_position_without_javascript(e2e_app, browser, live_server, screenshot, viewport):
    size = "phone" if viewport["width"] < 500 else "desktop"
    context = browser.new_context(viewport=viewport, java_script_enabled=False)
    page = context.new_page()
    account_id = setup_account(e2e_app, f"nojs-place-{size}@example.com", FIVE)
    log_in(page, live_server, f"nojs-place-{size}@example.com")
    page.goto(live_server.url("/dashboard/rules"))
    page.get_by_label("Position of Staff codes get a credit note").fill("2")
    page.get_by_role("button", name="Move Staff codes get a credit note to that position").click()
    expect(page.get_by_text("“Staff codes get a credit note” is now number 2.")).to_be_visible()
    expect(page.locator(".rule-item").nth(1)).to_contain_text("Staff codes get a credit note")
    assert positions(e2e_app, account_id)[1] == "Staff codes get a credit note"
    page.get_by_label("Position of Faulty items are refunded").fill("٣")
    page.get_by_role("button", name="Move Faulty items are refunded to that position").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a position from 1 to 5")
    expect(page.get_by_label("Position of Faulty items are refunded")).to_have_value("٣")
    assert positions(e2e_app, account_id)[0] == "Faulty items are refunded"
    screenshot(f"rules-move-to-position-nojs-{size}", target=page)
    context.close()


def switch_to_rules(page, live_server):
    page.goto(live_server.url("/dashboard/settings"))
    page.get_by_label("My rules, automatically").check()
    page.get_by_role("button", name="Save settings").click()


def option_mode(app, account_id):
    from app.models import Account
    from app.extensions import db

    with app.app_context():
        mode = db.session.get(Account, account_id).option_mode
        db.session.remove()
    return mode


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_rules_mode_is_refused_with_no_rule_and_the_rules_page_says_what_the_rules_give(
        e2e_app, live_server, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    account_id = setup_account(e2e_app, f"mode-{size}@example.com", mode="customer_choice")
    log_in(page, live_server, f"mode-{size}@example.com")
    switch_to_rules(page, live_server)
    error = page.locator(".error", has_text="no rule")
    expect(error).to_contain_text("You have no rule that can decide anything yet")
    expect(page.locator(".flash-success")).to_have_count(0)
    assert option_mode(e2e_app, account_id) == "customer_choice"
    screenshot(f"settings-rules-mode-refused-{size}")

    # With the spec's rules in place the switch is accepted, and the rules page says what they give.
    from app.services import rules as service

    with e2e_app.app_context():
        for raw in (FAULTY_REFUND, BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION):
            service.create_rule(account_id, raw)
        from app.extensions import db
        db.session.remove()
    switch_to_rules(page, live_server)
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    assert option_mode(e2e_app, account_id) == "rules"
    page.goto(live_server.url("/dashboard/rules"))
    expect(page.locator(".mode-banner")).to_contain_text(
        "new returns' items get Refund, Credit note or No Action from these rules; items no rule catches or a No "
        "Action rule catches wait for staff to decide")
    # Switching every rule off leaves rules mode deciding nothing: the page warns, it is not green.
    for name in ("Faulty items are refunded", "Big discounts get a credit note", "Canada: no automation"):
        page.get_by_role("button", name=f"Turn off {name}").click()
        settled(page)
    expect(page.get_by_role("heading", name="Rules mode is on, but no rule can decide anything")).to_be_visible()
    expect(page.locator(".mode-on")).to_have_count(0)
    screenshot(f"rules-mode-deciding-nothing-{size}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_editor_refuses_a_reason_the_shop_does_not_offer_and_a_negative_amount(
        e2e_app, live_server, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    account_id = setup_account(e2e_app, f"refuse-{size}@example.com")
    log_in(page, live_server, f"refuse-{size}@example.com")
    page.goto(live_server.url("/dashboard/rules/new"))
    page.get_by_label("Name").fill("Broken items are refunded")
    page.get_by_label("Looks at").select_option(label="Order Return Reason")
    settled(page)
    page.get_by_label("Value", exact=True).fill("Broken")
    page.get_by_role("button", name="Add condition").click()
    second = page.locator(".condition-row").nth(1)
    expect(second.get_by_label("Looks at")).to_be_focused()  # the new row is wired up
    fill_condition(page, second, "Order Value", "greater than", "-20")
    page.get_by_label("Refund", exact=True).check()
    page.get_by_role("button", name="Save rule").click()
    first_value = page.locator(".condition-row").nth(0).get_by_label("Value", exact=True)
    expect(first_value).to_have_attribute("aria-invalid", "true")
    expect(first_value).to_have_accessible_description(re.compile(
        "“Broken” is not one of your return reasons, so no returned item can have it. Your reasons: Faulty, "))
    expect(page.locator(".condition-row").nth(1).get_by_label("Value", exact=True)).to_have_accessible_description(
        re.compile("An amount is 0 or more."))
    # What was typed is still there, to correct.
    expect(first_value).to_have_value("Broken")
    screenshot(f"rules-editor-refused-{size}")
    assert positions(e2e_app, account_id) == []

"""The rules pages kept honest in a browser: a drag raises no Content-Security-Policy errors,
a rule moves straight to a position (keyboard, JavaScript on and off), and rules mode cannot be
switched on with nothing to decide."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_rules_browser import log_in, positions, settled, setup_account
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

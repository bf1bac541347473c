"""A retailer signs up, logs out, logs in and adds a staff member, in a real Chromium."""
import re

import pytest
from playwright.sync_api import expect

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 800}],
                         ids=["phone", "desktop"])
def test_sign_up_log_out_log_in_and_add_staff(live_server, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    page.goto(live_server.url("/signup"))
    screenshot(f"signup-{size}")

    # A weak password is refused next to the field, and nothing else is lost.
    page.get_by_label("Store name").fill("Acme Outdoor")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_have_text("Use at least 10 characters.")
    expect(page.get_by_label("Store name")).to_have_value("Acme Outdoor")
    screenshot(f"signup-error-{size}")

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    # The same answer whether or not the email already had an account: log in next.
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_text("your account is ready")).to_be_visible()
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Outdoor")
    screenshot(f"dashboard-home-{size}")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#password-error")).to_have_text("That email and password do not match.")
    screenshot(f"login-error-{size}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Outdoor")

    page.get_by_role("link", name="Staff").click()
    page.get_by_label("Name").fill("Sam Packer")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Temporary password").fill("a long staff password")
    page.get_by_label("Role").select_option("staff")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("sam@example.com can now log in as staff.")).to_be_visible()
    expect(page.get_by_role("cell", name="sam@example.com", exact=True)).to_be_visible()
    screenshot(f"staff-{size}")

    # The new staff member logs in and is not offered settings.
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill("a long staff password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Overview")).to_be_visible()
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    response = page.goto(live_server.url("/dashboard/settings"))
    assert response.status == 403
    screenshot(f"forbidden-{size}")


def test_the_whole_login_can_be_done_with_the_keyboard(live_server, page):
    from app.extensions import db
    from tests.factories import make_account, make_user

    with live_server.server.app.app_context():
        make_user(make_account(), email="keys@example.com")
        db.session.commit()
    page.goto(live_server.url("/login"))
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand link
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("keys@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

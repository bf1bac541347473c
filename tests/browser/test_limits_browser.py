"""Limits as a person meets them, in Chromium on a phone and a desktop, JavaScript on and off:
the login's lock-out message, the portal look-up's, and the sign-up's one answer for every email.
Screenshots go to test-artifacts/screenshots/ (and SHOTS_DIR when set)."""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.rate_limits import EXTENSION_KEY
from tests.factories import PASSWORD, make_account, make_user
from tests.support.e2e import SCREENSHOTS
from tests.support.journey import SHAPES
from tests.support.portal import make_line, make_portal_order


def new_page(browser, viewport, javascript):
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))
    return context.new_page()


def snap(page, name):
    for folder in filter(None, (SCREENSHOTS, os.environ.get("SHOTS_DIR"))):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def fail_three_times(page, button, fields, error, message):
    """Send the form three times with the values `fields` gives for attempt n; each is refused."""
    for attempt in range(3):
        for label, value in fields.items():
            page.get_by_label(label).fill(value(attempt))
        page.get_by_role("button", name=button).click()
        expect(page.locator(error)).to_contain_text(message)


@pytest.fixture
def tight(live_server, monkeypatch):
    """Three failures per address; counters of this test's own (every browser comes from 127.0.0.1)."""
    app = live_server.server.app
    for setting in ("LOGIN_RATE_LIMIT", "PORTAL_LOOKUP_RATE_LIMIT"):
        monkeypatch.setitem(app.config, setting, "3 per minute")
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, None)
    with app.app_context():
        account = make_account(name="Acme Outfitters", slug="acme-limits")
        make_user(account, email="boss@example.com")
        make_portal_order(account, [make_line(title="Trail Jacket")], name="#1042", email="pat@example.com")
        db.session.commit()
        db.session.remove()
    return live_server


@pytest.mark.parametrize("viewport, javascript", SHAPES)
def test_login_lock_out_says_what_to_do(tight, browser, viewport, javascript, request):
    shape = request.node.callspec.id
    page = new_page(browser, viewport, javascript)
    page.goto(tight.url("/login"))
    fail_three_times(page, "Log in", {"Email": lambda n: "boss@example.com", "Password": lambda n: f"wrong {n}"},
                     "#password-error", "That email and password do not match.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed attempts. Please wait a few minutes, then try again.")
    expect(page.get_by_label("Email")).to_have_value("boss@example.com")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    snap(page, f"limits-login-locked-{shape}")
    page.context.close()


@pytest.mark.parametrize("viewport, javascript", SHAPES)
def test_portal_lookup_limit_says_what_to_do(tight, browser, viewport, javascript, request):
    shape = request.node.callspec.id
    page = new_page(browser, viewport, javascript)
    page.goto(tight.url("/r/acme-limits"))
    fail_three_times(page, "Find my order", {"Order number": lambda n: f"#99{n}",
                                             "Email address": lambda n: "pat@example.com"},
                     "#lookup-error", "We could not find that order.")
    snap(page, f"limits-lookup-not-found-{shape}")
    page.get_by_label("Order number").fill("#1042")
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_role("alert")).to_have_text("Too many attempts. Please wait a minute and try again.")
    expect(page.get_by_label("Order number")).to_have_value("#1042")
    snap(page, f"limits-lookup-too-many-{shape}")
    page.context.close()


@pytest.mark.parametrize("viewport, javascript", SHAPES)
def test_sign_up_gives_one_answer_for_a_new_and_a_registered_email(tight, browser, viewport, javascript, request):
    shape = request.node.callspec.id
    seen = []
    for email in ("boss@example.com", f"new-{shape}@example.com"):
        page = new_page(browser, viewport, javascript)
        page.goto(tight.url("/signup"))
        page.get_by_label("Store name").fill("Acme Outdoor")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        # Compared as words: Chromium may lay out a label's trailing space differently between pages.
        seen.append((page.url, " ".join(page.locator("main").inner_text().split())))
        if email.startswith("new"):
            snap(page, f"limits-signup-answer-{shape}")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Acme Outdoor")
        page.context.close()
    assert seen[0] == seen[1]
    assert "your account is ready" in seen[0][1]

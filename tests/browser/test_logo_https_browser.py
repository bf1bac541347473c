"""The portal logo setting takes https:// addresses only, in Chromium on a phone and a desktop,
JavaScript on and off: a plain-http logo is refused next to the field and nothing is saved."""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from tests.browser.test_portal_privacy_browser import SHAPES
from tests.factories import make_account, make_user
from tests.support.journey import log_in, shape_name


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_a_plain_http_logo_is_refused_with_the_reason(e2e_app, live_server, browser, screenshot, viewport, js):
    name = shape_name(viewport, js)
    with e2e_app.app_context():
        account = make_account(name="Acme Outfitters", slug=f"logo-{name}")
        make_user(account, role="admin", email=f"boss-logo-{name}@example.com")
        db.session.commit()
        account_id = account.id
        db.session.remove()
    page = browser.new_context(viewport=viewport, java_script_enabled=js).new_page()
    log_in(page, live_server, f"boss-logo-{name}@example.com")
    page.goto(live_server.url("/dashboard/settings"))
    page.get_by_label("Portal logo URL").fill("http://cdn.example.com/logo.png")
    page.get_by_role("button", name="Save settings").click()
    message = "Use an https:// address: browsers block images sent over plain http."
    expect(page.get_by_text(message, exact=True)).to_be_visible()
    screenshot(f"settings-logo-http-refused-{name}", target=page)
    with e2e_app.app_context():
        assert db.session.get(Account, account_id).logo_url is None
        db.session.remove()

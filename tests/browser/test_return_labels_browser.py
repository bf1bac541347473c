"""Prepaid return labels in Chromium, against the sandbox's fake EasyPost: the admin connects the
provider in Settings on a desktop (a refusal says why and keeps what was typed; the key is never
shown back); the shopper submits a return on a phone, with JavaScript on and off, and the status
page offers the label to download, its tracking number already added, with no tracking form."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account, ReturnLabel
from app.services import labels as label_service
from tests.factories import make_account, make_user
from tests.browser.test_return_address_browser import submit_refund
from tests.support.journey import DESKTOP, PHONE, all_controls_are_labelled, log_in, reload_until, shoot
from tests.support.labels import SHOPPER_ADDRESS, purchases, return_to_label, use_label_provider
from tests.support.portal import connect_to_sandbox, make_line, make_portal_order
from tests.support.return_action import journey  # noqa: F401  (fixtures)


def new_page(browser, viewport, javascript=True):
    """A page in its own context (own cookies), JavaScript on or off."""
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))
    return context.new_page()


def seed_shop(e2e_app, sandbox, slug, labels=True):
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outfitters", slug=slug, return_reasons=["Faulty", "Too small"])
        connect_to_sandbox(account, sandbox)
        make_user(account, role="admin", email=f"boss-{slug}@example.com")
        make_portal_order(account, [make_line(title="Trail Jacket", variant_title="M / Blue", sku="TJ-1")],
                          name="#1042", email="pat@example.com", customer_name="Pat Shopper",
                          shipping_address=dict(SHOPPER_ADDRESS))
        db.session.commit()
        if labels:
            use_label_provider(account, sandbox, "easypost")
        db.session.remove()
    return slug


@pytest.mark.parametrize("javascript", [pytest.param(True, id="js"), pytest.param(False, id="no-js")])
def test_the_shopper_on_a_phone_gets_the_label_on_the_status_page(e2e_app, live_server, sandbox, journey, browser,
                                                                 screenshot, javascript):
    size = f"phone-{'js' if javascript else 'nojs'}"
    slug = seed_shop(e2e_app, sandbox, f"labels-shopper-{size}")
    page = new_page(browser, PHONE, javascript)
    submit_refund(page, live_server, slug)
    page.get_by_role("link", name="See your return's status").click()
    download = lambda p: p.get_by_role("link", name="Download your label (PDF)")  # noqa: E731
    reload_until(page, download)
    section = page.get_by_role("region", name="Your prepaid return label")
    number = section.locator("#label-tracking").inner_text()
    assert re.fullmatch(r"[0-9]{12,}", number)
    # Already on the return (the label job attaches it right after recording the label).
    reload_until(page, lambda p: p.locator("section:has(h2:text-is('Progress')) .tracking-number"))
    section = page.get_by_role("region", name="Your prepaid return label")
    expect(page.locator("section:has(h2:text-is('Progress')) .tracking-number")).to_have_text(number)
    expect(page.get_by_role("heading", name="Add the tracking number")).to_have_count(0)
    expect(section.get_by_role("link", name="Label as an image (PNG)")).to_be_visible()
    expect(page.get_by_role("link", name="Print the packing slip")).to_be_visible()
    box = download(page).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # reachable on a phone, no sideways scroll
    pdf = page.request.get(download(page).get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    assert purchases(sandbox)["purchases"] == 1
    shoot(screenshot, page, f"return-label-status-{size}")


def test_the_admin_on_a_desktop_connects_a_provider_in_settings(e2e_app, live_server, sandbox, journey, browser,
                                                               screenshot):
    slug = seed_shop(e2e_app, sandbox, "labels-admin", labels=False)
    page = new_page(browser, DESKTOP)
    log_in(page, live_server, f"boss-{slug}@example.com")
    page.goto(live_server.url("/dashboard/settings"))
    page.get_by_role("link", name="set up labels").click()
    expect(page.get_by_role("heading", name="Prepaid return labels")).to_be_visible()
    all_controls_are_labelled(page)
    page.get_by_label("Label provider").select_option("easypost")
    page.get_by_label("API key").fill("EZTK_admin_typed_key")
    page.get_by_label("Parcel weight (ounces)").fill("0")
    page.get_by_label("Street address").fill("417 Montgomery Street")
    page.get_by_label("City").fill("San Francisco")
    page.get_by_role("button", name="Save label settings").click()
    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    expect(page.get_by_label("Parcel weight (ounces)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Street address")).to_have_value("417 Montgomery Street")  # kept
    expect(page.locator("#label-fee-settings")).to_contain_text("your shop (no return shipping fee is set)")
    shoot(screenshot, page, "return-label-settings-refused-desktop")

    page.get_by_label("API key").fill("EZTK_admin_typed_key")  # a secret is never typed back into the page
    page.get_by_label("Parcel weight (ounces)").fill("24")
    page.get_by_label("Postal code").fill("94104")
    page.get_by_label("Country code").fill("US")
    page.get_by_role("button", name="Save label settings").click()
    expect(page.get_by_text("Label settings saved.")).to_be_visible()
    expect(page.get_by_text(re.compile("A key is stored"))).to_be_visible()
    expect(page.get_by_label("API key")).to_have_value("")
    expect(page.get_by_label("Parcel weight (ounces)")).to_have_value("24")
    assert "EZTK_admin_typed_key" not in page.content()
    shoot(screenshot, page, "return-label-settings-desktop")
    page.goto(live_server.url("/dashboard/settings"))
    expect(page.get_by_role("link", name=re.compile("EasyPost"))).to_be_visible()


@pytest.mark.parametrize("javascript", [pytest.param(True, id="js"), pytest.param(False, id="no-js")])
def test_staff_void_a_label_only_after_saying_yes(e2e_app, live_server, sandbox, browser, screenshot, javascript):
    size = f"desktop-{'js' if javascript else 'nojs'}"
    slug = seed_shop(e2e_app, sandbox, f"labels-void-{size}")
    with e2e_app.test_request_context():
        account = db.session.scalar(db.select(Account).where(Account.slug == slug))
        ret = return_to_label(account)
        label_service.buy_label(ret.id)
        return_id, rma = ret.id, ret.rma_number
        db.session.remove()
    page = new_page(browser, DESKTOP, javascript)
    log_in(page, live_server, f"boss-{slug}@example.com")
    page.goto(live_server.url(f"/dashboard/returns/{return_id}"))
    section = page.get_by_role("region", name="Prepaid label")
    expect(section.locator("#label-cost")).to_have_text("8.20 USD")
    if javascript:
        page.once("dialog", lambda dialog: dialog.dismiss())  # "no": nothing happens
        section.get_by_role("button", name="Void label").click()
        expect(section.locator("#label-state")).to_have_text("Bought")
        page.once("dialog", lambda dialog: dialog.accept())
        section.get_by_role("button", name="Void label").click()
    else:
        section.get_by_role("button", name="Void label").click()
        expect(page.get_by_role("heading", name=f"Void the prepaid label of return {rma}?")).to_be_visible()
        shoot(screenshot, page, f"return-label-void-asked-{size}")
        page.get_by_role("button", name="Void the label").click()
    expect(page.get_by_text("Label voided")).to_be_visible()
    expect(page.get_by_role("region", name="Prepaid label").locator("#label-state")).to_have_text("Voided")
    with e2e_app.app_context():
        assert db.session.scalar(db.select(ReturnLabel.state).where(ReturnLabel.return_id == return_id)) == "VOIDED"
        db.session.remove()
    assert len(purchases(sandbox)["refunds"]) == 1
    shoot(screenshot, page, f"return-label-voided-{size}")

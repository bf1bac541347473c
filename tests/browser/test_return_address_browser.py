"""Where the parcel goes, in Chromium on a phone and a desktop: the admin sets the return address
in Settings; the shopper reads it on the confirmation and the status page and prints the packing
slip (with and without JavaScript; the print layout checked with print media); staff start a
return for a customer from the order page, with and without JavaScript."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import make_account, make_user
from tests.support.e2e import SCREENSHOTS
from tests.support.journey import DESKTOP, PHONE, all_controls_are_labelled, log_in, shoot
from tests.support.portal import (connect_to_sandbox, exchangeable_product, line_for_variant, make_line,
                                   make_portal_order)

SIZES = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]


def new_page(browser, viewport, javascript=True):
    """A page in its own context (own cookies), JavaScript on or off, the htmx CDN unreachable."""
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))
    return context.new_page()


def seed_shop(e2e_app, sandbox, slug, **fields):
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outfitters", slug=slug, return_reasons=["Faulty", "Too small"], **fields)
        connect_to_sandbox(account, sandbox)
        make_user(account, role="admin", email=f"boss-{slug}@example.com")
        make_user(account, role="staff", email=f"staff-{slug}@example.com")
        product = exchangeable_product(sandbox, account.shop_domain)
        order = make_portal_order(account, [make_line(title="Trail Jacket", variant_title="M / Blue", sku="TJ-1"),
                                            line_for_variant(product)],
                                  name="#1042", email="pat@example.com", customer_name="Pat Shopper")
        db.session.commit()
        facts = {"slug": slug, "order_id": order.id, "product": product.title, "wanted": product.in_stock[0]}
        db.session.remove()
    return facts


@pytest.mark.parametrize("viewport", SIZES)
def test_the_admin_sets_the_return_address_and_a_refused_one_says_why(e2e_app, live_server, sandbox, browser,
                                                                      screenshot, viewport):
    size = "phone" if viewport is PHONE else "desktop"
    facts = seed_shop(e2e_app, sandbox, f"addr-admin-{size}",
                      shop_address="Acme Outfitters\n150 Elgin Street\nOttawa, ON K2P 1L4\nCanada")
    page = new_page(browser, viewport)
    log_in(page, live_server, f"boss-{facts['slug']}@example.com")
    page.goto(live_server.url("/dashboard/settings"))
    section = page.get_by_role("region", name="Return address")
    expect(section.get_by_text("Shoppers send their parcels to your shop's address in Shopify")).to_be_visible()
    expect(section.locator("#shop-address")).to_contain_text("150 Elgin Street")
    all_controls_are_labelled(page, "#return-address")

    section.get_by_role("textbox", name="Return address", exact=True).fill("\n".join(f"Line {n}" for n in range(9)))
    page.get_by_role("button", name="Save settings").click()
    field = page.get_by_role("textbox", name="Return address", exact=True)
    expect(page.get_by_role("link", name="Return address: Use at most 8 lines.")).to_be_visible()  # in the summary
    expect(page.get_by_text("Use at most 8 lines.", exact=True)).to_be_visible()
    expect(field).to_have_attribute("aria-invalid", "true")

    field.fill("Acme Returns\n4 Dock St\nLeith EH6 7AA")
    page.get_by_label("Instructions for the shopper").fill("Use any tracked service.")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    section = page.get_by_role("region", name="Return address")
    expect(section.get_by_text("Shoppers send their parcels to the return address below.")).to_be_visible()
    expect(section.get_by_role("textbox", name="Return address", exact=True)).to_have_value(
        "Acme Returns\n4 Dock St\nLeith EH6 7AA")
    shoot(screenshot, page, f"return-address-settings-{size}")
    # The section alone, where it can be read at the size it is seen.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SCREENSHOTS / f"return-address-section-{size}.png"))


def submit_refund(page, live_server, slug):
    """Order #1042's Trail Jacket returned for a refund (reason Faulty) through the portal."""
    page.goto(live_server.url(f"/r/{slug}"))
    page.get_by_label("Order number").fill("1042")
    page.get_by_label("Email address").fill("pat@example.com")
    page.get_by_role("button", name="Find my order").click()
    jacket = page.get_by_role("region", name=re.compile("Trail Jacket"))
    jacket.get_by_label("Return this item").check()
    jacket.get_by_label("Faulty").check()
    jacket.get_by_role("radio", name=re.compile("^Refund")).check()
    page.get_by_role("button", name="Review my return").click()
    page.get_by_role("button", name="Submit return").click()
    expect(page.get_by_role("heading", name="Your return is registered")).to_be_visible()


@pytest.mark.parametrize("javascript", [pytest.param(True, id="js"), pytest.param(False, id="no-js")])
@pytest.mark.parametrize("viewport", SIZES)
def test_the_shopper_reads_where_to_send_it_and_prints_the_packing_slip(e2e_app, live_server, sandbox, browser,
                                                                       screenshot, viewport, javascript):
    size = f"{'phone' if viewport is PHONE else 'desktop'}-{'js' if javascript else 'nojs'}"
    facts = seed_shop(e2e_app, sandbox, f"addr-shopper-{size}", return_address="Acme Returns\n4 Dock St\nLeith EH6 7AA",
                      return_instructions="Pack the items in their box.\nUse any tracked service.")
    page = new_page(browser, viewport, javascript)
    submit_refund(page, live_server, facts["slug"])
    where = page.get_by_role("region", name="Send your parcel to")
    expect(where.locator("address")).to_have_text(re.compile(r"Acme Returns\s*4 Dock St\s*Leith EH6 7AA"))
    expect(where.get_by_text("Use any tracked service.")).to_be_visible()
    rma = page.locator(".rma").first.inner_text()
    shoot(screenshot, page, f"return-address-confirmation-{size}")

    page.get_by_role("link", name="See your return's status").click()
    expect(page.get_by_role("region", name="Send your parcel to")).to_be_visible()
    shoot(screenshot, page, f"return-address-status-{size}")
    page.get_by_role("link", name="Print the packing slip").click()

    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    expect(page.get_by_role("img", name=f"Barcode of {rma}")).to_be_visible()
    expect(page.get_by_role("table", name="Items in this parcel")).to_contain_text("Trail Jacket")
    expect(page.get_by_role("table", name="Items in this parcel")).to_contain_text("TJ-1")
    print_button = page.get_by_role("button", name="Print the packing slip")
    hint = page.get_by_text("Use your browser's Print command")
    if javascript:
        expect(print_button).to_be_visible()
        expect(hint).to_be_hidden()
    else:
        expect(print_button).to_be_hidden()
        expect(hint).to_be_visible()
    shoot(screenshot, page, f"packing-slip-{size}")

    page.emulate_media(media="print")
    expect(page.locator(".portal-header")).to_be_hidden()
    expect(page.get_by_role("link", name="Back to your return")).to_be_hidden()
    expect(hint).to_be_hidden()
    barcode = page.get_by_role("img", name=f"Barcode of {rma}").bounding_box()
    assert barcode["x"] >= 0 and barcode["x"] + barcode["width"] <= page.viewport_size["width"]
    assert barcode["width"] >= 200  # two pixels a module at least: a scanner reads it
    shoot(screenshot, page, f"packing-slip-print-{size}")


@pytest.mark.parametrize("javascript, viewport", [pytest.param(False, PHONE, id="phone-no-js"),
                                                  pytest.param(True, DESKTOP, id="desktop-js")])
def test_staff_start_a_return_for_a_customer_on_the_phone(e2e_app, live_server, sandbox, browser, screenshot,
                                                         javascript, viewport):
    size = "phone-nojs" if viewport is PHONE else "desktop-js"
    facts = seed_shop(e2e_app, sandbox, f"start-{size}")
    page = new_page(browser, viewport, javascript)
    log_in(page, live_server, f"staff-{facts['slug']}@example.com")
    page.goto(live_server.url(f"/dashboard/orders/{facts['order_id']}"))
    page.get_by_role("link", name="Start a return").click()
    expect(page.get_by_role("heading", name="Start a return for Pat Shopper")).to_be_visible()
    all_controls_are_labelled(page)

    shoe = page.get_by_role("region", name=re.compile(facts["product"]))
    shoe.get_by_label("Return this item").check()
    shoe.get_by_label("Reason").select_option("Too small")
    shoe.get_by_label("Exchange", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    # The sizes in stock appear, with the missing choice marked.
    shoe = page.get_by_role("region", name=re.compile(facts["product"]))
    expect(page.get_by_text("Choose the size or colour you want instead.")).to_be_visible()
    expect(shoe.get_by_label("Exchange", exact=True)).to_be_checked()
    expect(shoe.get_by_label("Reason")).to_have_value("Too small")
    shoot(screenshot, page, f"start-return-sizes-{size}")
    shoe.locator(f"input[value='{facts['wanted'].id}']").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Start this return for Pat Shopper?")).to_be_visible()
    expect(page.locator("#will-issue")).to_contain_text("Exchange: 1 item")
    expect(page.locator("#will-issue")).to_contain_text("Nothing is issued now")
    expect(page.get_by_label("Email the customer the status link")).to_be_checked()
    shoot(screenshot, page, f"start-return-confirm-{size}")
    page.get_by_role("button", name="Start the return").click()
    expect(page.get_by_text(re.compile(
        r"Return R-\d+ started for Pat Shopper\. They were emailed the status link\."))).to_be_visible()
    expect(page.get_by_text(re.compile(r"started by staff-start-.*@example.com for the customer"))).to_be_visible()
    shoot(screenshot, page, f"start-return-done-{size}")
    page.get_by_role("link", name="Packing slip").click()
    expect(page.get_by_role("img", name=re.compile(r"Barcode of R-\d+"))).to_be_visible()
    expect(page.get_by_role("table", name="Items in this parcel")).to_contain_text(facts["product"])
    expect(page.get_by_role("link", name="Back to the return")).to_be_visible()


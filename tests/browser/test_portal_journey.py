"""The shopper's whole journey in Chromium, on a phone and a desktop, in both option modes, with an
exchange whose variants come live from the sandbox; every message a shopper can meet; keyboard only."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail, Return
from tests.factories import make_account
from tests.support.portal import (connect_to_sandbox, exchangeable_product, line_for_variant, make_line,
                                   make_portal_order)

VIEWPORTS = [pytest.param({"width": 390, "height": 844}, id="phone"),
             pytest.param({"width": 1280, "height": 900}, id="desktop")]


def seed(e2e_app, sandbox, slug, mode="customer_choice") -> dict:
    """A connected shop with order #1042: a shoe to exchange, socks (one refunded), a final-sale scarf;
    and #1043, outside the return window."""
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=slug, option_mode=mode, primary_color="#0f766e",
                               excluded_product_tags=["final-sale"])
        connect_to_sandbox(account, sandbox)
        product = exchangeable_product(sandbox, account.shop_domain)
        make_portal_order(account, [
            line_for_variant(product, quantity=2, fulfilled_quantity=2, unit_price=Decimal("99.00"),
                             discounted_unit_price=Decimal("74.25")),
            make_line(title="Wool Socks", variant_title="One size", quantity=3, fulfilled_quantity=3,
                      refunded_quantity=1, discounted_unit_price=Decimal("9.60")),
            make_line(title="Silk Scarf", variant_title="Navy", product_tags=["final-sale"])],
            name="#1042", email="pat@example.com")
        make_portal_order(account, [make_line(title="Rain Shell", variant_title="L / Olive")], name="#1043",
                          email="pat@example.com", days_ago=45)
        db.session.commit()
        facts = {"slug": slug, "product": product.title, "wanted": product.in_stock[0]}
        db.session.remove()
    return facts


def find_order(page, live_server, slug, number="1042", email="  PAT@example.com "):
    page.goto(live_server.url(f"/r/{slug}"))
    page.get_by_label("Order number").fill(number)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Find my order").click()


def all_controls_are_labelled(page):
    controls = page.locator("main input:not([type=hidden]), main select, main textarea, main button")
    for index in range(controls.count()):
        control = controls.nth(index)
        if control.is_visible():
            expect(control).to_have_accessible_name(re.compile(r"\w"))


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("mode", ["customer_choice", "rules"])
def test_the_whole_journey(e2e_app, live_server, sandbox, page, screenshot, viewport, mode):
    page.set_viewport_size(viewport)
    name = f"{'phone' if viewport['width'] < 500 else 'desktop'}-{mode.replace('_', '-')}"
    facts = seed(e2e_app, sandbox, f"journey-{name}", mode)
    find_order(page, live_server, facts["slug"])
    expect(page.get_by_role("heading", name="Choose what to return")).to_be_visible()
    expect(page.get_by_text("This item is final sale and cannot be returned.")).to_be_visible()
    expect(page.get_by_text("You can return 2 of 3.")).to_be_visible()
    all_controls_are_labelled(page)

    shoe = page.get_by_role("region", name=re.compile(facts["product"]))
    shoe.get_by_label("Return this item").check()
    shoe.get_by_label("How many").select_option("2")
    shoe.get_by_label("Too small").check()
    shoe.get_by_label("Anything the shop should know?").fill("Runs half a size small.")
    socks = page.get_by_role("region", name=re.compile("Wool Socks"))
    socks.get_by_label("Return this item").check()
    socks.get_by_label("Changed my mind").check()
    wanted = facts["wanted"]
    if mode == "customer_choice":
        expect(shoe.get_by_text("74.25 USD per item, back to your original payment method")).to_be_visible()
        shoe.get_by_role("radio", name=re.compile("^Exchange")).check()
        label = re.compile("^Size: " + re.escape(wanted.options[0]) + ", .*" + re.escape(wanted.options[-1]) + "$")
        expect(shoe.get_by_role("group", name="Exchange for")).to_contain_text("Size: ")
        shoe.get_by_role("radio", name=label).check()
        socks.get_by_role("radio", name=re.compile("^Credit note")).check()
    else:
        # No rule yet: the portal promises only what is true, that staff decide.
        expect(page.locator("#rules-note")).to_have_text(
            "Acme Outdoor's staff decide what each item gets. Your return's page will show it.")
        expect(page.get_by_role("radio", name=re.compile("^Refund"))).to_have_count(0)
    screenshot(f"portal-items-{name}")
    page.get_by_role("button", name="Review my return").click()

    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    expect(page.get_by_text("Estimated total:")).to_contain_text("158.10 USD")
    if mode == "customer_choice":
        expect(page.get_by_text(re.compile("^Exchange for Size: "))).to_be_visible()
    else:
        expect(page.get_by_text("Decided by Acme Outdoor").first).to_be_visible()
    screenshot(f"portal-review-{name}")
    page.get_by_role("button", name="Submit return").click()

    expect(page.get_by_role("heading", name="Your return is registered")).to_be_visible()
    rma = page.locator(".rma").inner_text()
    assert re.fullmatch(r"R-\d{4,}", rma)
    screenshot(f"portal-confirmation-{name}")
    page.get_by_label("Tracking number").fill("1z 999 aa1 0123 456784")
    page.get_by_role("button", name="Add tracking number").click()
    expect(page.get_by_text("Tracking number 1Z999AA10123456784 is saved.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    screenshot(f"portal-status-{name}")

    with e2e_app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma_number == rma))
        assert [i.quantity for i in ret.items] == [2, 1]
        if mode == "customer_choice":
            assert ret.items[0].exchange_variant_id == wanted.id and ret.items[1].option == "credit"
        link = db.session.scalar(select(OutboxEmail.text_body).where(OutboxEmail.return_id == ret.id))
        db.session.remove()
    # The email's signed link opens the status page in a browser with no portal session.
    path = re.search(r"http://localhost(/r/\S+)", link).group(1)
    fresh = page.context.browser.new_page(viewport=viewport)
    fresh.goto(live_server.url(path))
    expect(fresh.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    fresh.once("dialog", lambda dialog: dialog.accept())
    fresh.get_by_role("button", name="Cancel this return").click()
    expect(fresh.get_by_text(f"Return {rma} is cancelled.")).to_be_visible()
    fresh.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_message_a_shopper_can_meet(e2e_app, live_server, sandbox, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    facts = seed(e2e_app, sandbox, f"messages-{size}")
    with e2e_app.app_context():
        other = make_account(slug=f"other-{size}")
        make_portal_order(other, [make_line()], name="#2001", email="pat@example.com")
        db.session.commit()
        db.session.remove()
    message = "We could not find that order."
    for number, email in [("9999", "pat@example.com"), ("1042", "someone@example.com"), ("2001", "pat@example.com")]:
        find_order(page, live_server, facts["slug"], number, email)
        expect(page.get_by_role("alert")).to_contain_text(message)
    screenshot(f"portal-not-found-{size}")

    find_order(page, live_server, facts["slug"], "#1042")
    expect(page.get_by_text("This item is final sale and cannot be returned.")).to_be_visible()
    expect(page.get_by_text("You can return 2 of 3.")).to_be_visible()  # one sock refunded in Shopify
    find_order(page, live_server, facts["slug"], "1043")
    expect(page.get_by_text("The return window for this order has closed.")).to_be_visible()
    expect(page.get_by_role("button", name="Review my return")).to_have_count(0)
    screenshot(f"portal-window-closed-{size}")

    # A sock returned in full: the refunded line then says so.
    find_order(page, live_server, facts["slug"], "1042")
    socks = page.get_by_role("region", name=re.compile("Wool Socks"))
    socks.get_by_label("Return this item").check()
    socks.get_by_label("How many").select_option("2")
    socks.get_by_label("Faulty").check()
    socks.get_by_role("radio", name=re.compile("^Refund")).check()
    page.get_by_role("button", name="Review my return").click()
    page.get_by_role("button", name="Submit return").click()
    expect(page.get_by_role("heading", name="Your return is registered")).to_be_visible()
    rma = page.locator(".rma").inner_text()
    page.goto(live_server.url(f"/r/{facts['slug']}/items"))
    expect(page.get_by_role("region", name=re.compile("Wool Socks"))).to_contain_text(
        f"This item is in your return {rma}.")
    screenshot(f"portal-already-returned-{size}")

    # Choices left out are pointed at, next to the field.
    shoe = page.get_by_role("region", name=re.compile(facts["product"]))
    shoe.get_by_label("Return this item").check()
    page.get_by_role("button", name="Review my return").click()
    expect(shoe.get_by_text("Choose a reason.")).to_be_visible()
    expect(shoe.get_by_text("Choose what you would like back.")).to_be_visible()
    screenshot(f"portal-missing-choices-{size}")


def press_until(page, selector: str, key: str = "Tab", limit: int = 120) -> None:
    """Press Tab until the focused element matches `selector` (fails after `limit` presses)."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"keyboard focus never reached {selector}")


def test_keyboard_only(e2e_app, live_server, sandbox, page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    facts = seed(e2e_app, sandbox, "keyboard")
    page.goto(live_server.url("/r/keyboard"))
    press_until(page, "#order_number")
    page.keyboard.type("1042")
    press_until(page, "#email")
    page.keyboard.type("pat@example.com")
    press_until(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Choose what to return")).to_be_visible()
    press_until(page, "input.line-toggle")
    page.keyboard.press("Space")                 # return the first item (the shoe)
    press_until(page, "input[name$=-reason]")
    page.keyboard.press("Space")                 # the first reason: Faulty
    press_until(page, "input[name$=-option]")
    page.keyboard.press("Space")                 # the first option: Refund
    press_until(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    press_until(page, ".submit-form button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your return is registered")).to_be_visible()
    press_until(page, "#tracking_number")
    page.keyboard.type("1Z999AA10123456784")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Tracking number 1Z999AA10123456784 is saved.")).to_be_visible()
    screenshot("portal-keyboard-done")
    with e2e_app.app_context():
        ret = db.session.scalar(select(Return))
        assert (ret.items[0].title, ret.items[0].reason, ret.items[0].option) == (facts["product"], "Faulty", "refund")
        db.session.remove()

"""The return window in Chromium, on a phone and a desktop, JavaScript on and off: a store that
counts from delivery shows each item's "Return by" date (a line over two parcels counts each unit
from its own), the closed-window message says when it closed, and the admin picks the basis in
Settings. Screenshots of each page."""
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from app.domain.return_window import format_day
from app.extensions import db
from tests.browser.test_issuing_pages_browser import fresh_page
from tests.factories import make_account, make_user
from tests.support.e2e import SCREENSHOTS
from tests.support.journey import DESKTOP, PHONE, all_controls_are_labelled, log_in
from tests.support.portal import make_line, make_portal_order

SHAPES = [pytest.param(viewport, js, id=f"{'phone' if viewport is PHONE else 'desktop'}-js-{'on' if js else 'off'}")
          for viewport in (PHONE, DESKTOP) for js in (True, False)]


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def day(days_from_now: float) -> str:
    return format_day((datetime.now(timezone.utc) + timedelta(days=days_from_now)).date())


def parcel(pid, lines, shipped_days_ago, delivered_days_ago=None):
    now = datetime.now(timezone.utc)
    return {"id": pid, "created_at": (now - timedelta(days=shipped_days_ago)).isoformat(),
            "delivered_at": (now - timedelta(days=delivered_days_ago)).isoformat()
            if delivered_days_ago is not None else None,
            "estimated_delivery_at": None, "status": "delivered", "lines": lines}


def seed(e2e_app, slug: str) -> dict:
    """A store counting windows from delivery: #2001, placed 40 days ago, socks in two parcels
    (one delivered 38 days ago, one 10 days ago) and a jacket delivered 20 days ago; #2002,
    every parcel's window closed 5 days ago."""
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=slug, return_window_basis="delivery",
                               granted_scopes=["read_orders", "read_all_orders", "read_products"])
        make_user(account, role="admin", email=f"admin-{slug}@example.com")
        socks = make_line(title="Wool Socks", variant_title="One size", quantity=2, fulfilled_quantity=2)
        jacket = make_line(title="Rain Shell", variant_title="L / Olive")
        order = make_portal_order(account, [socks, jacket], name="#2001", email="pat@example.com", days_ago=40)
        order.fulfillments = [parcel(1, {str(socks.shopify_line_id): 1}, 39, 38),
                              parcel(3, {str(jacket.shopify_line_id): 1}, 22, 20),
                              parcel(2, {str(socks.shopify_line_id): 1}, 12, 10)]
        late = make_line(title="Trail Runner", variant_title="42 / Grey")
        closed = make_portal_order(account, [late], name="#2002", email="pat@example.com", days_ago=60)
        closed.fulfillments = [parcel(4, {str(late.shopify_line_id): 1}, 40, 35)]
        db.session.commit()
        db.session.remove()
    return {"slug": slug, "admin": f"admin-{slug}@example.com"}


def find_order(page, live_server, slug, number):
    page.goto(live_server.url(f"/r/{slug}"))
    page.get_by_label("Order number").fill(number)
    page.get_by_label("Email address").fill("pat@example.com")
    page.get_by_role("button", name="Find my order").click()


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_each_item_says_when_to_return_it_by(e2e_app, live_server, browser, viewport, js):
    name = f"window-{'phone' if viewport is PHONE else 'desktop'}-js-{'on' if js else 'off'}"
    facts = seed(e2e_app, name)
    page = fresh_page(browser, viewport, js)
    find_order(page, live_server, facts["slug"], "2001")
    socks = page.locator("section.line", has=page.get_by_text("Wool Socks"))
    expect(socks).to_contain_text("You can return 1 of 2.")
    expect(socks.locator(".return-by")).to_have_text(f"Return by {day(20)}")
    jacket = page.locator("section.line", has=page.get_by_text("Rain Shell"))
    expect(jacket.locator(".return-by")).to_have_text(f"Return by {day(10)}")
    all_controls_are_labelled(page)
    shot(page, f"{name}-items")

    find_order(page, live_server, facts["slug"], "2002")
    runner = page.locator("section.line", has=page.get_by_text("Trail Runner"))
    expect(runner).to_contain_text(f"The return window for this item closed on {day(-5)}.")
    shot(page, f"{name}-closed")


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_the_admin_chooses_what_the_window_counts_from(e2e_app, live_server, browser, viewport, js):
    name = f"window-settings-{'phone' if viewport is PHONE else 'desktop'}-js-{'on' if js else 'off'}"
    facts = seed(e2e_app, name)
    page = fresh_page(browser, viewport, js)
    log_in(page, live_server, facts["admin"])
    page.goto(live_server.url("/dashboard/settings"))
    basis = page.get_by_label("The return window counts from")
    expect(basis).to_have_value("delivery")
    basis.select_option("order")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash-success")).to_have_text("Settings saved.")
    expect(page.get_by_label("The return window counts from")).to_have_value("order")
    shot(page, f"{name}")

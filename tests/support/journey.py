"""Helpers for the return-action journey in a browser: an order that really exists in the sandbox
(so issuing makes real refunds, gift cards and exchange orders there), fresh browser pages, staff
login, screenshots at both sizes, and waiting for what background jobs change on a page."""
import re
import time

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Order
from app.services.orders import upsert_order
from app.services.shopify_access import client_for
from app.shopify.operations import fetch_order
from tests.factories import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shape_name(viewport: dict, js: bool) -> str:
    """A browser shape's name, as its test id and screenshots spell it ("phone-js-off")."""
    return f"{'phone' if viewport['width'] < 500 else 'desktop'}-js-{'on' if js else 'off'}"


# A phone and a desktop, each with JavaScript on and off (parameters viewport, js).
SHAPES = [pytest.param(viewport, js, id=shape_name(viewport, js))
          for viewport in (PHONE, DESKTOP) for js in (True, False)]


def sandbox_order(account, sandbox, variant_ids: list[int], email: str, days_ago: float = 3) -> Order:
    """An order placed, paid and shipped in the sandbox `days_ago` days ago (real time: the
    sandbox's virtual clock stands still in January, past the return window), stored here
    through the app's own client, as order intake would. Committed."""
    placed = sandbox.store.place_order(account.shop_domain, email=email, variant_ids=variant_ids, quantity=1,
                                       discount_code="", created_at=time.time() - days_ago * 86400)
    # The seeded mix also has authorised-only, voided and refunded orders: this one is plainly paid.
    placed.financial, placed.refunds, placed.cancelled_at = "PAID", [], None
    sandbox.store.update_order(account.shop_domain, placed.id, fulfill=True, emit=False)
    upsert_order(account.id, fetch_order(client_for(account), placed.id))
    db.session.commit()
    return db.session.query(Order).filter_by(account_id=account.id, shopify_order_id=placed.id).one()


def other_stocked_variant(sandbox, shop_domain: str, not_product: int):
    """An in-stock variant of another product that can be returned (not final sale)."""
    shop = sandbox.store.get_shop(shop_domain)
    for product in shop.products.values():
        if product.id == not_product or "final-sale" in product.tags:
            continue
        for variant_id in product.variants:
            if shop.variants[variant_id].inventory > 0:
                return shop.variants[variant_id]
    raise LookupError("no second product in the sandbox catalogue")


def new_page(browser, viewport=PHONE):
    """A page in its own browser context (its own cookies: a shopper, staff, the sandbox's user),
    with the htmx CDN failing at once as on a closed network (the pinned copy then loads)."""
    context = browser.new_context(viewport=viewport)
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))
    return context.new_page()


def fresh_page(browser, viewport, js: bool):
    """A page in its own context, JavaScript on or off, the htmx CDN failing at once (closed network)."""
    context = browser.new_context(viewport=viewport, java_script_enabled=js)
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))
    return context.new_page()


def log_in(page, server, email: str, password: str = PASSWORD) -> None:
    """Log in on the dashboard as that user through the login form, the browser suite's one way:
    ``server`` is the live server, or the base URL of an app served otherwise (the demo's). The
    dashboard must then show its Log out button."""
    base = server if isinstance(server, str) else server.url()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def shoot(screenshot, page, name: str) -> None:
    """The page as it is now, on a phone and on a desktop (back to the page's own size after)."""
    size = page.viewport_size
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        screenshot(f"{name}-{label}", target=page)
    page.set_viewport_size(size)


def reload_until(page, locator_of, timeout: float = 30.0) -> None:
    """Reload until `locator_of(page)` is visible: what a background job changes shows on the
    next load, as a person would see by refreshing (jobs run after the answer, or on a worker)."""
    deadline = time.monotonic() + timeout
    while True:
        if locator_of(page).count() and locator_of(page).first.is_visible():
            return
        if time.monotonic() > deadline:
            expect(locator_of(page).first).to_be_visible(timeout=1)  # fails with Playwright's message
        time.sleep(0.3)
        page.reload()


def all_controls_are_labelled(page, scope: str = "main") -> None:
    """Every visible form control in `scope` has an accessible name."""
    # Visibility is judged only once the stylesheets have applied: before that a control the CSS hides
    # (a line's details while its checkbox is clear) reads as visible but has no accessible name.
    page.wait_for_load_state("load")
    controls = page.locator(f"{scope} input:not([type=hidden]), {scope} select, {scope} textarea, {scope} button")
    for index in range(controls.count()):
        control = controls.nth(index)
        if control.is_visible():
            expect(control).to_have_accessible_name(re.compile(r"\w"))

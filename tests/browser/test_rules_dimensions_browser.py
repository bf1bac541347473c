"""The rule editor in Chromium with the product and customer dimensions: an admin adds one
condition of each, a slip keeps every row as entered beside its error, the saved rule reads as
sentences, and the dry run shows what each dimension saw. With JavaScript (rows redraw through
HTMX) and without (the "Update fields" button); phone and desktop."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account, Product
from tests.browser.test_rules_browser import settled, setup_account
from tests.factories import make_order, make_return
from tests.support.journey import log_in

VALUE = re.compile(r"^Values?$")  # "Values" for a list ("is any of", "is in")
CASES = [pytest.param({"width": 390, "height": 844}, True, id="phone-js"),
         pytest.param({"width": 1280, "height": 900}, True, id="desktop-js"),
         pytest.param({"width": 1280, "height": 900}, False, id="desktop-nojs")]
# (Looks at, Comparison, value) as the admin picks and types them.
CONDITIONS = [("Product", "is any of", "Trail Runner, Day Pack"), ("Product Type", "equal to", "Shoes"),
              ("Product Tag", "has tag", "final-sale"), ("Collection", "is in", "Summer Sale"),
              ("Item Price", "less than", "150"), ("Customer Returns (12 months)", "at least", "2.5"),
              ("Customer Returned Value (12 months)", "greater than", "30")]
SENTENCES = ["Product is any of Trail Runner, Day Pack", "Product Type equal to Shoes", "Product has tag final-sale",
             "Collection is in Summer Sale", "Item Price less than 150", "Customer Returns (12 months) at least 2",
             "Customer Returned Value (12 months) greater than 30"]


def seed_return(app, account_id):
    """A serial returner's return of a synced product: two earlier returns, a product in Summer Sale."""
    with app.app_context():
        account = db.session.get(Account, account_id)
        db.session.add(Product(account_id=account_id, shopify_product_id=555, title="Trail Runner",
                               product_type="Shoes", tags=["final-sale"], collections=["Summer Sale"]))
        for days in (20, 40):
            make_return(account, created_at=datetime.now(timezone.utc) - timedelta(days=days), customer_shopify_id=9)
        order = make_order(account, customer_shopify_id=9)
        order.lines[0].product_id = 555
        ret = make_return(account, order, ["Faulty"], customer_shopify_id=9)
        ret.items[0].product_id, ret.items[0].title = 555, "Trail Runner"
        db.session.commit()
        ret_id = ret.id
        db.session.remove()
    return ret_id


def pick(page, row, js, label, value):
    row.get_by_label(label).select_option(label=value)
    if js:
        settled(page)
    else:
        page.get_by_role("button", name="Update fields").click()


@pytest.mark.parametrize("viewport, js", CASES)
def test_each_new_condition_is_added_kept_on_error_and_traced(e2e_app, live_server, browser, screenshot, viewport, js):
    name = f"{'phone' if viewport['width'] < 500 else 'desktop'}-{'js' if js else 'nojs'}"
    email = f"dims-{name}@example.com"
    account_id = setup_account(e2e_app, email)
    ret_id = seed_return(e2e_app, account_id)
    page = browser.new_context(viewport=viewport, java_script_enabled=js).new_page()
    log_in(page, live_server, email)
    page.goto(live_server.url("/dashboard/rules/new"))
    page.get_by_label("Name").fill("Serial returners of sale shoes")
    rows = page.locator(".condition-row")
    for index, (dimension, operator, value) in enumerate(CONDITIONS):
        if index:
            page.get_by_role("button", name="Add condition").click()
            expect(rows).to_have_count(index + 1)
            if js:  # the new row is wired up once it has the focus
                expect(rows.nth(index).get_by_label("Looks at")).to_be_focused()
                settled(page)
        pick(page, rows.nth(index), js, "Looks at", dimension)
        pick(page, rows.nth(index), js, "Comparison", operator)
        rows.nth(index).get_by_label(VALUE).fill(value)
    expect(rows.nth(5).locator(".hint")).to_contain_text("a guest by email address")
    page.get_by_label("No Action", exact=True).check()
    page.get_by_role("button", name="Save rule").click()

    # The slip is named beside its row; every row keeps what was picked and typed.
    returns_row = rows.nth(5)
    expect(returns_row.get_by_text("A number of returns is a whole number, 0 or more.")).to_be_visible()
    expect(returns_row.get_by_label(VALUE)).to_have_attribute("aria-invalid", "true")
    for index, (dimension, operator, value) in enumerate(CONDITIONS):
        row = rows.nth(index)
        expect(row.get_by_label("Looks at").locator("option:checked")).to_have_text(dimension)
        expect(row.get_by_label("Comparison").locator("option:checked")).to_have_text(operator)
        expect(row.get_by_label(VALUE)).to_have_value(value)
    screenshot(f"rules-new-dimensions-error-{name}", target=page)

    returns_row.get_by_label(VALUE).fill("2")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Saved “Serial returners of sale shoes” (version 1).")).to_be_visible()
    for sentence in SENTENCES:
        expect(page.locator(".rule-item").first).to_contain_text(sentence)

    page.goto(live_server.url(f"/dashboard/rules/dry-run?return={ret_id}"))
    expect(page.get_by_text("Would be decided by rule “Serial returners of sale shoes” (version 1)")).to_be_visible()
    for seen in ("Collection is in summer sale (saw summer sale)", "Product Type equal to shoes (saw shoes)",
                 "Customer Returns (12 months) at least 2 (saw 2)",
                 "Customer Returned Value (12 months) greater than 30 (saw 40)", "Item Price less than 150 (saw 96)"):
        expect(page.get_by_text(seen)).to_be_visible()
    screenshot(f"rules-new-dimensions-dry-run-{name}", target=page)

"""The rules page in Chromium: the spec's three examples entered as the spec writes them, drag
to reorder (then a return proves the new order decides), the keyboard alternative, the editor's
errors and rows, the dry run; screenshots on a phone and a desktop."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Return
from app.services import rules as service
from tests.factories import make_account, make_order, make_return, make_user
from tests.support.journey import log_in
from tests.support.rules import BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION, FAULTY_REFUND

VIEWPORTS = [pytest.param({"width": 390, "height": 844}, id="phone"),
             pytest.param({"width": 1280, "height": 900}, id="desktop")]


def setup_account(app, email, rules=(), mode="rules"):
    with app.app_context():
        account = make_account(name="Acme Outdoor", option_mode=mode)
        make_user(account, email=email)
        db.session.commit()
        account_id = account.id
        for raw in rules:
            service.create_rule(account_id, raw)
        db.session.remove()
    return account_id


def settled(page):
    """Wait until no htmx request is in flight or settling (a redraw replaces its inputs, and
    new content is wired up when it settles)."""
    expect(page.locator(".htmx-request, .htmx-settling, .htmx-swapping")).to_have_count(0)


def decide_canadian_faulty_return(app, account_id):
    """A Canadian order with 60 % off returned as Faulty matches all three spec rules."""
    with app.app_context():
        from app.models import Account

        account = db.session.get(Account, account_id)
        order = make_order(account, shipping_country="CA", subtotal_price=Decimal("100"),
                           total_discounts=Decimal("150"), total_price=Decimal("100"))
        ret = make_return(account, order, ["Faulty"])
        db.session.commit()
        service.decide_return(ret.id)
        item = db.session.get(Return, ret.id).items[0]
        result = (item.resolution, item.decision_trace["rule_name"])
        db.session.remove()
    return result


def positions(app, account_id):
    with app.app_context():
        names = [r.name for r in service.rules_of(account_id)]
        db.session.remove()
    return names


def fill_condition(page, row, dimension, operator, value):
    """Choose a condition row's dimension and comparison (each redraws the row) and type its value."""
    row.get_by_label("Looks at").select_option(label=dimension)
    settled(page)
    row.get_by_label("Comparison").select_option(label=operator)
    settled(page)
    row.get_by_label("Value", exact=True).fill(value)


def enter_rule(page, name, dimension, operator, value, outcome):
    page.get_by_role("link", name="Add a rule").first.click()
    page.get_by_label("Name").fill(name)
    fill_condition(page, page, dimension, operator, value)
    page.get_by_label(outcome, exact=True).check()
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text(f"Saved “{name}” (version 1).")).to_be_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_spec_examples_entered_as_written(e2e_app, live_server, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    account_id = setup_account(e2e_app, f"rules-{size}@example.com")
    log_in(page, live_server, f"rules-{size}@example.com")
    page.get_by_role("link", name="Rules").click()
    expect(page.get_by_role("heading", name="No rules yet")).to_be_visible()
    screenshot(f"rules-empty-{size}")

    # The spec: Return Reason EQUAL TO Faulty → Refund; Order Discount Percent GREATER THAN 50 →
    # Credit note; Order Country EQUAL TO Canada → No Action.
    enter_rule(page, "Faulty items are refunded", "Order Return Reason", "equal to", "Faulty", "Refund")
    enter_rule(page, "Big discounts get a credit note", "Order Discount Percent", "greater than", "50", "Credit note")
    page.get_by_role("link", name="Add a rule").first.click()
    page.get_by_label("Name").fill("Canada: no automation")
    fill_condition(page, page, "Order Country", "equal to", "Canada")
    page.get_by_label("No Action", exact=True).check()
    screenshot(f"rules-editor-{size}")
    page.get_by_role("button", name="Save rule").click()

    items = page.locator(".rule-item")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("Order Return Reason equal to Faulty → Refund")
    expect(items.nth(1)).to_contain_text("Order Discount Percent greater than 50 → Credit note")
    expect(items.nth(2)).to_contain_text("Order Country equal to Canada → No Action")
    expect(items.nth(2).locator(".priority")).to_have_text("3")
    screenshot(f"rules-list-{size}")
    # Faulty is highest: a Canadian order with 60 % off returned as Faulty is refunded.
    assert decide_canadian_faulty_return(e2e_app, account_id) == ("DECIDED", "Faulty items are refunded")


def test_drag_to_reorder_then_the_new_order_decides(e2e_app, live_server, page, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    account_id = setup_account(e2e_app, "drag@example.com", (FAULTY_REFUND, BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION))
    log_in(page, live_server, "drag@example.com")
    page.goto(live_server.url("/dashboard/rules"))
    canada = page.locator(".rule-item", has_text="Canada: no automation")
    canada.locator(".drag-handle").drag_to(page.locator(".rule-item").first.locator(".drag-handle"))
    expect(page.locator("#rules-status")).to_have_text("New order saved.")
    settled(page)
    expect(page.locator(".rule-item").first).to_contain_text("Canada: no automation")
    expect(page.locator(".rule-item").first.locator(".priority")).to_have_text("1")
    screenshot("rules-after-drag-desktop")
    assert positions(e2e_app, account_id)[0] == "Canada: no automation"
    # The list is still draggable after the swap: drag Faulty back above Canada.
    faulty = page.locator(".rule-item", has_text="Faulty items are refunded")
    faulty.locator(".drag-handle").drag_to(page.locator(".rule-item").first.locator(".drag-handle"))
    expect(page.locator(".rule-item").first).to_contain_text("Faulty items are refunded")
    settled(page)
    page.reload()
    expect(page.locator(".rule-item").first).to_contain_text("Faulty items are refunded")
    # Put Canada first again and prove a return uses that order.
    page.locator(".rule-item", has_text="Canada").locator(".drag-handle").drag_to(
        page.locator(".rule-item").first.locator(".drag-handle"))
    expect(page.locator(".rule-item").first).to_contain_text("Canada: no automation")
    settled(page)
    assert positions(e2e_app, account_id) == ["Canada: no automation", "Faulty items are refunded",
                                              "Big discounts get a credit note"]
    assert decide_canadian_faulty_return(e2e_app, account_id) == ("NO_ACTION", "Canada: no automation")


def test_reorder_with_the_keyboard(e2e_app, live_server, page):
    account_id = setup_account(e2e_app, "keys@example.com", (FAULTY_REFUND, BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION))
    log_in(page, live_server, "keys@example.com")
    page.goto(live_server.url("/dashboard/rules"))
    move_up = page.get_by_role("button", name="Move up Canada: no automation")
    move_up.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".rule-item").nth(1)).to_contain_text("Canada: no automation")
    expect(page.get_by_role("button", name="Move up Canada: no automation")).to_be_focused()
    settled(page)
    page.keyboard.press("Enter")
    expect(page.locator(".rule-item").first).to_contain_text("Canada: no automation")
    # At the top "Move up" is disabled, so the keyboard lands on "Move down" instead.
    expect(page.get_by_role("button", name="Move down Canada: no automation")).to_be_focused()
    assert positions(e2e_app, account_id)[0] == "Canada: no automation"
    settled(page)
    page.keyboard.press("Enter")
    expect(page.locator(".rule-item").nth(1)).to_contain_text("Canada: no automation")
    assert positions(e2e_app, account_id)[1] == "Canada: no automation"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_editor_rows_errors_switches_and_dry_run(e2e_app, live_server, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    account_id = setup_account(e2e_app, f"edit-{size}@example.com", (FAULTY_REFUND, CANADA_NO_ACTION),
                               mode="customer_choice")
    log_in(page, live_server, f"edit-{size}@example.com")
    page.goto(live_server.url("/dashboard/rules"))
    expect(page.get_by_role("heading", name="Rules are not running: customer choice is on")).to_be_visible()
    screenshot(f"rules-customer-choice-{size}")

    page.get_by_role("link", name="Add a rule").first.click()
    expect(page.get_by_role("button", name="Update fields")).to_be_hidden()  # JavaScript redraws rows itself
    page.get_by_label("Name").fill("Mid-size orders")
    page.get_by_label("Looks at").select_option(label="Order Value")
    settled(page)
    page.get_by_label("Comparison").select_option(label="between")
    settled(page)
    page.get_by_label("From").fill("200")
    page.get_by_label("To", exact=True).fill("100")
    page.get_by_role("button", name="Add condition").click()
    rows = page.locator(".condition-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_label("Looks at")).to_be_focused()
    rows.nth(1).get_by_label("Looks at").select_option(label="Order Tag")
    settled(page)
    rows.nth(1).get_by_role("button", name="Remove condition 2").click()
    expect(rows).to_have_count(1)
    page.get_by_label("Credit note", exact=True).check()
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("The lowest value must not be above the highest.")).to_be_visible()
    expect(page.get_by_label("From")).to_have_attribute("aria-invalid", "true")
    screenshot(f"rules-editor-error-{size}")
    page.get_by_label("From").fill("100")
    page.get_by_label("To", exact=True).fill("200")
    page.get_by_role("button", name="Preview impact").click()
    expect(page.get_by_role("heading", name="If you save this")).to_be_visible()
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator(".rule-item")).to_have_count(3)

    # Switch one off (HTMX swaps the list), then delete it after confirming.
    page.get_by_role("button", name="Turn off Mid-size orders").click()
    expect(page.locator(".rule-item", has_text="Mid-size orders")).to_contain_text("Off")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Mid-size orders").click()
    expect(page.get_by_text("Deleted “Mid-size orders”.")).to_be_visible()
    assert positions(e2e_app, account_id) == ["Faulty items are refunded", "Canada: no automation"]

    with e2e_app.app_context():
        from app.models import Account

        make_order(db.session.get(Account, account_id), name="#2001", shipping_country="CA")
        db.session.commit()
        db.session.remove()
    page.get_by_role("link", name="Dry run").click()
    page.get_by_label("Order number").fill("2001")
    page.get_by_label("Return reason").fill("Too small")
    page.get_by_role("button", name="Try this order").click()
    expect(page.get_by_text("Would be decided by rule “Canada: no automation” (version 1): No Action")).to_be_visible()
    expect(page.get_by_text("Order Return Reason equal to faulty (saw too small)")).to_be_visible()
    screenshot(f"rules-dry-run-{size}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_warnings_and_impact_beside_the_rules(e2e_app, live_server, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    catch_all = {"name": "Everything gets a credit note", "outcome": "credit", "enabled": True, "conditions": []}
    account_id = setup_account(e2e_app, f"warn-{size}@example.com", (FAULTY_REFUND, catch_all, CANADA_NO_ACTION))
    decide_canadian_faulty_return(e2e_app, account_id)
    log_in(page, live_server, f"warn-{size}@example.com")
    page.goto(live_server.url("/dashboard/rules"))
    canada = page.locator(".rule-item", has_text="Canada: no automation")
    expect(canada.get_by_role("note")).to_contain_text(
        "This rule never runs: rule 2, “Everything gets a credit note”, is above it and has no conditions")
    expect(page.locator(".rule-item").first).to_contain_text("would catch 1 of 1 item in the last 1 return")
    screenshot(f"rules-warning-{size}")
    # Moving the catch-all to the bottom clears the warning.
    page.get_by_role("button", name="Move down Everything gets a credit note").click()
    settled(page)
    expect(page.get_by_role("note")).to_have_count(0)

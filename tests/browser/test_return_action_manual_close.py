"""The retailer's return action issues the customer's option in Shopify (the sandbox) exactly once,
through a Shopify return on the original order, seen as a newcomer sees it, in Chromium, page by
page, on a phone and a desktop.

Manual, credit note and exchange on a shop with new customer accounts: staff close the return
from the list ("Close selected"); the credit note is store credit, the exchange a Shopify
exchange line on the original order (no draft order); the returned units are restocked, the
exchanged variant's stock taken, and the Shopify return closed — on the staff return page, the
shopper's status page and the sandbox page.
"""
import re
from decimal import Decimal

from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from tests.support.issuing import issued_in_sandbox
from tests.support.journey import (PHONE, all_controls_are_labelled, log_in, new_page, other_stocked_variant,
                                   reload_until, sandbox_order, shoot)
from tests.support.portal import exchangeable_product
from tests.support.return_action import (EMAIL, column, find_order, only_shopify_return, sandbox_return_table,
                                         stock, store)
from tests.support.return_action import journey  # noqa: F401  (fixtures)


def test_manual_close_issues_store_credit_and_a_shopify_exchange_once(e2e_app, live_server, sandbox, journey, page,
                                                                      screenshot):
    facts = store(e2e_app, sandbox, "manual-close", customer_accounts="new", return_action="manual")
    with e2e_app.app_context():
        shoe = exchangeable_product(sandbox, facts["domain"])
        other = other_stocked_variant(sandbox, facts["domain"], shoe.id)
        order = sandbox_order(db.session.get(Account, facts["account_id"]), sandbox, [other.id, shoe.bought.id], EMAIL)
        number, order_name = order.name.lstrip("#"), order.name
        credit_line = next(line for line in order.lines if line.variant_id == other.id)
        credit_title, credit_value = credit_line.title, credit_line.discounted_unit_price
        db.session.remove()
    wanted = shoe.in_stock[0]
    before = {v: stock(sandbox, facts["domain"], v) for v in (other.id, shoe.bought.id, wanted.id)}

    # The shopper: a credit note for one item (offered as the store credit it will be), another
    # size of the other.
    page.set_viewport_size(PHONE)
    find_order(page, live_server, facts["slug"], number)
    credit = page.get_by_role("region", name=re.compile(re.escape(credit_title)))
    credit.get_by_label("Return this item").check()
    credit.get_by_label("Changed my mind").check()
    credit_option = credit.get_by_role("radio", name=re.compile("^Credit note"))
    expect(credit_option).to_have_accessible_name(
        f"Credit note Store credit worth {credit_value:.2f} USD per item, to spend at Acme Outdoor")
    credit_option.check()
    swap = page.get_by_role("region", name=re.compile(re.escape(shoe.title)))
    swap.get_by_label("Return this item").check()
    swap.get_by_label("Too small").check()
    swap.get_by_role("radio", name=re.compile("^Exchange")).check()
    variant = re.compile("^Size: " + re.escape(wanted.options[0]) + ", .*" + re.escape(wanted.options[-1]) + "$")
    swap.get_by_role("group", name="Exchange for").get_by_role("radio", name=variant).check()
    all_controls_are_labelled(page)
    shoot(screenshot, page, "manual-portal-items")
    page.get_by_role("button", name="Review my return").click()
    expect(page.get_by_text(re.compile("^Exchange for Size: "))).to_be_visible()
    shoot(screenshot, page, "manual-portal-review")
    page.get_by_role("button", name="Submit return").click()
    expect(page.get_by_role("heading", name="Your return is registered")).to_be_visible()
    rma = page.locator(".rma").inner_text()
    expect(page.get_by_text("When the shop has completed your return, you get what you chose: credit note for "
                            f"{credit_title}, exchange for {shoe.title}.")).to_be_visible()
    shoot(screenshot, page, "manual-portal-confirmation")
    page.get_by_role("link", name="See your return's status").click()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    expect(page.locator(".outcome")).to_have_count(0)
    status_url = page.url
    # In Shopify from submission: both units and the exchange line in one return, nothing processed.
    held = only_shopify_return(sandbox, facts["domain"], order_name, wait=30)
    assert [ln["processed"] for ln in held["lines"]] == [0, 0] and held["refunds"] == [], held
    assert [(x["variant_id"], x["quantity"], x["processed"]) for x in held["exchanges"]] == [(wanted.id, 1, 0)]

    # Staff close it from the returns list, with "Close selected", and read the result.
    staff = new_page(page.context.browser)
    log_in(staff, live_server, facts["staff"])
    staff.get_by_role("link", name="Returns", exact=True).click()
    staff.get_by_label(f"Select return {rma}").check()
    expect(staff.get_by_text("1 selected")).to_be_visible()
    all_controls_are_labelled(staff)
    shoot(screenshot, staff, "manual-staff-returns-selected")
    staff.get_by_role("button", name="Close selected").click()
    confirm = staff.locator("#confirm-action")
    for option in ("Credit note", "Exchange"):
        expect(confirm.get_by_role("table", name="What will be issued")).to_contain_text(option)
    shoot(screenshot, staff, "manual-staff-close-confirm")
    confirm.get_by_role("button", name=f"Close return {rma}").click()
    progress = staff.locator("#bulk-progress")
    expect(progress.get_by_text("1 of 1 handled")).to_be_visible(timeout=30_000)
    expect(progress.get_by_text("1 closed")).to_be_visible()
    expect(progress.get_by_role("listitem").filter(has=staff.get_by_role("link", name=rma))).to_contain_text("closed")
    shoot(screenshot, staff, "manual-staff-bulk-closed")

    # The return page: both items Issued — store credit, the exchange on the original order, the
    # returned units restocked — and its Shopify return closed.
    progress.get_by_role("link", name=rma).click()
    expect(staff.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_contain_text("Closed")
    in_shopify = lambda p: p.get_by_role("table", name=f"Shopify returns of return {rma}")  # noqa: E731
    reload_until(staff, lambda p: in_shopify(p).locator(".badge", has_text=re.compile("^Closed$")))
    held = only_shopify_return(sandbox, facts["domain"], order_name)
    assert len(held["refunds"]) == 1, held
    store_credit = Decimal(held["refunds"][0]["store_credit"])
    assert store_credit == Decimal(held["summary"]["store_credit_issued"]) == credit_value  # untaxed: what was paid
    items = staff.get_by_role("table", name=f"Items of return {rma}")
    credit_row = items.locator("tbody tr", has=staff.get_by_text(credit_title, exact=True))
    swap_row = items.locator("tbody tr", has=staff.get_by_text(shoe.title, exact=True))
    expect(items.locator("tbody .badge", has_text=re.compile("^Issued$"))).to_have_count(2)
    expect(credit_row).to_contain_text(f"Store credit: {store_credit:.2f} USD")
    expect(credit_row).to_contain_text("Units: restocked")
    expect(swap_row).to_contain_text(f"Exchange confirmed on the original order {order_name}")
    expect(swap_row).to_contain_text("Units: restocked")
    expect(in_shopify(staff)).to_contain_text(f"{order_name}-R1")
    expect(in_shopify(staff)).to_contain_text(f"1 × {credit_title}")
    expect(in_shopify(staff)).to_contain_text(f"1 × {shoe.title}")
    shoot(screenshot, staff, "manual-staff-return-issued")

    # The shopper's status page: the store credit and the exchange on their order.
    page.goto(status_url)
    expect(page.locator(".badge")).to_have_text("Closed")
    outcomes = page.locator(".outcome")
    expect(outcomes).to_have_count(2)
    expect(outcomes.filter(has_text="Store credit")).to_have_text(
        f"Store credit of {store_credit:.2f} USD added to your account")
    expect(outcomes.filter(has_text="Exchange")).to_have_text(f"Exchange confirmed on your order {order_name}")
    shoot(screenshot, page, "manual-portal-status-issued")

    # The sandbox: one Shopify return on the order, closed, both lines processed once and restocked,
    # the exchange line processed (an even swap: not held for payment), the credit as store credit
    # (no money to a card), no gift card, no draft order; stock moved by the return alone.
    assert held["status"] == "CLOSED"
    assert [(ln["processed"], [(d["type"], d["quantity"]) for d in ln["dispositions"]]) for ln in held["lines"]] \
        == [(1, [("RESTOCKED", 1)])] * 2, held
    assert [(x["variant_id"], x["quantity"], x["processed"], x["held"]) for x in held["exchanges"]] == [
        (wanted.id, 1, 1, False)]
    assert held["refunds"][0]["transaction_status"] is None and Decimal(held["refunds"][0]["amount"]) == store_credit
    assert held["summary"]["return_process_calls"] == 1
    issued = issued_in_sandbox(sandbox, facts["domain"])
    assert (issued["refunds"], issued["gift_cards"], issued["draft_orders"]) == (0, 0, 0), issued
    after = {v: stock(sandbox, facts["domain"], v) for v in before}
    assert after == {other.id: before[other.id] + 1, shoe.bought.id: before[shoe.bought.id] + 1,
                     wanted.id: before[wanted.id] - 1}
    sandbox_page = new_page(page.context.browser)
    shop, shopify_return = sandbox_return_table(sandbox_page, sandbox, facts["domain"], order_name)
    expect(shopify_return).to_have_accessible_name(re.compile("closed", re.I))
    expect(shopify_return.locator("tbody tr")).to_have_count(4)  # two lines, the exchange, the refund
    assert column(shopify_return, "Processed", 3) == ["1", "1", "1"]
    expect(shopify_return).to_contain_text(f"{store_credit:.2f} USD")
    expect(shopify_return.locator("tbody tr", has_text=re.compile("1 restocked", re.I))).to_have_count(2)
    expect(shop.get_by_role("table", name="Gift cards")).to_have_count(0)
    expect(shop.get_by_role("table", name="Draft orders and exchange orders")).to_have_count(0)
    shoot(screenshot, sandbox_page, "manual-sandbox-issued")

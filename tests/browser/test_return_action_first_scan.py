"""The retailer's return action issues the customer's option in Shopify (the sandbox) exactly once,
through a Shopify return on the original order, seen as a newcomer sees it, in Chromium, page by
page, on a phone and a desktop.

First scan, refund: the retailer picks First scan in Settings and gives the sandbox's fake
carrier the tracking webhook read on the Tracking page; a shopper returns an item for a refund
and adds the tracking number (the item is in a Shopify return from submission, nothing
processed); the carrier (the sandbox page's form) sends "label created" then "in transit": the
return is In transit, the Shopify return's line processed with Shopify's refund, the units
waiting for the parcel — on the staff return page, the shopper's status page and the sandbox
page. "In transit" again changes nothing; "delivered": the return is Received and the unit
restocked (a RESTOCKED disposition, stock +1), still one refund.
"""
import re
from decimal import Decimal

from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from tests.support.issuing import issued_in_sandbox
from tests.support.journey import (PHONE, all_controls_are_labelled, log_in, new_page, reload_until, sandbox_order,
                                   shoot)
from tests.support.portal import exchangeable_product
from tests.support.shopify_returns import sandbox_returns
from tests.support.return_action import (EMAIL, column, find_order, only_shopify_return, sandbox_return_table,
                                         send_tracking_event, stock, store)
from tests.support.return_action import journey  # noqa: F401  (fixtures)


def test_first_scan_refund_is_issued_once(e2e_app, live_server, sandbox, journey, page, screenshot):
    facts = store(e2e_app, sandbox, "first-scan", return_action="manual")
    with e2e_app.app_context():
        product = exchangeable_product(sandbox, facts["domain"])
        order = sandbox_order(db.session.get(Account, facts["account_id"]), sandbox, [product.bought.id], EMAIL)
        number, order_name = order.name.lstrip("#"), order.name
        variant_id, paid = order.lines[0].variant_id, order.lines[0].discounted_unit_price
        db.session.remove()
    stock_before = stock(sandbox, facts["domain"], variant_id)

    # The retailer: First scan in Settings, then the generic carrier webhook on the Tracking page.
    staff = new_page(page.context.browser)
    log_in(staff, live_server, facts["staff"])
    staff.goto(live_server.url("/dashboard/settings"))
    action = staff.get_by_role("group", name="When are the options issued in Shopify?")
    action.get_by_role("radio", name=re.compile("^First scan")).check()
    staff.get_by_role("button", name="Save settings").click()
    expect(staff.get_by_role("group", name="When are the options issued in Shopify?")
           .get_by_role("radio", name=re.compile("^First scan"))).to_be_checked()
    all_controls_are_labelled(staff)
    shoot(screenshot, staff, "action-settings-first-scan")
    staff.get_by_role("link", name="Tracking").click()
    staff.get_by_role("button", name="Connect Generic signed JSON").click()
    webhook = staff.get_by_label("Webhook URL for Generic signed JSON").input_value()
    secret = staff.get_by_label("Secret to give Generic signed JSON").input_value()
    assert webhook.startswith(live_server.url("/webhooks/tracking/generic/"))
    shoot(screenshot, staff, "action-tracking-connected")

    # The shopper, on a phone: one item back, for a refund; then the tracking number.
    page.set_viewport_size(PHONE)
    find_order(page, live_server, facts["slug"], number)
    item = page.get_by_role("region", name=re.compile(re.escape(product.title)))
    item.get_by_label("Return this item").check()
    item.get_by_label("Too small").check()
    item.get_by_role("radio", name=re.compile("^Refund")).check()
    all_controls_are_labelled(page)
    shoot(screenshot, page, "action-portal-items")
    page.get_by_role("button", name="Review my return").click()
    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    shoot(screenshot, page, "action-portal-review")
    page.get_by_role("button", name="Submit return").click()
    expect(page.get_by_role("heading", name="Your return is registered")).to_be_visible()
    rma = page.locator(".rma").inner_text()
    expect(page.get_by_text(f"As soon as the carrier has your parcel, you get what you chose: refund for "
                            f"{product.title}.")).to_be_visible()
    shoot(screenshot, page, "action-portal-confirmation")
    tracking = "SBX" + re.sub(r"\D", "", rma) + "01"  # letters and digits, as a label prints them
    page.get_by_label("Tracking number").fill(tracking)
    page.get_by_role("button", name="Add tracking number").click()
    expect(page.get_by_text(f"Tracking number {tracking} is saved.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    status_url = page.url
    all_controls_are_labelled(page)
    shoot(screenshot, page, "action-portal-status-open")

    # The carrier, on the sandbox page (the same sandbox the app talks to): the webhook the
    # retailer read on the Tracking page, then "label created": nothing moves, nothing is processed.
    # The unit is already in a Shopify return on the order, made when the shopper submitted.
    carrier = new_page(page.context.browser)
    send_tracking_event(carrier, sandbox, webhook, secret, tracking)
    sent = carrier.get_by_role("region", name="Send tracking event").locator("tbody tr")
    expect(sent.first).to_contain_text("label_created")
    expect(sent.first).to_contain_text("200")
    staff.goto(live_server.url("/dashboard/returns"))
    staff.get_by_role("link", name=rma).click()
    return_page = staff.url
    items = lambda p: p.get_by_role("table", name=f"Items of return {rma}")  # noqa: E731
    row = lambda p: items(p).locator("tbody tr", has=p.get_by_text(product.title))  # noqa: E731
    in_shopify = staff.get_by_role("table", name=f"Shopify returns of return {rma}")
    reload_until(staff, lambda p: p.get_by_role("table", name=f"Shopify returns of return {rma}")
                 .get_by_text(f"{order_name}-R1", exact=True))
    expect(staff.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_contain_text("Open")
    expect(staff.get_by_role("region", name="Tracking")).to_contain_text("label created")
    expect(row(staff).locator(".badge")).to_have_text("Decided, not issued yet")
    expect(in_shopify.locator(".badge")).to_have_text("Open")
    expect(in_shopify).to_contain_text(f"1 × {product.title}")
    shoot(screenshot, staff, "action-staff-return-open")
    held = only_shopify_return(sandbox, facts["domain"], order_name)
    assert (held["status"], [ln["processed"] for ln in held["lines"]], held["refunds"]) == ("OPEN", [0], []), held
    assert held["summary"]["return_process_calls"] == 0

    # "In transit" (the next step): the first scan.
    send_tracking_event(carrier, sandbox, webhook, secret, tracking)
    expect(sent.first).to_contain_text("in_transit")
    expect(sent.first).to_contain_text("200")
    shoot(screenshot, carrier, "action-sandbox-sent")

    # The staff return page: In transit, the item Issued with Shopify's refund, the unit waiting for
    # the parcel (under First scan it is restocked when the parcel arrives).
    reload_until(staff, lambda p: row(p).locator(".badge", has_text=re.compile("^Issued$")))
    held = only_shopify_return(sandbox, facts["domain"], order_name)
    assert len(held["refunds"]) == 1, held
    amount = Decimal(held["refunds"][0]["amount"])
    assert amount >= paid  # Shopify's suggested refund: what was paid for the line, tax in
    expect(staff.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_contain_text("In transit")
    expect(row(staff)).to_contain_text(f"Refund paid: {amount:.2f} USD")
    expect(row(staff)).to_contain_text("Units: waiting for the parcel")
    expect(in_shopify.locator(".badge")).to_have_text("Open")  # closed only when the return is
    shoot(screenshot, staff, "action-staff-return-issued")

    # The shopper's status page says so.
    page.goto(status_url)
    expect(page.locator(".outcome")).to_have_text(f"Refunded {amount:.2f} USD")
    expect(page.locator(".badge")).to_have_text("In transit")
    expect(page.get_by_role("button", name="Cancel this return")).to_have_count(0)
    shoot(screenshot, page, "action-portal-status-refunded")

    # The sandbox: the order's one Shopify return, its line processed, one refund paid, the unit
    # not disposed of yet (and so not back in stock).
    assert (held["status"], held["lines"][0]["processed"], held["lines"][0]["dispositions"]) == ("OPEN", 1, []), held
    assert held["refunds"][0]["transaction_status"] == "SUCCESS"
    assert held["summary"]["return_process_calls"] == 1
    assert sum(held["summary"]["dispositions"].values()) == 0
    assert stock(sandbox, facts["domain"], variant_id) == stock_before
    shop, shopify_return = sandbox_return_table(carrier, sandbox, facts["domain"], order_name)
    expect(shopify_return.locator("tbody tr")).to_have_count(2)  # the line, the refund
    assert column(shopify_return, "Processed", 1) == ["1"]
    expect(shopify_return).to_contain_text(f"{amount:.2f} USD")
    expect(shopify_return).not_to_contain_text(re.compile("restocked", re.I))
    shoot(screenshot, carrier, "action-sandbox-issued-refund")

    # "In transit" again (a carrier's resend): nothing changes, in Boomerang or in Shopify.
    before = sandbox_returns(sandbox, facts["domain"])
    send_tracking_event(carrier, sandbox, webhook, secret, tracking, "in transit")
    expect(sent.first).to_contain_text("in_transit")
    expect(sent.first).to_contain_text("200")
    staff.goto(return_page)
    expect(staff.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_contain_text("In transit")
    expect(row(staff)).to_contain_text("Units: waiting for the parcel")
    assert sandbox_returns(sandbox, facts["domain"]) == before

    # "Delivered": Received, the unit restocked at receipt; still one refund, one processing.
    send_tracking_event(carrier, sandbox, webhook, secret, tracking)
    expect(sent.first).to_contain_text("delivered")
    expect(sent.first).to_contain_text("200")
    staff.goto(return_page)
    reload_until(staff, lambda p: row(p).get_by_text("Units: restocked"))
    expect(staff.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_contain_text("Received")
    expect(row(staff).locator(".badge")).to_have_text("Issued")
    expect(row(staff)).to_contain_text(f"Refund paid: {amount:.2f} USD")
    shoot(screenshot, staff, "action-staff-return-received")
    held = only_shopify_return(sandbox, facts["domain"], order_name)
    assert [(d["type"], d["quantity"]) for d in held["lines"][0]["dispositions"]] == [("RESTOCKED", 1)], held
    assert [r["id"] for r in held["refunds"]] == [r["id"] for r in before["returns"][0]["refunds"]]
    assert (held["summary"]["return_refunds"], held["summary"]["return_process_calls"]) == (1, 1)
    assert held["status"] == "OPEN"  # Shopify's return is closed when Boomerang closes the return
    assert stock(sandbox, facts["domain"], variant_id) == stock_before + 1
    issued = issued_in_sandbox(sandbox, facts["domain"])
    assert (issued["refunds"], issued["gift_cards"], issued["draft_orders"]) == (0, 0, 0), issued  # nothing the old way
    shop, shopify_return = sandbox_return_table(carrier, sandbox, facts["domain"], order_name)
    expect(shopify_return).to_contain_text(re.compile("1 restocked", re.I))
    expect(shopify_return.locator("tbody tr")).to_have_count(2)
    shoot(screenshot, carrier, "action-sandbox-restocked")
    page.goto(status_url)
    expect(page.locator(".badge")).to_have_text("Received")
    expect(page.locator(".outcome")).to_have_text(f"Refunded {amount:.2f} USD")
    shoot(screenshot, page, "action-portal-status-received")

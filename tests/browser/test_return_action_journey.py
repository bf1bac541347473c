"""The retailer's return action issues the customer's option in Shopify (the sandbox) exactly once,
seen as a newcomer sees it, in Chromium, page by page, on a phone and a desktop:

1. First scan, refund: the retailer picks First scan in Settings and gives the sandbox's fake
   carrier the tracking webhook read on the Tracking page; a shopper returns an item for a refund
   and adds the tracking number; the carrier (the sandbox page's form) sends "label created" then
   "in transit": the return is In transit and the refund is issued — on the staff return page, the
   shopper's status page and the sandbox's "Issued by apps". "In transit" again and "delivered"
   issue nothing more; the return is Received and the item restocked.
2. Manual, credit note and exchange: staff close the return from the list ("Close selected"); the
   shopper's status page then shows the gift card code and the exchange order, and the sandbox
   holds one gift card and one completed draft order.
"""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from tests.factories import make_account, make_user
from tests.support.e2e import rq_thread_worker
from tests.support.issuing import issued_in_sandbox
from tests.support.journey import (PHONE, all_controls_are_labelled, log_in, new_page, other_stocked_variant,
                                   reload_until, sandbox_order, shoot)
from tests.support.portal import connect_to_sandbox, exchangeable_product

EMAIL = "pat@example.com"


@pytest.fixture
def journey(e2e_app, live_server, sandbox, monkeypatch):
    """The live app wired to the session's sandbox, as `make demo` wires them: webhook URLs shown
    on the Tracking page point at this live server (so a carrier can reach them), Shopify calls
    pace on the sandbox's virtual clock, and in the production shape an RQ worker thread runs the
    jobs. The sandbox page's carrier memory is emptied (the session's sandbox outlives tests and
    `store.reset()` leaves it alone), so the page shows one blank "Send tracking event" form."""
    monkeypatch.setitem(e2e_app.config, "PUBLIC_BASE_URL", live_server.url())
    monkeypatch.setitem(e2e_app.config, "SHOPIFY_CLOCK", sandbox.clock)
    sandbox.app.extensions.pop("sandbox_carrier", None)
    with rq_thread_worker(e2e_app, monkeypatch):
        yield


def store(e2e_app, sandbox, slug: str, **fields) -> dict:
    """Acme Outdoor, connected to a fresh sandbox shop, with an admin login."""
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=slug, option_mode="customer_choice",
                               primary_color="#0f766e", **fields)
        connect_to_sandbox(account, sandbox)
        make_user(account, role="admin", email=f"boss-{slug}@example.com")
        db.session.commit()
        facts = {"slug": slug, "domain": account.shop_domain, "staff": f"boss-{slug}@example.com",
                 "account_id": account.id}
        db.session.remove()
    return facts


def find_order(page, live_server, slug: str, number: str) -> None:
    """The portal's first page: order number and email."""
    page.goto(live_server.url(f"/r/{slug}"))
    page.get_by_label("Order number").fill(number)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_role("heading", name="Choose what to return")).to_be_visible()


def send_tracking_event(carrier, sandbox, webhook: str, secret: str, number: str, status: str = "next step") -> None:
    """On the sandbox page, as a person would: the "Send tracking event" form filled with the webhook
    URL and secret read on the dashboard's Tracking page, one click (the page then lists the send)."""
    carrier.goto(sandbox.url + "/")
    form = carrier.get_by_role("region", name="Send tracking event")
    form.get_by_label("Webhook URL").fill(webhook)
    form.get_by_label("Secret").fill(secret)
    form.get_by_label("Tracking number").fill(number)
    form.get_by_label("Status").select_option(label=status)
    all_controls_are_labelled(carrier)
    form.get_by_role("button", name="Send tracking event").click()
    expect(carrier.get_by_role("heading", name="Send tracking event")).to_be_visible()


def issued_counts(shop):
    """The counts line under a sandbox shop's "Issued by apps" heading."""
    return shop.get_by_role("heading", name="Issued by apps").locator("xpath=following-sibling::p[1]")


def test_first_scan_refund_is_issued_once(e2e_app, live_server, sandbox, journey, page, screenshot):
    facts = store(e2e_app, sandbox, "first-scan", return_action="manual")
    with e2e_app.app_context():
        product = exchangeable_product(sandbox, facts["domain"])
        order = sandbox_order(db.session.get(Account, facts["account_id"]), sandbox, [product.bought.id], EMAIL)
        number, variant_id, paid = order.name.lstrip("#"), order.lines[0].variant_id, order.lines[0].discounted_unit_price
        db.session.remove()
    stock_before = sandbox.store.get_shop(facts["domain"]).variants[variant_id].inventory

    # The retailer: First scan in Settings, then the generic carrier webhook on the Tracking page.
    staff = new_page(page.context.browser)
    log_in(staff, live_server, facts["staff"])
    staff.goto(live_server.url("/dashboard/settings"))
    action = staff.get_by_role("group", name="When are the options issued in Shopify?")
    action.get_by_role("radio", name=re.compile("^First scan")).check()
    staff.get_by_role("button", name="Save return action").click()
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
    tracking = f"SBX{rma[-5:]}01"
    page.get_by_label("Tracking number").fill(tracking)
    page.get_by_role("button", name="Add tracking number").click()
    expect(page.get_by_text(f"Tracking number {tracking} is saved.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    status_url = page.url
    all_controls_are_labelled(page)
    shoot(screenshot, page, "action-portal-status-open")

    # The carrier, on the sandbox page (the same sandbox the app talks to): the webhook the
    # retailer read on the Tracking page, then "label created": nothing moves, nothing is issued.
    carrier = new_page(page.context.browser)
    send_tracking_event(carrier, sandbox, webhook, secret, tracking)
    sent = carrier.get_by_role("region", name="Send tracking event").locator("tbody tr")
    expect(sent.first).to_contain_text("label_created")
    expect(sent.first).to_contain_text("200")
    staff.goto(live_server.url("/dashboard/returns"))
    staff.get_by_role("link", name=rma).click()
    expect(staff.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_contain_text("Open")
    expect(staff.get_by_role("region", name="Tracking")).to_contain_text("label created")
    assert issued_in_sandbox(sandbox, facts["domain"])["refunds"] == 0

    # "In transit" (the next step): the first scan.
    send_tracking_event(carrier, sandbox, webhook, secret, tracking)
    expect(sent.first).to_contain_text("in_transit")
    expect(sent.first).to_contain_text("200")
    shoot(screenshot, carrier, "action-sandbox-sent")

    # The staff return page: In transit, the item Issued with Shopify's refund amount.
    return_page = staff.url
    row = lambda p: p.locator("tbody tr", has=p.get_by_text(product.title))  # noqa: E731
    reload_until(staff, lambda p: row(p).locator(".badge", has_text=re.compile("^Issued$")))
    issued = issued_in_sandbox(sandbox, facts["domain"])
    assert issued["refunds"] == 1, issued
    amount = Decimal(issued["refund_list"][0]["amount"])
    assert amount >= paid  # Shopify's suggested refund: what was paid for the line, tax in
    expect(staff.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_contain_text("In transit")
    expect(row(staff)).to_contain_text(re.compile(rf"Refund \S+: {amount:.2f} USD"))
    expect(row(staff)).to_contain_text("Restock: when the return is received")
    shoot(screenshot, staff, "action-staff-return-issued")

    # The shopper's status page says so.
    page.goto(status_url)
    expect(page.locator(".outcome")).to_have_text(f"Refunded {amount:.2f} USD")
    expect(page.locator(".badge")).to_have_text("In transit")
    expect(page.get_by_role("button", name="Cancel this return")).to_have_count(0)
    shoot(screenshot, page, "action-portal-status-refunded")

    # The sandbox page: one refund in "Issued by apps", for the shopper's order.
    carrier.goto(sandbox.url + "/")
    shop = carrier.get_by_role("region", name=re.compile(re.escape(facts["domain"])))
    expect(issued_counts(shop)).to_contain_text("1 refund · 0 gift cards · 0 draft orders (0 completed)")
    expect(shop.get_by_role("table", name="Refunds").locator("tbody tr")).to_have_count(1)
    expect(shop.get_by_role("table", name="Refunds")).to_contain_text(f"{amount:.2f} USD")
    shoot(screenshot, carrier, "action-sandbox-issued-refund")

    # "In transit" again (a carrier's resend), then "delivered": still one refund; Received; restocked.
    send_tracking_event(carrier, sandbox, webhook, secret, tracking, "in transit")
    expect(sent.first).to_contain_text("in_transit")
    expect(sent.first).to_contain_text("200")
    send_tracking_event(carrier, sandbox, webhook, secret, tracking)
    expect(sent.first).to_contain_text("delivered")
    expect(sent.first).to_contain_text("200")
    staff.goto(return_page)
    reload_until(staff, lambda p: p.locator("tbody tr", has=p.get_by_text(product.title))
                 .get_by_text("Restock: done"))
    expect(staff.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_contain_text("Received")
    expect(row(staff).locator(".badge")).to_have_text("Issued")
    shoot(screenshot, staff, "action-staff-return-received")
    issued = issued_in_sandbox(sandbox, facts["domain"])
    assert (issued["refunds"], issued["gift_cards"], issued["draft_orders"]) == (1, 0, 0), issued
    assert sandbox.store.get_shop(facts["domain"]).variants[variant_id].inventory == stock_before + 1
    page.goto(status_url)
    expect(page.locator(".badge")).to_have_text("Received")
    expect(page.locator(".outcome")).to_have_text(f"Refunded {amount:.2f} USD")
    shoot(screenshot, page, "action-portal-status-received")


def test_manual_close_issues_a_credit_note_and_an_exchange_once(e2e_app, live_server, sandbox, journey, page,
                                                               screenshot):
    facts = store(e2e_app, sandbox, "manual-close", return_action="manual")
    with e2e_app.app_context():
        shoe = exchangeable_product(sandbox, facts["domain"])
        other = other_stocked_variant(sandbox, facts["domain"], shoe.id)
        order = sandbox_order(db.session.get(Account, facts["account_id"]), sandbox, [other.id, shoe.bought.id], EMAIL)
        number = order.name.lstrip("#")
        credit_title = next(line.title for line in order.lines if line.variant_id == other.id)
        db.session.remove()
    wanted = shoe.in_stock[0]

    # The shopper: a credit note for one item, another size of the other.
    page.set_viewport_size(PHONE)
    find_order(page, live_server, facts["slug"], number)
    credit = page.get_by_role("region", name=re.compile(re.escape(credit_title)))
    credit.get_by_label("Return this item").check()
    credit.get_by_label("Changed my mind").check()
    credit.get_by_role("radio", name=re.compile("^Credit note")).check()
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
    page.get_by_role("link", name="See your return's status").click()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    expect(page.locator(".outcome")).to_have_count(0)
    status_url = page.url
    assert issued_in_sandbox(sandbox, facts["domain"])["gift_cards"] == 0

    # Staff close it from the returns list, with "Close selected", and read the result.
    staff = new_page(page.context.browser)
    log_in(staff, live_server, facts["staff"])
    staff.get_by_role("link", name="Returns").click()
    staff.get_by_label(f"Select return {rma}").check()
    expect(staff.get_by_text("1 selected")).to_be_visible()
    all_controls_are_labelled(staff)
    shoot(screenshot, staff, "manual-staff-returns-selected")
    staff.get_by_role("button", name="Close selected").click()
    progress = staff.locator("#bulk-progress")
    expect(progress.get_by_text("1 of 1 handled")).to_be_visible(timeout=30_000)
    expect(progress.get_by_text("1 closed")).to_be_visible()
    expect(progress.get_by_role("listitem").filter(has=staff.get_by_role("link", name=rma))).to_contain_text("closed")
    shoot(screenshot, staff, "manual-staff-bulk-closed")

    # The return page: both items Issued, with the gift card's last characters and the exchange order.
    progress.get_by_role("link", name=rma).click()
    expect(staff.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_contain_text("Closed")
    issued_badges = lambda p: p.locator("tbody .badge", has_text=re.compile("^Issued$"))  # noqa: E731
    reload_until(staff, lambda p: issued_badges(p).nth(1))
    issued = issued_in_sandbox(sandbox, facts["domain"])
    assert (issued["refunds"], issued["gift_cards"], issued["draft_orders"], issued["completed_draft_orders"]) \
        == (0, 1, 1, 1), issued
    ending = issued["gift_card_list"][0]["last_characters"]
    exchange_order = issued["draft_order_list"][0]["order"]
    items = staff.get_by_role("table", name=f"Items of return {rma}")
    expect(items.locator("tr", has_text=credit_title)).to_contain_text(f"Gift card ending {ending}")
    expect(items.locator("tr", has_text=shoe.title)).to_contain_text(f"Exchange order {exchange_order}")
    shoot(screenshot, staff, "manual-staff-return-issued")

    # The shopper's status page: the gift card's code and the exchange order.
    page.goto(status_url)
    expect(page.locator(".badge")).to_have_text("Closed")
    outcomes = page.locator(".outcome")
    expect(outcomes).to_have_count(2)
    expect(outcomes.filter(has_text="Gift card")).to_have_text(
        re.compile(rf"^Gift card worth [\d.]+ USD: code \S+{re.escape(ending)} \(also sent by email\)$"))
    expect(outcomes.filter(has_text="Exchange")).to_have_text(f"Exchange order {exchange_order}")
    shoot(screenshot, page, "manual-portal-status-issued")

    # The sandbox page: one gift card and one completed draft order, and nothing else.
    sandbox_page = new_page(page.context.browser)
    sandbox_page.goto(sandbox.url + "/")
    shop = sandbox_page.get_by_role("region", name=re.compile(re.escape(facts["domain"])))
    expect(issued_counts(shop)).to_contain_text("0 refunds · 1 gift card · 1 draft order (1 completed)")
    expect(shop.get_by_role("table", name="Gift cards").locator("tbody tr")).to_have_count(1)
    drafts = shop.get_by_role("table", name="Draft orders and exchange orders").locator("tbody tr")
    expect(drafts).to_have_count(1)
    expect(drafts).to_contain_text("COMPLETED")
    expect(drafts).to_contain_text(exchange_order)
    shoot(screenshot, sandbox_page, "manual-sandbox-issued")

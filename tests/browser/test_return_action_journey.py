"""The retailer's return action issues the customer's option in Shopify (the sandbox) exactly once,
through a Shopify return on the original order, seen as a newcomer sees it, in Chromium, page by
page, on a phone and a desktop:

1. First scan, refund: the retailer picks First scan in Settings and gives the sandbox's fake
   carrier the tracking webhook read on the Tracking page; a shopper returns an item for a refund
   and adds the tracking number (the item is in a Shopify return from submission, nothing
   processed); the carrier (the sandbox page's form) sends "label created" then "in transit": the
   return is In transit, the Shopify return's line processed with Shopify's refund, the units
   waiting for the parcel — on the staff return page, the shopper's status page and the sandbox
   page. "In transit" again changes nothing; "delivered": the return is Received and the unit
   restocked (a RESTOCKED disposition, stock +1), still one refund.
2. Manual, credit note and exchange on a shop with new customer accounts: staff close the return
   from the list ("Close selected"); the credit note is store credit, the exchange a Shopify
   exchange line on the original order (no draft order); the returned units are restocked, the
   exchanged variant's stock taken, and the Shopify return closed — on the staff return page, the
   shopper's status page and the sandbox page.
"""
import re
import time
from decimal import Decimal

import pytest
import requests
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from tests.factories import make_account, make_user
from tests.support.e2e import rq_thread_worker
from tests.support.issuing import issued_in_sandbox
from tests.support.journey import (PHONE, all_controls_are_labelled, log_in, new_page, other_stocked_variant,
                                   reload_until, sandbox_order, shoot)
from tests.support.portal import connect_to_sandbox, exchangeable_product
from tests.support.shopify_returns import RETURNS_SCOPES, sandbox_returns

EMAIL = "pat@example.com"
ACCOUNTS_VERSION = {"new": "NEW_CUSTOMER_ACCOUNTS", "classic": "CLASSIC"}


@pytest.fixture
def journey(e2e_app, live_server, sandbox, monkeypatch):
    """The live app wired to the session's sandbox, as `make demo` wires them: webhook URLs shown
    on the Tracking page point at this live server (so a carrier can reach them), Shopify calls
    pace on the sandbox's virtual clock, and jobs run as they do there — in the embedded default on
    the app's background jobs thread, in the production shape on an RQ worker thread. (The test
    config runs in-process jobs when a response is closed, and werkzeug skips that close when the
    browser hangs up after reading a redirect: the Shopify return planned when the shopper submits
    would then never be made.) The sandbox page's carrier memory is emptied (the session's sandbox
    outlives tests and `store.reset()` leaves it alone), so the page shows one blank "Send
    tracking event" form."""
    monkeypatch.setitem(e2e_app.config, "PUBLIC_BASE_URL", live_server.url())
    monkeypatch.setitem(e2e_app.config, "SHOPIFY_CLOCK", sandbox.clock)
    sandbox.app.extensions.pop("sandbox_carrier", None)
    backend = e2e_app.extensions["jobs"]
    if getattr(backend, "runs_in_process", False):
        monkeypatch.setattr(backend, "use_thread", True)
    try:
        with rq_thread_worker(e2e_app, monkeypatch):
            yield
    finally:
        if getattr(backend, "runs_in_process", False):
            backend.wait_idle()  # nothing of this test still running when the next empties the database


def store(e2e_app, sandbox, slug: str, customer_accounts: str = "new", **fields) -> dict:
    """Acme Outdoor, connected to a fresh sandbox shop with the returns scopes, with an admin login.
    The shop's customer accounts (new: store credit; classic: gift cards) are set in the sandbox and
    recorded on the account as the connect check reads them."""
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=slug, option_mode="customer_choice",
                               primary_color="#0f766e", customer_accounts_version=ACCOUNTS_VERSION[customer_accounts],
                               **fields)
        connect_to_sandbox(account, sandbox, scopes=RETURNS_SCOPES)
        requests.patch(f"{sandbox.url}/_sandbox/shops/{account.shop_domain}",
                       json={"customer_accounts": customer_accounts}, timeout=5).raise_for_status()
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


def only_shopify_return(sandbox, domain: str, order_name: str, wait: float = 0) -> dict:
    """The shop's one Shopify return, checked to be on the shopper's order, with the counts (waiting
    up to ``wait`` seconds for it: a job makes it after the shopper submits)."""
    deadline = time.monotonic() + wait
    held = sandbox_returns(sandbox, domain)
    while not held["returns"] and time.monotonic() < deadline:
        time.sleep(0.2)
        held = sandbox_returns(sandbox, domain)
    assert len(held["returns"]) == 1, held
    assert held["returns"][0]["order"] == order_name and held["returns"][0]["name"] == f"{order_name}-R1", held
    return {**held["returns"][0], "summary": held["summary"]}


def stock(sandbox, domain: str, variant_id: int) -> int:
    """A variant's available units in the sandbox."""
    return sandbox.store.get_shop(domain).variants[variant_id].inventory


def sandbox_return_table(browser_page, sandbox, domain: str, order_name: str):
    """On the sandbox page, the shop's section and the table of the order's Shopify return (its
    caption starts with the return's name, "#1001-R1")."""
    browser_page.goto(sandbox.url + "/")
    shop = browser_page.get_by_role("region", name=re.compile(re.escape(domain)))
    expect(shop.get_by_role("table", name=re.compile(rf"^{re.escape(order_name)}-R\d"))).to_have_count(1)
    return shop, shop.get_by_role("table", name=re.compile(rf"^{re.escape(order_name)}-R1\b"))


def column(table, header: str, rows: int) -> list[str]:
    """The text under ``header`` in the table's first ``rows`` body rows (a Shopify return's lines
    and exchange lines come first, its refunds last)."""
    # Read from the markup, not the accessibility tree: on a phone the page may stack the rows and
    # hide the header row, and Chromium then drops the column header roles.
    headers = [text.strip() for text in table.locator("thead th").all_text_contents()]
    index = headers.index(header)
    body = table.locator("tbody tr")
    return [body.nth(n).locator("td").nth(index).inner_text().strip() for n in range(rows)]


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

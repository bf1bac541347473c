"""In Chromium, on a phone and a desktop, with JavaScript on and off: staff record a refund made
outside Shopify from the return page (a refusal shown in the form, then the record), with the
"In Shopify" card and the payment-only-authorised warning; an admin chooses how exchanges are sent
and who tells the customer in Settings. Screenshots of each step."""
import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account, ReturnItem, ShopifyCall, ShopifyReturn
from tests.factories import make_account, make_return, make_user
from tests.support.e2e import SCREENSHOTS
from tests.support.journey import PHONE, SHAPES, all_controls_are_labelled, fresh_page, log_in

AUTHORISED = "The payment for this order is only authorised, not captured"
def shot(page, name: str, element: str | None = None) -> None:
    """A full-page screenshot, and one of ``element`` alone when given."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if element:
        page.locator(element).screenshot(path=str(SCREENSHOTS / f"{name}-section.png"))


def a_failed_refund(e2e_app, slug: str) -> dict:
    """A received return on an order only authorised: one refund Shopify could not pay (processed in
    Shopify return #…-R1), one credit note issued as store credit."""
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=slug, return_action="manual")
        make_user(account, role="staff", email=f"staff-{slug}@example.com")
        ret = make_return(account, status="RECEIVED", items=[("refund", "FAILED"), ("credit", "ISSUED")],
                          days_ago=3, payment_status="authorized")
        refund, credit = ret.items
        refund.title, refund.variant_title, credit.title = "Trail Runner", "42 / Grey", "Merino Beanie"
        ref = ShopifyReturn(account_id=account.id, return_id=ret.id, shopify_order_id=ret.shopify_order_id, seq=1,
                            shopify_return_id=77, name=f"{ret.order_name}-R1", status="OPEN")
        db.session.add(ref)
        db.session.flush()
        process = ShopifyCall(shopify_return_ref_id=ref.id, phase="process", state="DONE",
                              variables={"input": {"returnLineItems": []}})
        db.session.add(process)
        db.session.flush()
        for item in ret.items:
            item.shopify_return_ref_id, item.process_call_id = ref.id, process.id
        refund.refund_state, refund.refund_error = "FAILED", "card_declined"
        refund.failure_reason = ("Shopify could not refund the payment (card_declined). The return is recorded in "
                                 "Shopify; record a refund made outside Shopify.")
        credit.credit_method, credit.issued_amount = "store_credit", Decimal("20.00")
        db.session.commit()
        facts = {"url": f"/dashboard/returns/{ret.id}", "rma": ret.rma_number, "order": ret.order_name,
                 "item_id": refund.id, "staff": f"staff-{slug}@example.com"}
        db.session.remove()
    return facts


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_staff_record_a_refund_made_outside_shopify(e2e_app, live_server, browser, viewport, js):
    name = f"issuing-return-{'phone' if viewport is PHONE else 'desktop'}-js-{'on' if js else 'off'}"
    facts = a_failed_refund(e2e_app, slug=name)
    page = fresh_page(browser, viewport, js)
    log_in(page, live_server, facts["staff"])
    page.goto(live_server.url(facts["url"]))

    expect(page.locator("#payment-warning")).to_contain_text(AUTHORISED)
    card = page.locator("#in-shopify")
    expect(card).to_contain_text(f"{facts['order']}-R1")
    expect(card).to_contain_text("Open")
    expect(card).to_contain_text("1 × Trail Runner (42 / Grey), 1 × Merino Beanie")
    row = page.locator("#items tbody tr", has=page.get_by_text("Trail Runner", exact=True))
    expect(row).to_contain_text("Refund failed at the payment provider (card_declined)")
    expect(page.locator("#items tbody tr", has=page.get_by_text("Merino Beanie"))).to_contain_text(
        "Store credit: 20.00 USD")
    form = page.locator(f"#outside-refund-{facts['item_id']}")
    expect(page.get_by_label("Amount refunded")).to_be_hidden()   # folded until opened
    shot(page, name)

    form.get_by_text("Record a refund made outside Shopify").click()
    expect(page.get_by_label("Amount refunded")).to_have_value("20.00")
    expect(page.get_by_label("Date paid")).to_have_value(datetime.now(timezone.utc).date().isoformat())
    all_controls_are_labelled(page)
    page.get_by_label("Amount refunded").fill("-24.50")
    page.get_by_label("How it was refunded").fill("Cash in the shop")
    page.get_by_role("button", name="Record refund").click()
    expect(form.locator(".error")).to_have_text("Enter the amount refunded, e.g. 24.50.")
    expect(page.get_by_label("Amount refunded")).to_be_visible()    # the form comes back open
    expect(page.get_by_label("Amount refunded")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("How it was refunded")).to_have_value("Cash in the shop")
    shot(page, f"{name}-refused", f"#outside-refund-{facts['item_id']}")

    page.get_by_label("Amount refunded").fill("24.50")
    page.get_by_role("button", name="Record refund").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Trail Runner: refund of 24.50 USD made outside Shopify recorded.")
    expect(row).to_contain_text(re.compile(r"Refunded outside Shopify: 24\.50 USD \(Cash in the shop\), paid \d+ \w+ "
                                           rf"\d{{4}}, recorded by {re.escape(facts['staff'])}"))
    expect(row.locator(".badge")).to_have_text("Issued")
    expect(form).to_have_count(0)
    shot(page, f"{name}-recorded")
    with e2e_app.app_context():
        item = db.session.get(ReturnItem, facts["item_id"])
        assert (item.refund_state, item.outside_refund_amount) == ("OUTSIDE", Decimal("24.50"))
        db.session.remove()

    # Closing asks first, and says the payment is only authorised; going back changes nothing.
    page.get_by_role("button", name="Close return").click()
    expect(page.locator("#confirm-action")).to_contain_text(AUTHORISED)
    page.get_by_role("link", name=f"Back to return {facts['rma']}").first.click()
    expect(page.get_by_role("heading", name=re.compile(facts["rma"]))).to_contain_text("Received")
    page.context.close()


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_an_admin_chooses_how_exchanges_go_and_who_tells_the_customer(e2e_app, live_server, browser, viewport, js):
    name = f"issuing-settings-{'phone' if viewport is PHONE else 'desktop'}-js-{'on' if js else 'off'}"
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=name, currency="EUR",
                               customer_accounts_version="CLASSIC",
                               gift_card_issue_limit=Decimal("500"))
        make_user(account, role="admin", email=f"boss-{name}@example.com")
        db.session.commit()
        account_id = account.id
        db.session.remove()
    page = fresh_page(browser, viewport, js)
    log_in(page, live_server, f"boss-{name}@example.com")
    page.goto(live_server.url("/dashboard/settings#issuing"))
    section = page.locator("#issuing")
    expect(section.locator("#credit-kind")).to_have_text(
        "Gift cards (store credit needs Shopify's new customer accounts; this shop uses classic accounts)")
    expect(section.locator("#gift-card-limit")).to_contain_text("500.00 EUR")
    expect(section).to_contain_text("A guest order (no customer) always gets a gift card")
    expect(page.get_by_label("Shopify exchanges on the original order")).to_be_checked()
    expect(page.get_by_label("Shopify tells the customer")).to_be_checked()
    expect(page.get_by_label(
        "Put returned items back into stock (refunds, credit notes and exchanges)")).to_be_visible()
    all_controls_are_labelled(page, "#issuing")
    shot(page, name, "#issuing")

    page.get_by_label("A separate $0 exchange order, for warehouses that only ship normal orders").check()
    page.get_by_label("Boomerang emails the customer").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash-success")).to_have_text("Settings saved.")
    expect(page.get_by_label(
        "A separate $0 exchange order, for warehouses that only ship normal orders")).to_be_checked()
    expect(page.get_by_label("Boomerang emails the customer")).to_be_checked()
    shot(page, f"{name}-saved", "#issuing")
    with e2e_app.app_context():
        saved = db.session.get(Account, account_id)
        assert (saved.exchange_mode, saved.issued_notice) == ("separate_order", "email")
        db.session.remove()
    page.context.close()

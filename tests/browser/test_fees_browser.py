"""Fees in a real browser: an admin sets them on the settings page (a mistake is refused beside its
field with everything typed kept); a shopper on a phone, JavaScript on and off, sees each fee and
the total after them before submitting, changes their mind, and the review follows the change."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account, Return
from tests.browser.test_portal_journey import find_order, seed
from tests.factories import make_account, make_user
from tests.support.journey import DESKTOP, PHONE, fresh_page, log_in


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_an_admin_sets_fees_and_a_mistake_keeps_what_was_typed(e2e_app, live_server, browser, screenshot, js):
    name = f"fees-admin-js-{'on' if js else 'off'}"
    with e2e_app.app_context():
        account = make_account(name="Acme Outfitters", slug=name)
        make_user(account, role="admin", email=f"boss-{name}@example.com")
        db.session.commit()
        account_id = account.id
        db.session.remove()
    page = fresh_page(browser, DESKTOP, js)
    log_in(page, live_server, f"boss-{name}@example.com")
    page.goto(live_server.url("/dashboard/settings#fees"))
    fees = page.get_by_label(re.compile("^Restocking fees"))
    fees.fill("Changed my mind: 10\nLost it: 5")
    page.get_by_label("Return shipping fee").fill("3.50")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("“Lost it” is not one of your return reasons.").first).to_be_visible()
    expect(page.get_by_label(re.compile("^Restocking fees"))).to_have_value("Changed my mind: 10\nLost it: 5")
    expect(page.get_by_label("Return shipping fee")).to_have_value("3.50")
    screenshot(f"settings-fees-refused-{name}", target=page)
    with e2e_app.app_context():
        assert db.session.get(Account, account_id).restocking_fees in (None, {})
        db.session.remove()
    page.get_by_label(re.compile("^Restocking fees")).fill("Changed my mind: 10")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.get_by_label(re.compile("^Restocking fees"))).to_have_value("Changed my mind: 10")
    expect(page.get_by_label("Return shipping fee")).to_have_value("3.50")
    expect(page.locator("#fees-apply")).to_contain_text("never from exchanges")
    screenshot(f"settings-fees-saved-{name}", target=page)
    with e2e_app.app_context():
        stored = db.session.get(Account, account_id)
        assert (stored.restocking_fees, stored.return_shipping_fee) == ({"Changed my mind": "10"}, Decimal("3.50"))
        db.session.remove()


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_a_shopper_sees_the_fees_before_submitting_and_a_change_of_reason_drops_one(
        e2e_app, live_server, sandbox, browser, screenshot, js):
    slug = f"fees-shopper-js-{'on' if js else 'off'}"
    seed(e2e_app, sandbox, slug)
    with e2e_app.app_context():
        account = db.session.scalar(db.select(Account).where(Account.slug == slug))
        account.restocking_fees, account.return_shipping_fee = {"Changed my mind": "10"}, Decimal("3.50")
        db.session.commit()
        db.session.remove()
    page = fresh_page(browser, PHONE, js)
    find_order(page, live_server, slug)
    socks = page.get_by_role("region", name=re.compile("Wool Socks"))
    socks.get_by_label("Return this item").check()
    socks.get_by_label("How many").select_option("2")
    socks.get_by_label("Changed my mind").check()
    socks.get_by_role("radio", name=re.compile("^Refund")).check()
    page.get_by_role("button", name=re.compile("^Review")).click()
    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    expect(page.locator(".restocking-fee")).to_have_text("−1.92 USD")     # 10% of 2 × 9.60
    expect(page.locator(".shipping-fee")).to_have_text("−3.50 USD")
    expect(page.locator(".total")).to_contain_text("13.78 USD")           # 19.20 − 1.92 − 3.50
    screenshot(f"portal-review-fees-{slug}", target=page)

    # A change of mind: the reason becomes Faulty, which carries no restocking fee.
    page.get_by_role("button", name="Change my choices").click()
    socks = page.get_by_role("region", name=re.compile("Wool Socks"))
    expect(socks.get_by_label("Changed my mind")).to_be_checked()
    socks.get_by_label("Faulty").check()
    page.get_by_role("button", name=re.compile("^Review")).click()
    expect(page.locator(".restocking-fee")).to_have_count(0)
    expect(page.locator(".total")).to_contain_text("15.70 USD")           # 19.20 − 3.50
    page.get_by_role("button", name="Submit return").click()
    expect(page.get_by_text(re.compile(r"R-\d+")).first).to_be_visible()
    screenshot(f"portal-submitted-fees-{slug}", target=page)
    with e2e_app.app_context():
        ret = db.session.scalar(db.select(Return).join(Account).where(Account.slug == slug))
        assert ret.return_shipping_fee == Decimal("3.50")
        assert [i.restocking_fee_percentage for i in ret.items] == [None]
        db.session.remove()


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_a_shopper_sees_the_bonus_beside_the_credit_note_and_on_the_review(e2e_app, live_server, sandbox, browser,
                                                                           screenshot, js):
    slug = f"bonus-shopper-js-{'on' if js else 'off'}"
    seed(e2e_app, sandbox, slug)
    with e2e_app.app_context():
        account = db.session.scalar(db.select(Account).where(Account.slug == slug))
        account.credit_bonus = "10%"
        db.session.commit()
        db.session.remove()
    page = fresh_page(browser, PHONE, js)
    find_order(page, live_server, slug)
    socks = page.get_by_role("region", name=re.compile("Wool Socks"))
    socks.get_by_label("Return this item").check()
    expect(socks.locator(".bonus-offer")).to_have_count(1)
    expect(socks.locator(".bonus-offer")).to_contain_text("0.96 USD bonus per item (10% extra, as a gift card)")
    screenshot(f"portal-items-bonus-{slug}", target=page)
    socks.get_by_label("Faulty").check()
    socks.get_by_role("radio", name=re.compile("^Credit note")).check()
    page.get_by_role("button", name=re.compile("^Review")).click()
    expect(page.locator(".bonus-amount")).to_contain_text("+0.96 USD")
    screenshot(f"portal-review-bonus-{slug}", target=page)
    page.go_back()
    socks = page.get_by_role("region", name=re.compile("Wool Socks"))
    expect(socks.get_by_role("radio", name=re.compile("^Credit note"))).to_be_checked()

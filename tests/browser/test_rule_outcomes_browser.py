"""Keep item and Exchange only rules in Chromium: the shopper on a phone (JavaScript on and off)
sees the socks they may keep — only the shop's refund, and no need to send them back — and the
shoe they may only exchange; after submitting, the confirmation and the status page say to keep
the item, with no tracking form, packing slip or return address."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from app.services.rules import create_rule
from tests.browser.test_portal_choices import JS, choose_item, shopper  # noqa: F401  (the fixture)
from tests.browser.test_portal_journey import find_order, seed
from tests.support.journey import all_controls_are_labelled, shoot

KEEP = "Keep the item: no need to send it back"


def with_rules(e2e_app, sandbox, slug: str) -> dict:
    """The portal journey's shop, with socks (9.60) kept for a refund and the shoe (74.25) exchange only."""
    facts = seed(e2e_app, sandbox, slug)
    with e2e_app.app_context():
        account = db.session.scalar(db.select(Account).where(Account.slug == slug))
        create_rule(account.id, {"name": "Cheap: keep it", "outcome": "keep_refund", "enabled": True, "conditions": [
            {"dimension": "item_price", "operator": "lt", "value": "10"}]})
        create_rule(account.id, {"name": "Shoes: exchange", "outcome": "exchange_only", "enabled": True,
                                 "conditions": [{"dimension": "item_price", "operator": "gt", "value": "50"}]})
        db.session.remove()
    return facts


@pytest.mark.parametrize("js", JS)
def test_the_shopper_keeps_the_socks_and_may_only_exchange_the_shoe(e2e_app, live_server, sandbox, shopper,
                                                                    screenshot, js):
    facts = with_rules(e2e_app, sandbox, f"keep-{js:d}")
    phone = shopper(js)
    find_order(phone, live_server, facts["slug"])
    shoe = phone.get_by_role("region", name=re.compile(facts["product"]))
    socks = phone.get_by_role("region", name=re.compile("Wool Socks"))
    shoe.get_by_label("Return this item").check()
    expect(shoe.get_by_role("radio", name=re.compile("^Exchange"))).to_have_count(1)
    expect(shoe.get_by_role("radio", name=re.compile("^(Refund|Credit note)"))).to_have_count(0)
    expect(shoe.get_by_text("This item can be exchanged for another size or colour")).to_be_visible()
    shoe.get_by_label("Return this item").uncheck()
    choose_item(socks, "Faulty", how_many="2")
    expect(socks.get_by_text(KEEP)).to_be_visible()
    expect(socks.get_by_role("radio", name=re.compile("^Refund"))).to_be_checked()
    expect(socks.get_by_role("radio", name=re.compile("^(Exchange|Credit note)"))).to_have_count(0)
    all_controls_are_labelled(phone)
    shoot(screenshot, phone, f"rule-outcomes-items-{'js' if js else 'no-js'}")

    phone.get_by_role("button", name="Review my return").click()
    expect(phone.get_by_text(KEEP)).to_be_visible()
    phone.get_by_role("button", name="Submit return").click()
    expect(phone.get_by_role("heading", name=KEEP)).to_be_visible()
    expect(phone.get_by_label("Tracking number")).to_have_count(0)
    expect(phone.get_by_role("link", name="Print the packing slip")).to_have_count(0)
    shoot(screenshot, phone, f"rule-outcomes-confirmed-{'js' if js else 'no-js'}")
    phone.get_by_role("link", name="See your return's status").click()
    expect(phone.get_by_role("heading", name=KEEP)).to_be_visible()
    expect(phone.get_by_label("Tracking number")).to_have_count(0)
    expect(phone.get_by_role("button", name="Cancel this return")).to_have_count(0)
    shoot(screenshot, phone, f"rule-outcomes-status-{'js' if js else 'no-js'}")

"""The shopper's status page in Chromium, on a phone and a desktop, JavaScript on and off: a gift
card code in full on the first view and by its last characters after, no page kept in a cache,
and an expired link that leads back through the order lookup to a fresh one."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.crypto import encrypt_secret
from app.extensions import db
from app.portal import session as portal
from app.services.return_submission import Selection, create_return
from tests.factories import make_account
from tests.support.journey import SHAPES, shape_name
from tests.support.portal import make_line, make_portal_order

CODE = "GIFT-7Q2K-PLUM-X7QK"


def seed(e2e_app, slug) -> dict:
    """A closed return credited with a gift card (a link made today), and an open return started
    200 days ago whose link is as old."""
    now = datetime.now(timezone.utc)
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outfitters", slug=slug, return_reasons=["Faulty"], exchange_enabled=False)
        card_order = make_portal_order(account, [make_line(title="Trail Jacket", variant_title="M / Blue")],
                                       name="#1042", email="sam.shopper@example.com")
        old_order = make_portal_order(account, [make_line(title="Wool Socks")], name="#1043",
                                      email="pat@example.com")
        db.session.commit()
        card, _ = create_return(account, card_order.id,
                                [Selection(card_order.lines[0].id, 1, "Faulty", None, "credit")],
                                f"{slug}-card")
        card.status, card.processed_at, card.closed_at = "CLOSED", now, now
        item = card.items[0]
        item.resolution, item.credit_method, item.issued_amount = "ISSUED", "gift_card", Decimal("89.00")
        item.gift_card_code_encrypted, item.gift_card_last_characters = encrypt_secret(CODE), "X7QK"
        old, _ = create_return(account, old_order.id, [Selection(old_order.lines[0].id, 1, "Faulty", None, "refund")],
                               f"{slug}-old")
        old.created_at = now - timedelta(days=200)
        db.session.commit()
        today = (now - portal._EPOCH).days
        facts = {"slug": slug, "card": portal.status_token(card), "card_rma": card.rma_number,
                 "old_rma": old.rma_number,
                 "old": portal._serializer().dumps([account.id, old.id, today - 200])}
        db.session.remove()
    return facts


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_the_code_is_shown_once_and_an_expired_link_leads_to_a_fresh_one(e2e_app, live_server, browser, screenshot,
                                                                        viewport, js):
    name = shape_name(viewport, js)
    facts = seed(e2e_app, f"privacy-{name}")
    page = browser.new_context(viewport=viewport, java_script_enabled=js).new_page()
    status_url = live_server.url(f"/r/{facts['slug']}/returns/{facts['card']}")

    first = page.goto(status_url)
    assert first.headers["cache-control"] == "no-store" and first.headers["referrer-policy"] == "same-origin"
    outcome = page.locator(".status-item .outcome")
    expect(outcome).to_have_text(f"Gift card worth 89.00 USD: code {CODE} (shown here this once; also sent by email)")
    screenshot(f"status-code-first-view-{name}", target=page)

    page.reload()
    expect(outcome).to_have_text("Gift card worth 89.00 USD: code ending X7QK. "
                                 "The full code was sent by email to s…@example.com.")
    expect(page.get_by_text(CODE)).to_have_count(0)
    screenshot(f"status-code-masked-{name}", target=page)

    expired = page.goto(live_server.url(f"/r/{facts['slug']}/returns/{facts['old']}"))
    assert expired.status == 410 and expired.headers["cache-control"] == "no-store"
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    expect(page.get_by_text(facts["old_rma"])).to_have_count(0)
    screenshot(f"status-link-expired-{name}", target=page)

    page.get_by_label("Order number").fill("1043")
    page.get_by_label("Email").fill("pat@example.com")
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_text(facts["old_rma"]).first).to_be_visible()  # a fresh link, straight to the return
    assert "/returns/" in page.url and facts["old"] not in page.url
    screenshot(f"status-after-lookup-{name}", target=page)

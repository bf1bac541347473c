"""The retailer's side of the portal in Chromium: returns list and page, Outbox, return settings."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services.return_submission import Selection, create_return
from app.services.rules import create_rule
from app.portal.status import compose_confirmation
from tests.factories import make_account, make_user
from tests.support.journey import log_in
from tests.support.portal import make_line, make_portal_order


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}],
                         ids=["phone", "desktop"])
def test_returns_outbox_and_settings(e2e_app, live_server, page, screenshot, viewport):
    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outdoor", slug=f"dash-{size}")
        make_user(account, role="admin", email=f"boss-{size}@example.com")
        order = make_portal_order(account, [make_line(title="Trail Runner", variant_title="42 / Grey",
                                                      discounted_unit_price=Decimal("96.00"))],
                                  name="#1042", email="pat@example.com")
        db.session.commit()
        ret, _ = create_return(account, order.id,
                               [Selection(order.lines[0].id, 1, "Faulty", "Sole came off", "refund")],
                               "browser-token",
                               compose_email=lambda r: compose_confirmation(account, r, "http://x/status"))
        rma = ret.rma_number
        # Rules mode (switched on below) needs a rule that can decide something.
        create_rule(account.id, {"name": "Faulty", "outcome": "refund", "enabled": True,
                                 "conditions": [{"dimension": "return_reason", "operator": "is", "value": "Faulty"}]})
        db.session.remove()
    log_in(page, live_server, f"boss-{size}@example.com")

    page.goto(live_server.url("/dashboard/returns"))
    page.get_by_label("RMA, order number or email").fill("1042")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=rma)).to_be_visible()
    screenshot(f"dashboard-returns-{size}")
    page.get_by_role("link", name=rma).click()
    expect(page.get_by_role("heading", name=re.compile(f"Return {rma}"))).to_be_visible()
    expect(page.get_by_text("Customer note: “Sole came off”")).to_be_visible()
    screenshot(f"dashboard-return-{size}")

    page.goto(live_server.url("/dashboard/outbox"))
    page.get_by_text(f"Your return {rma} for order #1042", exact=True).click()
    expect(page.get_by_text("What happens next:")).to_be_visible()
    screenshot(f"dashboard-outbox-{size}")

    page.goto(live_server.url("/dashboard/settings"))
    page.get_by_label("My rules, automatically").check()
    page.get_by_label("Return reasons (one per line, shown in this order)").fill("Faulty\nfaulty")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#return_reasons-error")).to_have_text("“faulty” is listed twice.")
    page.get_by_label("Return reasons (one per line, shown in this order)").fill("Faulty\nToo small\nWrong colour")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.get_by_label("My rules, automatically")).to_be_checked()
    expect(page.get_by_label("Products that cannot be returned (product tags, one per line)")).to_have_value(
        "final-sale")
    screenshot(f"dashboard-settings-{size}")

"""Analytics in Chromium, on a phone and a desktop, JavaScript on and off: staff open the page from
the dashboard's menu, read the charts and their tables, change the range (a mistake first), and
follow a figure down to the returns list filtered to the returns behind it."""
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.domain.order_data import OrderData, OrderLineData
from app.extensions import db
from app.services.orders import upsert_order
from tests.factories import make_account, make_return, make_user
from tests.support.journey import DESKTOP, PHONE, fresh_page, log_in, shape_name, shoot

STAFF = "staff@analytics.example.com"


def _order(n: int, days_ago: int, quantity: int) -> OrderData:
    created = datetime.now(timezone.utc) - timedelta(days=days_ago)
    line = OrderLineData(line_id=n, product_id=501, variant_id=5011, title="Trail Runner", variant_title="42",
                         sku=None, quantity=quantity, unit_price=Decimal("80.00"), discounted_total=Decimal("80.00"),
                         discounted_unit_value=Decimal("80.00"))
    return OrderData(shopify_order_id=70_000 + n, name=f"#{n}", email=f"b{n}@example.com", created_at=created,
                     updated_at=created, currency="USD", total_price=Decimal("80"), subtotal_price=Decimal("80"),
                     total_discounts=Decimal("0"), lines=(line,))


@pytest.fixture
def store(e2e_app):
    """40 units sold over the last weeks, and four returns: two for "Faulty" (one whose exchange
    failed), one "Too small", one refunded in two days."""
    with e2e_app.test_request_context():
        account = make_account(name="Analytics Outdoor", return_action="manual")
        make_user(account, role="staff", email=STAFF)
        for n, days_ago in enumerate((2, 5, 9, 14, 20)):
            upsert_order(account.id, _order(n, days_ago, 8))
        specs = [("Faulty", [("exchange", "FAILED")], 3), ("Faulty", [("refund", "ISSUED")], 6),
                 ("Too small", [("credit", "ISSUED")], 10), ("Too big", [("refund", "DECIDED")], 12)]
        rmas = {}
        for reason, items, days_ago in specs:
            ret = make_return(account, status="RECEIVED", items=items, days_ago=days_ago)
            for item in ret.items:
                item.reason, item.product_id, item.variant_id = reason, 501, 5011
                item.title, item.variant_title = "Trail Runner", "42"
                if item.resolution == "ISSUED":
                    item.issued_at = ret.created_at + timedelta(hours=47, minutes=30)
            rmas.setdefault(reason, []).append(ret.rma_number)
        db.session.commit()
        db.session.remove()
    return rmas


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_staff_read_the_charts_and_follow_one_to_the_returns(live_server, browser, screenshot, store, viewport, js):
    shape = shape_name(viewport, js)
    page = fresh_page(browser, viewport, js)
    log_in(page, live_server, STAFF)
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    # 4 units returned of 40 sold.
    expect(page.locator('[data-figure="rate"]')).to_have_text("10.0%")
    expect(page.locator('[data-figure="failed"]')).to_have_text("1")
    expect(page.locator('[data-figure="median"]')).to_have_text("47–48 hours")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(6)
    for index in range(6):
        expect(charts.nth(index)).to_be_visible()
    expect(page.locator("svg.chart title").first).to_have_text("Return rate per week")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "scrolls sideways"
    shoot(screenshot, page, f"analytics-{shape}")

    # A mistake: the end before the start; the page says so and keeps both dates.
    page.get_by_label("From", exact=True).fill("2026-05-02")
    page.get_by_label("To", exact=True).fill("2026-05-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Choose a date on or after the first one.")).to_be_visible()
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-05-02")
    expect(page.locator("svg.chart")).to_have_count(0)
    shoot(screenshot, page, f"analytics-error-{shape}")
    # Changing one's mind: a preset instead.
    page.get_by_role("link", name="Last 30 days").click()
    expect(page.get_by_role("link", name="Last 30 days")).to_have_attribute("aria-current", "true")
    expect(page.locator('[data-figure="returned"]')).to_have_text("4")

    # The reasons' table: "Faulty" leads to its two returns.
    reasons = page.get_by_role("region", name="Reasons")
    reasons.get_by_text("Figures per reason").click()
    faulty_row = reasons.get_by_role("row", name=re.compile("^Faulty"))
    expect(faulty_row.get_by_role("cell").nth(1)).to_have_text("2")
    faulty_row.get_by_role("link", name="Faulty").click()
    expect(page).to_have_url(re.compile(r"/dashboard/returns\?.*reason=Faulty"))
    expect(page.get_by_label("Reason")).to_have_value("Faulty")
    listed = page.locator("tbody tr")
    expect(listed).to_have_count(2)
    for rma in store["Faulty"]:
        expect(page.get_by_role("link", name=rma)).to_be_visible()
    shoot(screenshot, page, f"analytics-drilldown-{shape}")

    # Back on the analytics page, a bar of the chart leads to the failed return.
    page.go_back()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    page.locator('a.stat[href*="issue=FAILED"]').click()
    expect(page.get_by_label("Issue state")).to_have_value("FAILED")
    expect(listed).to_have_count(1)
    expect(page.get_by_role("link", name=store["Faulty"][0])).to_be_visible()

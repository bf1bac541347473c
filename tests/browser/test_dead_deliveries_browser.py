"""The Dead deliveries page in Chromium, phone and desktop, JavaScript on and off: reached from
the overview, one delivery retried, then all; staff are refused. Screenshots of each step."""
import json
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import make_account, make_delivery, make_user
from tests.fixture_files import shopify_json
from tests.support.e2e import rq_thread_worker
from tests.support.journey import log_in

ORDER = shopify_json("webhook_orders_create_docs_2026-04.metadata.json")["response"]
HOSTILE_ERROR = ("ShopifyDataError: unexpected order shape (TypeError: '<' not supported) "
                 + "<b>not bold</b> \ufffd " + "x" * 700)


@pytest.fixture
def job_worker(e2e_app, monkeypatch):
    """An RQ worker thread in the production shape (nothing in the embedded default)."""
    with rq_thread_worker(e2e_app, monkeypatch):
        yield


def dead(account, order_id: int, error: str | None, minute: int) -> None:
    body = dict(ORDER, id=order_id, admin_graphql_api_id=f"gid://shopify/Order/{order_id}")
    make_delivery(account, event_id=f"e-{order_id}", body=json.dumps(body), attempts=5, last_error=error,
                  received_at=datetime(2026, 11, 20, 9, minute, tzinfo=timezone.utc))


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 800}],
                         ids=["phone", "desktop"])
def test_admins_retry_dead_deliveries_and_staff_are_refused(e2e_app, live_server, job_worker, browser, screenshot,
                                                           viewport, js):
    size = "phone" if viewport["width"] < 500 else "desktop"
    name = f"dead-deliveries-{size}-{'js' if js else 'nojs'}"
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outdoor", slug=name, shop_domain=f"{name}.myshopify.com",
                               connected_at=datetime.now(timezone.utc))
        make_user(account, role="admin", email=f"admin-{name}@example.com")
        make_user(account, role="staff", email=f"staff-{name}@example.com")
        db.session.flush()
        dead(account, 101, HOSTILE_ERROR, 10)
        dead(account, 102, "RuntimeError: Shopify answered 502 Bad Gateway", 20)
        dead(account, 103, None, 30)
        db.session.commit()
        db.session.remove()
    context = browser.new_context(viewport=viewport, java_script_enabled=js)
    page = context.new_page()
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))

    log_in(page, live_server, f"admin-{name}@example.com")
    expect(page.get_by_text("3 deliveries from Shopify could not be processed in 5 attempts.")).to_be_visible()
    screenshot(f"{name}-overview", page)
    page.get_by_role("link", name="3 dead deliveries").click()
    expect(page.get_by_role("heading", name="Dead deliveries", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="3 dead deliveries")).to_be_visible()
    expect(page.get_by_text("<b>not bold</b>", exact=False)).to_be_visible()  # shown as text
    expect(page.get_by_text("No error was recorded")).to_be_visible()
    # Layout is judged once the stylesheet has applied (the load event waits for it): on a busy
    # host the text could be visible before, unstyled and as wide as its longest error.
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # nothing runs off
    screenshot(f"{name}-list", page)

    page.get_by_role("button", name="Retry the orders/create delivery received 20 Nov 2026, 09:20 UTC").click()
    expect(page.get_by_text("1 delivery is being processed again")).to_be_visible()
    expect(page.get_by_role("heading", name="2 dead deliveries")).to_be_visible()
    screenshot(f"{name}-retried-one", page)

    page.get_by_role("button", name="Retry all").click()
    expect(page.get_by_text("2 deliveries are being processed again")).to_be_visible()
    expect(page.get_by_text("No dead deliveries")).to_be_visible()
    screenshot(f"{name}-retried-all", page)

    # Staff: not in their menu, and refused at the address.
    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, f"staff-{name}@example.com")
    response = page.goto(live_server.url("/dashboard/deliveries/dead"))
    assert response.status == 403
    screenshot(f"{name}-staff-403", page)
    context.close()

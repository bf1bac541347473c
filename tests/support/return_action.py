"""The return-action journeys' shared parts: the live app wired to the sandbox, a connected store,
and what the portal, the sandbox page and its carrier form show and do."""
import re
import time

import pytest
import requests
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import make_account, make_user
from tests.support.e2e import rq_thread_worker
from tests.support.journey import all_controls_are_labelled
from tests.support.portal import connect_to_sandbox
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

"""Connecting a store in a real Chromium, all three ways (OAuth through the sandbox's consent
page), watching the import's progress bar poll and stop, and browsing the imported orders."""
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Account, ImportRun
from tests.support.e2e import rq_thread_worker
from tests.factories import make_account, make_user
from tests.support.connect import (OAUTH_CLIENT_ID, OAUTH_SECRET, SEEDED, SHOP, make_shop,
                                            use_virtual_time)
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.journey import log_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def store_app(live_server, sandbox, monkeypatch):
    """The live app, told where it lives (webhooks and the OAuth redirect), with a deployment app."""
    app = live_server.server.app
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server.url())
    monkeypatch.setitem(app.config, "SHOPIFY_APP_CLIENT_ID", OAUTH_CLIENT_ID)
    monkeypatch.setitem(app.config, "SHOPIFY_APP_CLIENT_SECRET", OAUTH_SECRET)
    use_virtual_time(monkeypatch, sandbox)
    return app


@pytest.fixture
def job_worker(store_app, monkeypatch):
    """An RQ worker thread in the production shape (nothing in the embedded default)."""
    with rq_thread_worker(store_app, monkeypatch):
        yield


@pytest.fixture
def offline_page(page):
    """No CDN on this network: fail it at once so pages use the local htmx copy without waiting."""
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))
    return page


def _admin(app, email="owner@acme.test", **fields):
    with app.app_context():
        account = make_account(name="Acme Outfitters", shop_domain=None, **fields)
        make_user(account, role="admin", email=email)
        db.session.commit()
        return account.id


def _account(app, account_id):
    with app.app_context():
        db.session.expire_all()
        account = db.session.get(Account, account_id)
        db.session.expunge(account)
        return account


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_connect_with_a_token_watch_the_import_and_browse_orders(live_server, store_app, sandbox, offline_page,
                                                                screenshot, viewport, job_worker):
    page = offline_page
    size = "phone" if viewport is PHONE else "desktop"
    page.set_viewport_size(viewport)
    # The shop's app was granted everything but gift cards: the page must name what is missing.
    shop = make_shop(sandbox, scopes=["read_orders", "write_orders", "read_all_orders", "read_products",
                                      "read_customers", "write_draft_orders"])
    account_id = _admin(store_app)
    log_in(page, live_server, "owner@acme.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Outfitters")
    page.get_by_role("link", name="Connect your store").click()
    expect(page.get_by_role("heading", name="Connect your Shopify store")).to_be_visible()
    screenshot(f"connect-{size}")

    page.locator("#method-legacy-token > summary").click()
    form = page.locator("#method-legacy-token form")
    form.get_by_label("Store address").fill("acme outfitters")
    form.get_by_label("Admin API access token").fill(shop.token)
    form.get_by_label("API secret key").fill(shop.client_secret)
    form.get_by_role("button", name="Connect with token").click()
    expect(page.locator("#legacy-shop_domain-error")).to_contain_text("myshopify.com address")
    expect(page.locator("#legacy-shop_domain")).to_have_attribute("aria-invalid", "true")
    screenshot(f"connect-error-{size}")
    assert _account(store_app, account_id).access_token_encrypted is None

    form = page.locator("#method-legacy-token form")
    form.get_by_label("Store address").fill(SHOP)
    form.get_by_label("Admin API access token").fill(shop.token)
    form.get_by_label("API secret key").fill(shop.client_secret)
    form.locator("summary", has_text="Advanced").click()
    form.get_by_label("API origin").fill(shop.origin)
    form.get_by_role("button", name="Connect with token").click()
    expect(page.get_by_text("Connected to Acme Outfitters (acme-outfitters.myshopify.com)")).to_be_visible()
    expect(page.get_by_role("heading", name="Connected to Acme Outfitters")).to_be_visible()
    progress = page.locator("#import-progress")
    expect(progress.locator(".progress-state")).to_have_text("Finished", timeout=15_000)
    expect(progress).to_contain_text(f"{SEEDED} of {SEEDED} orders imported (100%)")
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#missing-scopes")).to_contain_text("write_gift_cards")
    screenshot(f"connect-done-{size}")

    page.get_by_role("link", name="Orders").click()
    expect(page.locator(".order-link")).to_have_count(25)
    screenshot(f"orders-{size}")
    page.get_by_label("Order number, email or name").fill("1001")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".order-link")).to_have_count(1)
    page.locator(".order-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Order #1001")
    expect(page.get_by_role("heading", name="Items")).to_be_visible()
    screenshot(f"order-{size}")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_progress_bar_polls_while_the_import_runs_and_stops_when_it_is_done(live_server, store_app,
                                                                                 offline_page, screenshot,
                                                                                 viewport):
    page = offline_page
    size = "phone" if viewport is PHONE else "desktop"
    page.set_viewport_size(viewport)
    account_id = _admin(store_app)
    with store_app.app_context():
        run = ImportRun(account_id=account_id, status="running", method="bulk", total=240, imported=60,
                        since=datetime.now(timezone.utc) - timedelta(days=30),
                        window_note="Importing the last 60 days instead of 90: without the "
                                    "read_all_orders permission Shopify shows apps only the last 60 "
                                    "days of orders.")
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    polls = []
    page.on("request", lambda request: polls.append(request.url)
            if request.url.endswith(f"/dashboard/imports/{run_id}/progress") else None)
    log_in(page, live_server, "owner@acme.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Outfitters")
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("hx-trigger", "every 1s")
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "25")
    screenshot(f"import-progress-running-{size}")

    with store_app.app_context():
        db.session.get(ImportRun, run_id).imported = 180
        db.session.commit()
    expect(progress).to_contain_text("180 of 240 orders imported (75%)", timeout=5_000)
    with store_app.app_context():
        finished = db.session.get(ImportRun, run_id)
        finished.imported, finished.status = 240, "completed"
        finished.finished_at = datetime.now(timezone.utc)
        db.session.commit()
    expect(progress.locator(".progress-state")).to_have_text("Finished", timeout=5_000)
    expect(progress).not_to_have_attribute("hx-trigger", "every 1s")
    screenshot(f"import-progress-done-{size}")
    count = len(polls)
    assert count >= 2
    page.wait_for_timeout(2500)
    assert len(polls) == count  # polling stopped


def test_connect_with_client_credentials_in_the_browser(live_server, store_app, sandbox, offline_page, screenshot,
                                                        job_worker):
    page = offline_page
    page.set_viewport_size(DESKTOP)
    shop = make_shop(sandbox)
    account_id = _admin(store_app)
    log_in(page, live_server, "owner@acme.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Outfitters")
    page.goto(live_server.url("/dashboard/connect"))
    page.locator("#method-client-credentials > summary").click()  # OAuth is configured: it opens first
    form = page.locator("#method-client-credentials form")
    form.get_by_label("Store address").fill(SHOP)
    form.get_by_label("Client ID").fill(shop.client_id)
    form.get_by_label("Client secret").fill("shpss_notthesecret0000000000")
    form.locator("summary", has_text="Advanced").click()
    form.get_by_label("API origin").fill(shop.origin)
    form.get_by_role("button", name="Connect with client credentials").click()
    expect(page.locator("#cc-client_secret-error")).to_contain_text("refused this client ID and secret")
    screenshot("connect-client-credentials-error-desktop")
    form = page.locator("#method-client-credentials form")
    form.get_by_label("Client secret").fill(shop.client_secret)
    form.get_by_role("button", name="Connect with client credentials").click()
    expect(page.get_by_role("heading", name="Connected to Acme Outfitters")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("your own Dev Dashboard app (client credentials)")
    account = _account(store_app, account_id)
    assert account.connection_method == "client_credentials" and account.access_token_expires_at is not None


def test_install_with_oauth_through_the_sandbox_consent_page(live_server, store_app, sandbox, offline_page,
                                                             screenshot, job_worker):
    page = offline_page
    page.set_viewport_size(DESKTOP)
    shop = make_shop(sandbox, client_id=OAUTH_CLIENT_ID, client_secret=OAUTH_SECRET)
    account_id = _admin(store_app)
    log_in(page, live_server, "owner@acme.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Outfitters")
    page.goto(live_server.url("/dashboard/connect"))
    form = page.locator("#method-oauth form")
    form.get_by_label("Store address").fill("acme-outfitters")  # the short form is accepted
    form.locator("summary", has_text="Advanced").click()
    form.get_by_label("API origin").fill(shop.origin)
    form.get_by_role("button", name="Install on Shopify").click()
    expect(page.get_by_role("heading", name="Approve Boomerang on Shopify")).to_be_visible()
    screenshot("connect-oauth-continue-desktop")
    page.get_by_role("link", name="Continue to Shopify").click()
    expect(page.get_by_role("heading", name="Install Boomerang on Acme Outfitters")).to_be_visible()
    screenshot("sandbox-consent-desktop")
    page.get_by_role("button", name="Install app").click()
    expect(page.get_by_role("heading", name="Connected to Acme Outfitters")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Boomerang's Shopify app (OAuth)")
    expect(page.locator("#import-progress .progress-state")).to_have_text("Finished", timeout=15_000)
    account = _account(store_app, account_id)
    assert account.connection_method == "oauth" and account.is_connected
    # Webhooks point at this live server, so an order placed in the sandbox arrives by itself.
    assert {s.uri for s in shop.store.state["subs"].values()} == {live_server.url("/webhooks/shopify")}

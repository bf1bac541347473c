"""`make demo`'s first promise, walked as a newcomer would: the demo started as `make demo` starts
it (`flask db upgrade`, then `flask demo run` beside its sandbox, on a fresh database and sandbox
state), "Place an order" on the sandbox page for either demo store, and the order is in that
store's dashboard within 5 seconds, brought by Shopify's orders/create webhook, signed with the
one secret of the one Boomerang app installed on both demo shops."""
import base64
import hashlib
import hmac
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, make_url, text

from app.demo.sandbox import DEMO_SHOP
from app.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, DEMO_STORE
from app.demo.stores import RULES_EMAIL, RULES_SHOP, RULES_STORE
from tests.support.e2e import scratch_database_url
from tests.support.journey import PHONE, log_in, new_page, shoot

ROOT = Path(__file__).resolve().parent.parent.parent
STORES = ((DEMO_STORE, DEMO_SHOP, DEMO_EMAIL), (RULES_STORE, RULES_SHOP, RULES_EMAIL))
PROMISED_SECONDS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database_url() -> str:
    """The test database's `_demo` sibling, emptied (as a first `make demo` finds it)."""
    url = make_url(scratch_database_url("_demo"))
    if url.get_backend_name() == "sqlite":
        Path(url.database).unlink(missing_ok=True)
    else:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
    return url.render_as_string(hide_password=False)


class Demo:
    """A running `flask demo run` (the app and its sandbox), as `make demo` starts it."""

    def __init__(self, tmp: Path, settings: dict | None = None):
        self.port, self.sandbox_port = free_port(), free_port()
        self.url, self.sandbox_url = f"http://127.0.0.1:{self.port}", f"http://127.0.0.1:{self.sandbox_port}"
        self.database_url = fresh_database_url()
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("TEST_", "REDIS_", "DATABASE_", "SANDBOX_", "PYTEST"))}
        env.update(BOOMERANG_ENV="development", FLASK_APP="wsgi", DATABASE_URL=self.database_url,
                   SANDBOX_STATE_FILE=str(tmp / "sandbox.pkl"), **(settings or {}))
        self.log = tmp / "demo.log"
        flask = [sys.executable, "-m", "flask"]
        subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                flask + ["demo", "run", "--host", "127.0.0.1", "--port", str(self.port),
                         "--sandbox-port", str(self.sandbox_port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while "Serving on" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"`flask demo run` did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.5)

    def sandbox(self, method: str, path: str, **kwargs) -> dict:
        response = requests.request(method, f"{self.sandbox_url}/_sandbox{path}", timeout=10, **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    def stored_order(self, email: str):
        """(order name, store id) of the order Boomerang stored for that email, or None."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return conn.execute(text("SELECT name, account_id FROM orders WHERE email = :e"),
                                    {"e": email}).first()
        finally:
            engine.dispose()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # stops the sandbox it started too
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    running = Demo(tmp_path_factory.mktemp("demo"))
    yield running
    running.stop()


def signed_by(secret: str, delivery: dict) -> bool:
    digest = base64.b64encode(hmac.new(secret.encode(), delivery["body"].encode(), hashlib.sha256).digest())
    return hmac.compare_digest(digest.decode(), delivery["headers"]["X-Shopify-Hmac-Sha256"])


def delivered_order(demo: Demo, shop: str, email: str, timeout: float) -> dict | None:
    """The orders/create delivery of the order placed for `email`, once attempted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for delivery in demo.sandbox("GET", f"/shops/{shop}/deliveries?limit=20&bodies=1")["deliveries"]:
            if (delivery["topic"] == "orders/create" and email in delivery["body"]
                    and delivery["status"] != "pending"):
                return delivery
        time.sleep(0.2)
    return None


def test_an_order_placed_for_either_demo_store_reaches_boomerang_by_webhook_signed_with_the_one_app_secret(demo):
    boomerang = [app for app in demo.sandbox("GET", "/apps")["apps"] if app["name"] == "Boomerang"]
    assert len(boomerang) == 1, "the demo stores install one Boomerang app"
    installed_on = {i["shop"] for i in boomerang[0]["installations"] if i["installed"]}
    assert installed_on == {DEMO_SHOP, RULES_SHOP}
    stores = set()
    for _name, shop, _admin in STORES:
        email = f"webhook.{shop.split('.')[0]}@example.com"
        placed = time.monotonic()
        page = requests.post(f"{demo.sandbox_url}/shops/{shop}/place-order", data={"email": email}, timeout=10)
        assert page.status_code == 200  # back on the sandbox page
        delivery = delivered_order(demo, shop, email, PROMISED_SECONDS)
        assert delivery is not None, f"no orders/create for {shop} within {PROMISED_SECONDS} s"
        assert (delivery["status"], delivery["last_code"]) == ("delivered", 200), delivery
        assert signed_by(boomerang[0]["client_secret"], delivery)
        while demo.stored_order(email) is None and time.monotonic() - placed < PROMISED_SECONDS:
            time.sleep(0.1)
        stored = demo.stored_order(email)
        assert stored is not None, f"{shop}'s order is not in Boomerang {PROMISED_SECONDS} s after it was placed"
        stores.add(stored.account_id)
    assert len(stores) == 2  # each in its own store


def test_place_an_order_on_the_sandbox_page_and_it_is_in_the_stores_dashboard_within_5_seconds(
        demo, browser, screenshot):
    """Walked on a phone; each page is shot on a phone and a desktop."""
    sandbox_page = new_page(browser, PHONE)
    sandbox_page.goto(demo.sandbox_url)
    for name, shop, admin in STORES:
        slug = shop.split(".")[0]
        email = f"page.{slug}@example.com"
        dashboard = new_page(browser, PHONE)
        log_in(dashboard, demo.url, admin, DEMO_PASSWORD)
        dashboard.goto(f"{demo.url}/dashboard/orders")

        section = sandbox_page.locator("section.shop").filter(
            has=sandbox_page.get_by_role("heading", name=re.compile(re.escape(name))))
        apps = section.locator("table.apps")
        expect(apps).to_contain_text("boomerang-demo-app")  # one app, on both demo shops
        expect(apps).to_contain_text(f"{DEMO_SHOP}, {RULES_SHOP}")
        section.get_by_label("Customer email").fill(email)
        section.get_by_role("button", name="Place an order").click()
        placed = time.monotonic()
        sandbox_page.wait_for_load_state()

        while not dashboard.get_by_text(email).count():
            assert time.monotonic() - placed < PROMISED_SECONDS, (
                f"the order placed for {name} is not in its dashboard {PROMISED_SECONDS} s later")
            time.sleep(0.2)
            dashboard.reload()
        row = dashboard.get_by_role("row").filter(has_text=email)
        expect(row).to_be_visible()
        shoot(screenshot, dashboard, f"demo-{slug}-dashboard-order-from-webhook")

        sandbox_page.reload()
        newest = section.get_by_role("table").filter(has_text="Last response").get_by_role("row").nth(1)
        expect(newest).to_contain_text("orders/create")
        expect(newest).to_contain_text("delivered")
        expect(newest).to_contain_text("200")
        shoot(screenshot, sandbox_page, f"demo-{slug}-sandbox-delivered")
        dashboard.context.close()
    sandbox_page.context.close()

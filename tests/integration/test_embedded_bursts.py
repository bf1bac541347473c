"""The embedded default (`make demo`: SQLite, in-process jobs, werkzeug's threaded server) under
a burst: 100 of Shopify's orders/create deliveries back to back, sent by the sandbox as Shopify
sends them, while an admin logs in every 100 ms. No request answers an error, and every delivery
ends processed (an in-process job that meets a busy database is tried again, as on RQ)."""
import re
import statistics
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, text

from app.demo.sandbox import DEMO_SHOP
from app.demo.seed import DEMO_EMAIL, DEMO_PASSWORD
from tests.browser.test_demo_browser import Demo

DELIVERIES = 100
LOGIN_EVERY = 0.1
SETTLE_SECONDS = 180
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # As `make demo` runs, but a failed in-process job is tried again after a tenth of its interval.
    running = Demo(tmp_path_factory.mktemp("burst"), settings={"JOBS_RETRY_INTERVAL_SCALE": "0.1"})
    yield running
    running.stop()


def log_in_over_http(base: str) -> int | str:
    """One whole login of the demo's admin to the app served at ``base`` (the form, then the post,
    as a browser without JavaScript does); the status of the post, or what went wrong."""
    try:
        with requests.Session() as session:
            form = session.get(f"{base}/login", timeout=30)
            if form.status_code != 200:
                return form.status_code
            token = CSRF.search(form.text).group(1)
            answer = session.post(f"{base}/login", timeout=30, allow_redirects=False,
                                  data={"csrf_token": token, "email": DEMO_EMAIL, "password": DEMO_PASSWORD})
            return answer.status_code
    except requests.RequestException as error:
        return type(error).__name__


def count(demo: Demo, sql: str) -> int:
    engine = create_engine(demo.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def count_rows(demo: Demo, sql: str) -> list[tuple]:
    engine = create_engine(demo.database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_a_burst_of_deliveries_with_logins_meanwhile_gives_no_error_and_every_delivery_is_processed(demo):
    before = count(demo, "SELECT count(*) FROM webhook_deliveries WHERE topic = 'orders/create'")
    logins: list[int | str] = []
    login_seconds: list[float] = []
    stop = threading.Event()

    def keep_logging_in():  # one admin: a login every 100 ms, or at once when the last took longer
        while not stop.is_set():
            started = time.monotonic()
            logins.append(log_in_over_http(demo.url))
            login_seconds.append(time.monotonic() - started)
            stop.wait(max(0.0, LOGIN_EVERY - (time.monotonic() - started)))

    emails = [f"burst{n}@example.com" for n in range(DELIVERIES)]
    admin = threading.Thread(target=keep_logging_in)
    admin.start()
    started = time.monotonic()
    try:
        for email in emails:  # each placed order is one orders/create delivery, sent as soon as it can be
            demo.sandbox("POST", f"/shops/{DEMO_SHOP}/orders", json={"email": email})
        deadline = time.monotonic() + SETTLE_SECONDS
        delivered = []
        while time.monotonic() < deadline:
            delivered = [d for d in demo.sandbox("GET", f"/shops/{DEMO_SHOP}/deliveries?limit=500&bodies=1")[
                "deliveries"] if d["topic"] == "orders/create" and any(e in d["body"] for e in emails)]
            if len(delivered) >= DELIVERIES and all(d["status"] != "pending" for d in delivered):
                break
            time.sleep(0.5)
        answered = time.monotonic() - started
        arrived = before + DELIVERIES
        while time.monotonic() < deadline and count(
                demo, "SELECT count(*) FROM webhook_deliveries d WHERE topic = 'orders/create' "
                      "AND NOT EXISTS (SELECT 1 FROM pending_deliveries p WHERE p.delivery_id = d.id)") < arrived:
            time.sleep(0.5)
        processed_in = time.monotonic() - started
    finally:
        stop.set()
        admin.join(60)
    codes = {}
    for d in delivered:
        codes[(d["last_code"], d["attempts"])] = codes.get((d["last_code"], d["attempts"]), 0) + 1
    login_errors = [code for code in logins if code != 303]
    unprocessed = count(demo, "SELECT count(*) FROM webhook_deliveries d JOIN pending_deliveries p "
                              "ON p.delivery_id = d.id WHERE d.topic = 'orders/create'")
    stored = count(demo, "SELECT count(*) FROM orders WHERE email LIKE 'burst%@example.com'")
    print(f"\n{DELIVERIES} deliveries answered in {answered:.1f} s, processed in {processed_in:.1f} s; "
          f"(code, attempts) of each: {codes}; {len(logins)} logins, {len(login_errors)} not 303 "
          f"{sorted(set(map(str, login_errors)))} (each {statistics.median(login_seconds):.2f} s median, "
          f"{max(login_seconds):.2f} s at most); {unprocessed} unprocessed; {stored} orders stored")
    assert len(delivered) == DELIVERIES
    assert codes == {(200, 1): DELIVERIES}, "every delivery answered 200 at its first attempt"
    assert login_errors == []
    left = [] if not unprocessed else count_rows(
        demo, "SELECT d.id, p.attempts, p.last_error FROM webhook_deliveries d JOIN pending_deliveries p "
              "ON p.delivery_id = d.id WHERE d.topic = 'orders/create'")
    assert unprocessed == 0 and stored == DELIVERIES, f"left unprocessed (id, attempts, last error): {left}"

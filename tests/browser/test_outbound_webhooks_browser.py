"""Settings → Webhooks in Chromium, on a phone and a desktop, with JavaScript on and off: an admin
mistypes a private address (refused beside the field, the topics chosen kept), adds the endpoint
and sees its secret, sends a test that a receiver on 127.0.0.1 verifies with that secret, finds it
in the delivery log, sends it again (same event), and rotates the secret after being asked."""
import re
import time

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.queue.backends import InProcessBackend
from tests.factories import make_account, make_user
from tests.support.chaos import wait_until
from tests.support.e2e import SCREENSHOTS, rq_thread_worker
from tests.support.journey import SHAPES, all_controls_are_labelled, fresh_page, log_in, shape_name
from tests.support.outbound import Receiver, verify


@pytest.fixture
def job_worker(e2e_app, monkeypatch):
    """An RQ worker thread in the production shape; in the embedded default, jobs on the backend's
    threads as the default configuration runs them (the test configuration runs them when the
    response closes, which a browser reading a redirect's headers may never let happen)."""
    backend = e2e_app.extensions["jobs"]
    if isinstance(backend, InProcessBackend):
        monkeypatch.setattr(backend, "use_thread", True)
    with rq_thread_worker(e2e_app, monkeypatch):
        yield


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"webhooks-{name}.png"), full_page=True)


def wait_for(condition, seconds: float = 10.0) -> None:
    assert wait_until(condition, seconds) is not None, "the receiver got nothing in time"


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_add_an_endpoint_see_its_secret_send_a_test_and_send_it_again(e2e_app, live_server, job_worker, browser,
                                                                      receiver, viewport, js):
    name = shape_name(viewport, js)
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=f"hooks-{name}")
        make_user(account, role="admin", email=f"boss-{name}@example.com")
        db.session.commit()
        db.session.remove()
    page = fresh_page(browser, viewport, js)
    log_in(page, live_server, f"boss-{name}@example.com")

    page.goto(live_server.url("/dashboard/settings"))
    page.get_by_role("link", name="endpoints and delivery log").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    all_controls_are_labelled(page)

    # A mistake: an address inside the network. Refused beside the field; the topics kept.
    page.get_by_label("Endpoint URL").fill("https://10.0.0.8/hooks")
    page.get_by_label(re.compile("Return closed")).uncheck()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("#url-error")).to_contain_text("private address (10.0.0.8)")
    expect(page.get_by_label(re.compile("Return closed"))).not_to_be_checked()
    expect(page.get_by_label(re.compile("Return created"))).to_be_checked()
    shot(page, f"refused-{name}")

    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#endpoint-secret").inner_text()
    assert secret.startswith("whsec_")
    shot(page, f"secret-{name}")
    page.get_by_role("link", name="Done").click()

    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("Test delivery queued")).to_be_visible()
    wait_for(lambda: receiver.received)
    first = receiver.received[0]
    assert first.topic == "webhook.test" and verify(secret, first, time.time())
    page.reload()
    expect(page.locator(".outbound-state")).to_have_text("delivered")
    shot(page, f"delivery-{name}")

    page.get_by_role("link", name="← Delivery log").click()
    expect(page.locator(".delivery-row")).to_have_count(1)
    expect(page.locator(".delivery-row")).to_contain_text(first.headers["X-Boomerang-Event-Id"])
    shot(page, f"log-{name}")
    page.get_by_role("link", name="webhook.test").click()
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("Sent again")).to_be_visible()
    wait_for(lambda: len(receiver.received) == 2)
    again = receiver.received[1]
    assert again.body == first.body and again.headers["X-Boomerang-Event-Id"] == first.headers["X-Boomerang-Event-Id"]
    assert verify(secret, again, time.time())

    # Rotate: asked first (the browser's dialog with JavaScript, a page of its own without); a
    # change of mind keeps the secret.
    page.goto(live_server.url("/dashboard/settings/webhooks"))
    expect(page.locator(".endpoint-row")).to_contain_text(receiver.url)
    shot(page, f"list-{name}")
    page.get_by_role("link", name=f"Manage {receiver.url}").click()
    shot(page, f"manage-{name}")
    if js:
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.get_by_role("button", name="Rotate secret").click()
    else:
        page.get_by_role("button", name="Rotate secret").click()
        page.get_by_role("link", name="Go back").click()
    page.get_by_role("button", name="Show secret").click()
    assert page.locator("#endpoint-secret").inner_text() == secret
    page.get_by_role("link", name="Done").click()
    if js:
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Rotate secret").click()
    else:
        page.get_by_role("button", name="Rotate secret").click()
        expect(page.get_by_role("heading", name=re.compile("Rotate the signing secret"))).to_be_visible()
        shot(page, f"rotate-ask-{name}")
        page.get_by_role("button", name="Rotate the secret").click()
    expect(page.get_by_role("heading", name="Secret rotated")).to_be_visible()
    new = page.locator("#endpoint-secret").inner_text()
    assert new != secret
    shot(page, f"rotated-{name}")
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#rotation-overlap")).to_be_visible()
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("Test delivery queued")).to_be_visible()
    wait_for(lambda: len(receiver.received) == 3)
    assert verify(new, receiver.received[2], time.time()) and verify(secret, receiver.received[2], time.time())
    shot(page, f"endpoint-{name}")

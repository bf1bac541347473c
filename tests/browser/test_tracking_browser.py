"""The tracking page in Chromium: an admin connects the generic provider and reads its URL and
secret; a parked carrier event is attached to its return by RMA number (a wrong one is shown
next to the field)."""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Return
from tests.factories import make_account, make_user
from tests.support.journey import log_in
from tests.support.tracking import return_with_tracking


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}],
                         ids=["phone", "desktop"])
def test_connect_then_attach_a_parked_event(e2e_app, live_server, page, screenshot, viewport):
    import requests

    page.set_viewport_size(viewport)
    size = "phone" if viewport["width"] < 500 else "desktop"
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outdoor")
        make_user(account, role="admin", email=f"boss-{size}@example.com")
        db.session.commit()
        rma, return_id = (lambda r: (r.rma_number, r.id))(return_with_tracking(account, None))
        db.session.remove()
    log_in(page, live_server, f"boss-{size}@example.com")
    page.get_by_role("link", name="Tracking").click()
    page.get_by_role("button", name="Connect Generic signed JSON").click()
    url = page.get_by_label("Webhook URL for Generic signed JSON").input_value()
    secret = page.get_by_label("Secret to give Generic signed JSON").input_value()
    assert "/webhooks/tracking/generic/" in url and secret.startswith("whsec_")
    expect(page.get_by_role("button", name="Rotate the Generic signed JSON webhook URL and secret")).to_be_visible()

    from tests.support.tracking import generic_event, generic_headers

    body = generic_event("JJD0099887766", "in_transit")
    path = url.split("/webhooks/", 1)[1]
    answer = requests.post(live_server.url(f"/webhooks/{path}"), data=body, headers=generic_headers(secret, body),
                           timeout=10)
    assert answer.json()["parked"] == 1
    page.reload()
    field = page.get_by_label("RMA number for JJD0099887766")
    field.fill("R-000")
    page.get_by_role("button", name="Attach the JJD0099887766 event to this return").click()
    expect(page.get_by_text("There is no return R-000 in this store. Check the RMA number.")).to_be_visible()
    expect(page.get_by_label("RMA number for JJD0099887766")).to_have_attribute("aria-invalid", "true")
    screenshot(f"dashboard-tracking-{size}")
    page.get_by_label("RMA number for JJD0099887766").fill(rma)
    page.get_by_role("button", name="Attach the JJD0099887766 event to this return").click()
    expect(page.get_by_text(f"1 carrier event(s) attached to {rma}.")).to_be_visible()
    with e2e_app.app_context():
        assert db.session.get(Return, return_id).status == "IN_TRANSIT"
        db.session.remove()

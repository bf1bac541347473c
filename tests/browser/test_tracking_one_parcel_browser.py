"""In Chromium, on a phone and a desktop, with JavaScript on and off: a shopper typing a tracking
number another return holds reads the refusal beside the field (the other return unnamed), then
saves their own; staff typing it read which return holds it; a number two old returns share is
flagged on both returns' pages and its parked event names both."""
import pytest
from playwright.sync_api import expect

from app.crypto import decrypt_secret
from app.extensions import db
from app.portal.session import status_token
from tests.factories import make_account, make_user
from tests.support.journey import SHAPES, fresh_page, log_in, shape_name
from tests.support.tracking import connect, generic_event, generic_headers, path_of, return_with_tracking

NUMBER = "1Z999AA10123456784"
SHARED = "JJD0011223344"


def _seed(e2e_app, size: str) -> dict:
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor")
        make_user(account, role="staff", email=f"staff-{size}@example.com")
        db.session.commit()
        holder, shopper, staff_side = (return_with_tracking(account, n) for n in (NUMBER, None, None))
        old = [return_with_tracking(account, SHARED, tracking_shared=True) for _ in range(2)]
        connection = connect(account, "generic")
        seeded = {"link": f"/r/{account.slug}/returns/{status_token(shopper)}", "holder": holder.rma_number,
                  "staff_side": staff_side.id, "old": [(r.id, r.rma_number) for r in old],
                  "hook": path_of(connection), "secret": decrypt_secret(connection.secret_encrypted)}
        db.session.remove()
    return seeded


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_a_number_another_return_holds_is_refused_to_shopper_and_staff(e2e_app, live_server, browser, screenshot,
                                                                      viewport, js):
    import requests

    size = shape_name(viewport, js)
    seeded = _seed(e2e_app, size)
    body = generic_event(SHARED, "in_transit")
    assert requests.post(live_server.url(seeded["hook"]), data=body, headers=generic_headers(seeded["secret"], body),
                         timeout=10).json()["parked"] == 1

    shopper = fresh_page(browser, viewport, js)
    shopper.goto(live_server.url(seeded["link"]))
    shopper.get_by_label("Tracking number").fill("1z 999-aa1 0123 456 784")
    shopper.get_by_role("button", name="Add tracking number").click()
    field = shopper.get_by_label("Tracking number")
    expect(shopper.get_by_text("This tracking number is already used for another return.").first).to_be_visible()
    expect(field).to_have_attribute("aria-invalid", "true")
    assert seeded["holder"] not in shopper.content()
    screenshot(f"tracking-portal-refused-{size}", target=shopper)
    shopper.get_by_label("Tracking number").fill("JJD 0099 8877 66")
    shopper.get_by_role("button", name="Add tracking number").click()
    expect(shopper.get_by_text("Tracking number JJD0099887766 is saved.")).to_be_visible()
    screenshot(f"tracking-portal-saved-{size}", target=shopper)
    shopper.context.close()

    staff = fresh_page(browser, viewport, js)
    log_in(staff, live_server, f"staff-{size}@example.com")
    staff.goto(live_server.url(f"/dashboard/returns/{seeded['staff_side']}"))
    staff.get_by_label("Tracking number").fill(NUMBER.lower())
    staff.get_by_role("button", name="Save tracking number").click()
    expect(staff.get_by_text(f"Return {seeded['holder']} already carries tracking number {NUMBER}")).to_be_visible()
    expect(staff.get_by_label("Tracking number")).to_have_attribute("aria-invalid", "true")
    screenshot(f"tracking-staff-refused-{size}", target=staff)
    (first_id, first_rma), (_, second_rma) = seeded["old"]
    staff.goto(live_server.url(f"/dashboard/returns/{first_id}"))
    expect(staff.get_by_text(f"{second_rma} carries the same tracking number.")).to_be_visible()
    screenshot(f"tracking-staff-shared-flag-{size}", target=staff)
    staff.goto(live_server.url("/dashboard/tracking"))
    expect(staff.get_by_text(f"On {first_rma}, {second_rma}: attach it to the right one.")).to_be_visible()
    screenshot(f"tracking-staff-parked-shared-{size}", target=staff)
    staff.context.close()

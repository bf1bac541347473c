"""How htmx treats an answer, as base.html's htmx-config says: a refusal that explains itself
(409: it changed meanwhile, 422: not valid) is swapped in like any fragment; any other error
swaps nothing, and what the page showed stays."""
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import make_account, make_return, make_user
from tests.support.journey import log_in

# htmx.ajax's promise settles once htmx has handled the answer (swapped or not).
ASK = "([verb, url, values]) => htmx.ajax(verb, url, {target: '#bulk-status', swap: 'innerHTML', values})"


def test_a_refusal_is_shown_in_place_and_another_error_swaps_nothing(e2e_app, live_server, page):
    with e2e_app.test_request_context():
        account = make_account(name="Acme Outdoor", slug="htmx-answers")
        make_user(account, role="staff", email="htmx-answers@example.com")
        return_id = make_return(account).id
        db.session.commit()
        db.session.remove()
    log_in(page, live_server, "htmx-answers@example.com")
    page.goto(live_server.url("/dashboard/returns"))
    status = page.locator("#bulk-status")

    # 422: nothing selected.
    page.evaluate(ASK, ["GET", "/dashboard/returns/close-selected", {}])
    expect(status.get_by_role("alert")).to_have_text("Select at least one return to close.")

    # 404: nothing is swapped, the refusal shown stays.
    page.evaluate(ASK, ["GET", "/dashboard/bulk/999999999", {}])
    expect(status.get_by_role("alert")).to_have_text("Select at least one return to close.")

    # 409: the confirmation posted is not the one shown, so it is shown again, as things are now.
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    page.evaluate(ASK, ["POST", "/dashboard/returns/close-selected",
                        {"return_id": str(return_id), "confirm": "stale", "csrf_token": token}])
    expect(status.locator("#confirm-error")).to_be_visible()
    expect(status.get_by_role("heading", name="Close return")).to_be_visible()

"""Every action on a return's page (happy and refused), who may take it, CSRF, and the overview."""
import pytest

from app.extensions import db
from app.models import Return, ReturnItem
from tests.factories import make_account, make_return
from tests.support.confirm import confirmed
from tests.support.staff_returns import LIST, STAFF_ACCOUNT, reload

pytestmark = STAFF_ACCOUNT


# --- the return page ----------------------------------------------------------------------------------

def test_the_return_page_shows_issue_results_restock_and_tracking(account, client):
    ret = make_return(account, status="IN_TRANSIT", tracking="1Z999AA10123456784", tracking_provider="aftership",
                      tracking_state="IN_TRANSIT", tracking_exception="Address unclear",
                      items=[("refund", "ISSUED"), ("credit", "ISSUED"), ("exchange", "ISSUED"), ("refund", "FAILED")])
    refund, credit, exchange, failed = ret.items
    refund.shopify_refund_id, refund.issued_amount, refund.restock_state = 5566, 20, "PENDING"
    credit.gift_card_last_characters, credit.issued_amount = "X7QK", 20
    exchange.exchange_order_name = "#1042-EX"
    failed.failure_reason = "Shopify refused the refund: the order was already refunded."
    db.session.commit()
    body = client.get(f"{LIST}/{ret.id}").get_data(as_text=True)
    for text in ("Refund 5566: 20.00 USD", "Gift card ending X7QK", "Exchange order #1042-EX",
                 "Units: waiting for the parcel", "the order was already refunded", "1Z999AA10123456784",
                 "aftership", "in transit", "Address unclear", "Retry refund", "Mark received", "Cancel return"):
        assert text in body, text


def test_tracking_number_set_corrected_and_refused(account, client):
    ret = make_return(account)
    db.session.commit()
    response = client.post(f"{LIST}/{ret.id}/tracking", data={"tracking_number": " 1z 999 aa1 "})
    assert response.status_code == 303
    assert reload(ret).tracking_number == "1Z999AA1"
    bad = client.post(f"{LIST}/{ret.id}/tracking", data={"tracking_number": "12"})
    assert bad.status_code == 422 and "as printed on the label" in bad.get_data(as_text=True)
    assert client.post(f"{LIST}/{ret.id}/tracking", data={"tracking_number": ""}).status_code == 422
    assert reload(ret).tracking_number == "1Z999AA1"
    received = make_return(account, status="RECEIVED")
    db.session.commit()
    refused = client.post(f"{LIST}/{received.id}/tracking", data={"tracking_number": "1Z999AA2"})
    assert refused.status_code == 409 and "before the return is received" in refused.get_data(as_text=True)


@pytest.mark.parametrize("action, start, end, message", [
    ("receive", "IN_TRANSIT", "RECEIVED", "Marked received."),
    ("process", "RECEIVED", "PROCESSED", "Marked processed."),
    ("close", "PROCESSED", "CLOSED", "closed."),
    ("cancel", "OPEN", "CANCELLED", "Return cancelled."),
])
def test_status_actions(account, client, action, start, end, message):
    ret = make_return(account, status=start, items=[(None, "UNDECIDED")])
    db.session.commit()
    response = confirmed(client, f"{LIST}/{ret.id}/{action}")
    assert response.status_code == 303
    assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    assert reload(ret).status == end


@pytest.mark.parametrize("action, start, message", [
    ("receive", "CANCELLED", "This return was cancelled."),
    ("process", "CANCELLED", "This return was cancelled."),
    ("close", "CANCELLED", "This return was cancelled."),
    ("cancel", "RECEIVED", "only be cancelled before it is received"),
])
def test_status_actions_refused(account, client, action, start, message):
    ret = make_return(account, status=start, items=[(None, "UNDECIDED")])
    db.session.commit()
    response = client.post(f"{LIST}/{ret.id}/{action}")
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert reload(ret).status == start


def test_cancel_is_refused_once_the_action_fired(account, client):
    from datetime import datetime, timezone

    ret = make_return(account, status="IN_TRANSIT", action_triggered_at=datetime.now(timezone.utc))
    db.session.commit()
    assert "already being issued" in client.get(f"{LIST}/{ret.id}/cancel").get_data(as_text=True)
    response = client.post(f"{LIST}/{ret.id}/cancel")
    assert response.status_code == 409 and "already being issued" in response.get_data(as_text=True)
    assert reload(ret).status == "IN_TRANSIT"


def test_decide_an_item_by_hand_and_switch_a_failed_exchange(account, client):
    ret = make_return(account, items=[(None, "NO_ACTION"), ("exchange", "FAILED")])
    undecided, failed = ret.items
    db.session.commit()
    body = client.get(f"{LIST}/{ret.id}").get_data(as_text=True)
    assert "Decide by hand" in body and "Switch to" in body
    response = client.post(f"{LIST}/{ret.id}/items/{undecided.id}/decide", data={"option": "credit"})
    assert response.status_code == 303
    response = client.post(f"{LIST}/{ret.id}/items/{failed.id}/decide", data={"option": "refund"})
    assert response.status_code == 303
    db.session.expire_all()
    items = {i.id: i for i in db.session.get(Return, ret.id).items}
    assert (items[undecided.id].option, items[undecided.id].resolution) == ("credit", "DECIDED")
    assert (items[failed.id].option, items[failed.id].resolution) == ("refund", "DECIDED")


def test_decide_refused(account, client):
    ret = make_return(account, items=[("refund", "ISSUED"), (None, "UNDECIDED")])
    issued, undecided = ret.items
    db.session.commit()
    response = client.post(f"{LIST}/{ret.id}/items/{issued.id}/decide", data={"option": "credit"})
    assert response.status_code == 409 and "cannot be decided again" in response.get_data(as_text=True)
    response = client.post(f"{LIST}/{ret.id}/items/{undecided.id}/decide", data={"option": "cash"})
    assert response.status_code == 422 and "choose refund, credit note or exchange." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ReturnItem, undecided.id).resolution == "UNDECIDED"
    assert client.post(f"{LIST}/{ret.id}/items/{9 * 10**30}/decide", data={"option": "refund"}).status_code == 404


def test_retry_a_failed_item_and_refused_when_not_failed(account, client):
    ret = make_return(account, items=[("credit", "FAILED"), ("refund", "DECIDED")])
    failed, decided = ret.items
    db.session.commit()
    assert client.post(f"{LIST}/{ret.id}/items/{failed.id}/retry").status_code == 303
    db.session.expire_all()
    assert (db.session.get(ReturnItem, failed.id).resolution, db.session.get(ReturnItem, failed.id).option) == (
        "DECIDED", "credit")
    refused = client.post(f"{LIST}/{ret.id}/items/{decided.id}/retry")
    assert refused.status_code == 409 and "nothing to retry" in refused.get_data(as_text=True)


# --- who may, and CSRF --------------------------------------------------------------------------------

def test_staff_work_returns_but_only_admins_change_settings(account, client):
    ret = make_return(account, items=[(None, "UNDECIDED")])
    db.session.commit()
    assert confirmed(client, f"{LIST}/{ret.id}/receive").status_code == 303  # logged in as staff
    assert client.get("/dashboard/settings").status_code == 403
    assert client.post("/dashboard/settings", data={"return_action": "manual"}).status_code == 403


@pytest.mark.parametrize("path", ["close", "receive", "process", "cancel", "tracking", "items/{item}/retry",
                                  "items/{item}/decide", "/dashboard/returns/close-selected",
                                  "/dashboard/returns/close-matching"])
def test_posts_without_a_csrf_token_are_refused(account, client, app, monkeypatch, path):
    ret = make_return(account, items=[("refund", "FAILED")])
    db.session.commit()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    url = path if path.startswith("/") else f"{LIST}/{ret.id}/" + path.format(item=ret.items[0].id)
    response = client.post(url, data={"return_id": [ret.id], "option": "credit", "tracking_number": "1Z999AA1",
                                      "status": "OPEN"})
    assert response.status_code == 400
    assert reload(ret).status == "OPEN" and reload(ret).tracking_number is None
    assert reload(ret).items[0].resolution == "FAILED"


def test_the_overview_says_what_needs_attention(account, client):
    from app.models import TrackingEvent

    quiet = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="needs-attention"' not in quiet
    make_return(account, items=[("refund", "FAILED"), ("credit", "FAILED")])
    make_return(account, items=[(None, "UNDECIDED")])
    make_return(account, status="CANCELLED", items=[(None, "UNDECIDED")])     # cancelled: nothing to decide
    other = make_account()
    make_return(other, items=[("refund", "FAILED")])                          # another store's
    db.session.add(TrackingEvent(account_id=account.id, provider="generic", provider_event_id="e-1",
                                 tracking_number="1Z999", state="IN_TRANSIT"))
    db.session.commit()
    page = client.get("/dashboard/").get_data(as_text=True)
    section = page.split('id="needs-attention"')[1].split("</section>")[0]
    assert '<a href="/dashboard/returns?issue=FAILED">1 return</a> with an item Shopify did not issue' in section
    assert '<a href="/dashboard/returns?issue=decision">1 return</a> with an item waiting for a decision' in section
    assert '<a href="/dashboard/tracking">1 carrier event</a>' in section

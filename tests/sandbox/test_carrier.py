"""The sandbox's fake carrier sends signed generic tracking events to a live Boomerang: one step
per call (label created → in transit → delivered), from the control API and the page's form."""
import pytest

from app.crypto import decrypt_secret
from app.extensions import db
from app.models import Return, TrackingEvent
from app.services.tracking import webhook_url
from tests.factories import make_account
from tests.support.tracking import connect, return_with_tracking

NUMBER = "SBX0001234"


@pytest.fixture
def boomerang(_live_server, e2e_app):
    """An account with a first-scan return action, a return with NUMBER and a generic
    connection, on the live server; yields (url, secret, return id). (`_live_server` rather
    than `live_server`: pytest-flask claims that name when a test also uses the sandbox `app`.)"""
    with e2e_app.app_context():
        account = make_account(return_action="first_scan")
        db.session.commit()
        ret = return_with_tracking(account, NUMBER)
        connection = connect(account, "generic")
        path = webhook_url(connection).split("/webhooks/", 1)[1]
        url, secret = _live_server.url(f"/webhooks/{path}"), decrypt_secret(connection.secret_encrypted)
        return_id = ret.id
        db.session.remove()
    return url, secret, return_id


def state_of(e2e_app, return_id):
    with e2e_app.app_context():
        ret = db.session.get(Return, return_id)
        facts = (ret.status, ret.tracking_state, ret.action_triggered_at is not None,
                 db.session.query(TrackingEvent).count())
        db.session.remove()
    return facts


def test_three_calls_walk_the_return_through_first_scan_to_received(client, boomerang, e2e_app):
    url, secret, return_id = boomerang
    send = {"url": url, "secret": secret, "tracking_number": NUMBER}
    first = client.post("/_sandbox/carrier/send", json=send).get_json()
    assert first["status"] == "label_created" and first["code"] == 200
    assert state_of(e2e_app, return_id) == ("OPEN", "LABEL_CREATED", False, 1)
    second = client.post("/_sandbox/carrier/send", json=send).get_json()
    assert second["status"] == "in_transit" and second["code"] == 200
    assert state_of(e2e_app, return_id) == ("IN_TRANSIT", "IN_TRANSIT", True, 2)  # first scan fired the action
    third = client.post("/_sandbox/carrier/send", json=send).get_json()
    assert third["status"] == "delivered" and state_of(e2e_app, return_id) == ("RECEIVED", "DELIVERED", True, 3)
    again = client.post("/_sandbox/carrier/send", json=send).get_json()  # stays delivered: a duplicate
    assert again["code"] == 200 and '"duplicates":1' in again["answer"].replace(" ", "")
    assert state_of(e2e_app, return_id)[3] == 3
    assert client.get("/_sandbox/carrier").get_json()["progress"] == {NUMBER: "delivered"}


def test_a_wrong_secret_is_refused_and_the_parcel_does_not_advance(client, boomerang, e2e_app):
    url, _, return_id = boomerang
    answer = client.post("/_sandbox/carrier/send", json={"url": url, "secret": "nope", "tracking_number": NUMBER,
                                                         "status": "in_transit"}).get_json()
    assert answer["code"] == 401
    assert state_of(e2e_app, return_id) == ("OPEN", None, False, 0)
    assert client.get("/_sandbox/carrier").get_json()["progress"] == {}


def test_the_page_form_is_prefilled_by_a_registered_webhook_and_sends(client, boomerang, e2e_app):
    url, secret, return_id = boomerang
    assert client.post("/_sandbox/carrier/connections",
                       json={"label": "Demo store", "url": url, "secret": secret}).status_code == 201
    page = client.get("/").get_data(as_text=True)
    assert "Send tracking event" in page and f'value="{url}"' in page and f'value="{secret}"' in page
    assert '<label for="carrier-number-1">Tracking number</label>' in page
    sent = client.post("/carrier/send", data={"url": url, "secret": secret, "tracking_number": NUMBER,
                                              "status": "in_transit"})
    assert sent.status_code == 303
    assert state_of(e2e_app, return_id)[:2] == ("IN_TRANSIT", "IN_TRANSIT")
    assert "200" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("body", [{}, {"url": "ftp://x", "secret": "s", "tracking_number": "N"},
                                  {"url": "http://127.0.0.1:9/", "secret": "s", "tracking_number": "N",
                                   "status": "lost"}])
def test_bad_sends_are_4xx(client, body):
    response = client.post("/_sandbox/carrier/send", json=body)
    assert response.status_code == 400 and "error" in response.get_json()


def test_an_unreachable_webhook_is_reported_not_raised(client):
    answer = client.post("/_sandbox/carrier/send", json={"url": "http://127.0.0.1:9/x", "secret": "s",
                                                         "tracking_number": "N1"}).get_json()
    assert answer["code"] is None and "could not reach" in answer["answer"]


def test_other_accounts_are_untouched(client, boomerang, e2e_app):
    url, secret, return_id = boomerang
    with e2e_app.app_context():
        other = make_account()
        db.session.commit()
        theirs = return_with_tracking(other, NUMBER).id
        db.session.remove()
    client.post("/_sandbox/carrier/send", json={"url": url, "secret": secret, "tracking_number": NUMBER,
                                                "status": "delivered"})
    assert state_of(e2e_app, return_id)[0] == "RECEIVED"
    assert state_of(e2e_app, theirs)[0] == "OPEN"

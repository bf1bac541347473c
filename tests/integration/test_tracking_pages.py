"""The dashboard's tracking page: admins see and rotate each provider's URL and secret, staff
only see and attach parked events, every query stays inside the account."""
import re

from sqlalchemy import select

from app.crypto import decrypt_secret
from app.extensions import db
from app.models import Account, Return, TrackingConnection, TrackingEvent
from tests.factories import make_account
from tests.fixtures.auth import log_in
from tests.support.tracking import connect, return_with_tracking, send_generic


def connection_of(account, provider):
    db.session.expire_all()
    return db.session.scalar(select(TrackingConnection).where(
        TrackingConnection.account_id == account.id, TrackingConnection.provider == provider))


def test_admin_connects_generic_and_sees_the_url_and_secret(account, client):
    log_in(client, account, "admin")
    page = client.get("/dashboard/tracking")
    assert page.status_code == 200 and b"Connect Generic signed JSON" in page.data
    assert client.post("/dashboard/tracking/generic/rotate").status_code == 303
    connection = connection_of(account, "generic")
    html = client.get("/dashboard/tracking").get_data(as_text=True)
    assert f"http://localhost/webhooks/tracking/generic/{connection.url_token}" in html
    assert decrypt_secret(connection.secret_encrypted) in html
    assert 'aria-label="Rotate the Generic signed JSON webhook URL and secret"' in html


def test_rotating_makes_the_old_url_and_secret_stop_working(account, client):
    log_in(client, account, "admin")
    client.post("/dashboard/tracking/easypost/rotate")
    before = connection_of(account, "easypost")
    old_token, old_secret = before.url_token, decrypt_secret(before.secret_encrypted)
    asked = client.post("/dashboard/tracking/easypost/rotate")  # without JavaScript: a page asks first
    assert asked.status_code == 200 and "The current one stops working at once." in asked.get_data(as_text=True)
    assert connection_of(account, "easypost").url_token == old_token
    client.post("/dashboard/tracking/easypost/rotate", data={"confirmed": "yes"})
    after = connection_of(account, "easypost")
    assert after.url_token != old_token and decrypt_secret(after.secret_encrypted) != old_secret
    assert client.post(f"/webhooks/tracking/easypost/{old_token}", data=b"{}").status_code == 404


def test_aftership_secret_is_pasted_and_seko_credentials_come_in_pairs(account, client):
    log_in(client, account, "admin")
    client.post("/dashboard/tracking/aftership/rotate")
    assert "No webhook secret saved yet" in client.get("/dashboard/tracking").get_data(as_text=True)
    empty = client.post("/dashboard/tracking/aftership/credentials", data={"aftership-secret": ""})
    assert empty.status_code == 422 and "Paste the webhook secret" in empty.get_data(as_text=True)
    assert client.post("/dashboard/tracking/aftership/credentials",
                       data={"aftership-secret": "as-secret"}).status_code == 303
    assert decrypt_secret(connection_of(account, "aftership").secret_encrypted) == "as-secret"
    client.post("/dashboard/tracking/seko/rotate")
    half = client.post("/dashboard/tracking/seko/credentials", data={"seko-username": "seko-user"})
    assert half.status_code == 422 and "both a username and a password" in half.get_data(as_text=True)
    assert client.post("/dashboard/tracking/seko/credentials",
                       data={"seko-username": "seko-user", "seko-secret": "pw"}).status_code == 303
    assert connection_of(account, "seko").username == "seko-user"


def test_admin_connects_shippo_and_sees_its_url_and_no_secret_to_paste(account, client):
    log_in(client, account, "admin")
    page = client.get("/dashboard/tracking").get_data(as_text=True)
    assert "Connect Shippo" in page and "track_updated" in page
    assert client.post("/dashboard/tracking/shippo/rotate").status_code == 303
    connection = connection_of(account, "shippo")
    assert connection.secret_encrypted is None
    html = client.get("/dashboard/tracking").get_data(as_text=True)
    assert f"http://localhost/webhooks/tracking/shippo/{connection.url_token}" in html
    assert "Shippo signs nothing, so the URL's secret token alone authenticates it" in html
    assert 'aria-label="Rotate the Shippo webhook URL"' in html
    # There is no form for it; a hand-made POST is refused and stores nothing.
    assert client.post("/dashboard/tracking/shippo/credentials", data={"shippo-secret": "x"}).status_code == 422
    assert connection_of(account, "shippo").secret_encrypted is None


def test_staff_do_not_see_the_shippo_url(account, client):
    connection = connect(account, "shippo")
    log_in(client, account, "staff")
    html = client.get("/dashboard/tracking").get_data(as_text=True)
    assert connection.url_token not in html and "Connect Shippo" not in html


def test_an_unknown_provider_is_a_404(account, client):
    log_in(client, account, "admin")
    assert client.post("/dashboard/tracking/wibble/rotate").status_code == 404
    assert client.post("/dashboard/tracking/generic/credentials", data={}).status_code == 422


def test_staff_see_parked_events_but_not_secrets_and_cannot_rotate(account, client):
    connection = connect(account, "generic")
    secret = decrypt_secret(connection.secret_encrypted)
    send_generic(client, connection, "JJD0099887766", "in_transit")
    log_in(client, account, "staff")
    html = client.get("/dashboard/tracking").get_data(as_text=True)
    assert "JJD0099887766" in html and secret not in html and connection.url_token not in html
    for url in ("/dashboard/tracking/generic/rotate", "/dashboard/tracking/aftership/credentials"):
        assert client.post(url).status_code == 403
    assert connection_of(account, "generic").url_token == connection.url_token


def test_staff_attach_a_parked_event_by_rma_and_a_bad_rma_is_a_clear_error(account, client):
    connection = connect(account, "generic")
    send_generic(client, connection, "JJD0099887766", "delivered")
    ret = return_with_tracking(account, None)
    other_store_return = return_with_tracking(make_account(), None)
    event = db.session.scalar(select(TrackingEvent))
    log_in(client, account, "staff")
    url = f"/dashboard/tracking/events/{event.id}/attach"
    for rma in ("R-999999", other_store_return.rma_number):
        response = client.post(url, data={f"e{event.id}-rma": rma})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert f"There is no return {rma} in this store" in html
        assert re.search(r'aria-invalid="true"', html)
    assert client.post(url, data={f"e{event.id}-rma": ""}).status_code == 422
    assert db.session.get(TrackingEvent, event.id).return_id is None
    done = client.post(url, data={f"e{event.id}-rma": ret.rma_number.lower()}, follow_redirects=True)
    assert "1 carrier event(s) attached" in done.get_data(as_text=True)
    db.session.expire_all()
    ret = db.session.get(Return, ret.id)
    assert ret.status == "RECEIVED" and ret.tracking_number == "JJD0099887766"
    again = client.post(url, data={f"e{event.id}-rma": ret.rma_number}, follow_redirects=True)
    assert "no longer waiting to be attached" in again.get_data(as_text=True)


def test_another_accounts_parked_event_cannot_be_attached(account, client):
    other = make_account()
    db.session.commit()
    send_generic(client, connect(other, "generic"), "JJD0099887766", "delivered")
    event = db.session.scalar(select(TrackingEvent))
    ret = return_with_tracking(account, None)
    log_in(client, account, "admin")
    assert "JJD0099887766" not in client.get("/dashboard/tracking").get_data(as_text=True)
    response = client.post(f"/dashboard/tracking/events/{event.id}/attach",
                           data={f"e{event.id}-rma": ret.rma_number}, follow_redirects=True)
    assert "no longer waiting to be attached" in response.get_data(as_text=True)
    assert db.session.get(TrackingEvent, event.id).return_id is None


def test_huge_event_ids_are_a_404(account, client):
    log_in(client, account, "staff")
    assert client.post(f"/dashboard/tracking/events/{'9' * 25}/attach", data={}).status_code == 404


def test_the_demo_registers_each_store_with_the_sandbox_carrier_once(app, sandbox):
    import requests

    from app.demo.sandbox import SandboxControl as _Sandbox
    from app.demo.tracking import connect_demo_carrier
    from app.services.tracking import webhook_url

    sandbox.app.extensions.pop("sandbox_carrier", None)  # the session sandbox's carrier, emptied
    first, second = make_account(name="Demo A"), make_account(name="Demo B")
    db.session.commit()
    lines = connect_demo_carrier(_Sandbox(sandbox.url), [first, second], first_scan=first)
    assert any("Send tracking event" in line for line in lines)
    url = webhook_url(connection_of(first, "generic"))
    connect_demo_carrier(_Sandbox(sandbox.url), [first, second])  # again: same URL, not rotated
    state = requests.get(f"{sandbox.url}/_sandbox/carrier", timeout=5).json()
    assert [c["label"] for c in state["connections"]] == ["Demo A", "Demo B"]
    assert state["connections"][0]["url"] == url == webhook_url(connection_of(first, "generic"))
    assert state["connections"][0]["secret"] == decrypt_secret(connection_of(first, "generic").secret_encrypted)
    assert db.session.get(Account, first.id).return_action == "first_scan"
    assert db.session.get(Account, second.id).return_action != "first_scan"

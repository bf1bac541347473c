"""`POST /webhooks/tracking/<provider>/<token>` end to end through the test client: carrier
events move a return forward only, repeats change nothing, exceptions are flags, unknown
numbers are parked, and forged or malformed deliveries are 4xx with nothing stored."""
import json
import time

import pytest
from sqlalchemy import func, select

from app.crypto import decrypt_secret, encrypt_secret
from app.extensions import db
from app.models import Return, ReturnEvent, TrackingEvent
from app.services.tracking import apply_parked_events_for, attach_parked_event
from tests.factories import make_account
from tests.fixture_files import CARRIERS
from tests.support.tracking import (aftership_headers, connect, generic_event, generic_headers, path_of,
                                    return_with_tracking, send_generic, shippo_body)

NUMBER = "1Z999AA10123456784"


@pytest.fixture
def generic(account):
    return connect(account, "generic")


def count(model, **where):
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


def reload(ret) -> Return:
    db.session.expire_all()
    return db.session.get(Return, ret.id)


def status_events(ret):
    return db.session.scalars(select(ReturnEvent.message).where(
        ReturnEvent.return_id == ret.id, ReturnEvent.kind == "status").order_by(ReturnEvent.id)).all()


def test_label_in_transit_delivered_move_the_return_open_in_transit_received(account, generic, client):
    ret = return_with_tracking(account, NUMBER)
    assert send_generic(client, generic, NUMBER, "label_created").status_code == 200
    assert reload(ret).status == "OPEN" and reload(ret).tracking_state == "LABEL_CREATED"
    assert send_generic(client, generic, NUMBER, "in_transit").status_code == 200
    ret = reload(ret)
    assert ret.status == "IN_TRANSIT" and ret.tracking_state == "IN_TRANSIT"
    assert ret.tracking_provider == "generic" and ret.in_transit_at is not None
    assert send_generic(client, generic, NUMBER, "delivered").status_code == 200
    ret = reload(ret)
    assert ret.status == "RECEIVED" and ret.tracking_state == "DELIVERED" and ret.received_at is not None
    assert count(TrackingEvent, return_id=ret.id) == 3
    assert len(status_events(ret)) == 2


def test_first_scan_fires_the_first_scan_return_action(account, generic, client):
    account.return_action = "first_scan"
    ret = return_with_tracking(account, NUMBER)
    send_generic(client, generic, NUMBER, "label_created")
    assert reload(ret).action_triggered_at is None
    send_generic(client, generic, NUMBER, "in_transit")
    assert reload(ret).action_triggered_at is not None


def test_delivered_then_in_transit_ends_received_without_moving_back(account, generic, client):
    ret = return_with_tracking(account, NUMBER)
    send_generic(client, generic, NUMBER, "delivered", occurred_at="2026-03-04T10:00:00Z")
    send_generic(client, generic, NUMBER, "in_transit", occurred_at="2026-03-02T10:00:00Z")
    send_generic(client, generic, NUMBER, "label_created", occurred_at="2026-03-01T10:00:00Z")
    ret = reload(ret)
    assert ret.status == "RECEIVED" and ret.tracking_state == "DELIVERED"
    assert ret.in_transit_at is not None  # passed through IN_TRANSIT on the way (skips are stamped)
    assert [m for m in status_events(ret)] == ["In transit: first carrier scan.",
                                               "Received: the carrier delivered the parcel."]


def test_the_same_event_five_times_is_one_row_and_one_status_change(account, generic, client):
    ret = return_with_tracking(account, NUMBER)
    answers = [send_generic(client, generic, NUMBER, "in_transit", event_id="evt-42").json for _ in range(5)]
    assert [a["stored"] for a in answers] == [1, 0, 0, 0, 0]
    assert [a["duplicates"] for a in answers] == [0, 1, 1, 1, 1]
    assert count(TrackingEvent) == 1
    assert len(status_events(ret)) == 1
    events_after_first = count(ReturnEvent, return_id=ret.id)
    send_generic(client, generic, NUMBER, "in_transit", event_id="evt-42")
    assert count(ReturnEvent, return_id=ret.id) == events_after_first


def test_an_exception_sets_the_flag_without_moving_and_progress_clears_it(account, generic, client):
    ret = return_with_tracking(account, NUMBER)
    send_generic(client, generic, NUMBER, "in_transit")
    send_generic(client, generic, NUMBER, "exception", description="Delivery attempt failed: business closed")
    ret = reload(ret)
    assert ret.status == "IN_TRANSIT" and ret.tracking_state == "IN_TRANSIT"
    assert ret.tracking_exception == "Delivery attempt failed: business closed"
    assert count(ReturnEvent, return_id=ret.id, kind="tracking_exception") == 1
    send_generic(client, generic, NUMBER, "delivered")
    ret = reload(ret)
    assert ret.status == "RECEIVED" and ret.tracking_exception is None


def test_a_cancelled_return_keeps_the_event_and_does_not_move(account, generic, client):
    ret = return_with_tracking(account, NUMBER, status="CANCELLED")
    assert send_generic(client, generic, NUMBER, "in_transit").status_code == 200
    ret = reload(ret)
    assert ret.status == "CANCELLED" and count(TrackingEvent, return_id=ret.id) == 1


def test_an_unknown_number_is_parked_then_attached_by_staff(account, generic, client):
    assert send_generic(client, generic, "JJD0099887766", "in_transit").json["parked"] == 1
    event = db.session.scalar(select(TrackingEvent))
    assert event.return_id is None and event.account_id == account.id
    ret = return_with_tracking(account, None)
    assert attach_parked_event(account, event.id, ret.id, "staff@example.com") == 1
    ret = reload(ret)
    assert ret.tracking_number == "JJD0099887766" and ret.status == "IN_TRANSIT"
    assert db.session.get(TrackingEvent, event.id).return_id == ret.id


def test_parked_events_apply_when_a_return_gets_the_number(account, generic, client):
    send_generic(client, generic, "JJD0099887766", "delivered")
    ret = return_with_tracking(account, "JJD0099887766")
    assert apply_parked_events_for(ret) == 1
    assert reload(ret).status == "RECEIVED"
    assert apply_parked_events_for(reload(ret)) == 0


def test_another_accounts_token_cannot_touch_this_accounts_return(account, client):
    ret = return_with_tracking(account, NUMBER)
    other = make_account()
    db.session.commit()
    theirs = connect(other, "generic")
    assert send_generic(client, theirs, NUMBER, "delivered").json["parked"] == 1
    assert reload(ret).status == "OPEN" and reload(ret).tracking_state is None
    parked = db.session.scalar(select(TrackingEvent))
    assert parked.account_id == other.id and parked.return_id is None
    # …and the other account's event ids never shadow this account's own events.
    mine = connect(account, "generic")
    assert send_generic(client, mine, NUMBER, "delivered").json["stored"] == 1
    assert reload(ret).status == "RECEIVED"


# --- refused deliveries ----------------------------------------------------------------------------

def _nothing_changed(ret):
    assert count(TrackingEvent) == 0
    ret = reload(ret)
    assert ret.status == "OPEN" and ret.tracking_state is None and ret.tracking_exception is None


def test_forged_stale_and_malformed_generic_deliveries_are_refused(account, generic, client):
    ret = return_with_tracking(account, NUMBER)
    secret = decrypt_secret(generic.secret_encrypted)
    body = generic_event(NUMBER, "delivered")
    good = generic_headers(secret, body)
    cases = [
        (body, generic_headers("not-the-secret", body), 401),
        (body.replace(b"delivered", b"in_transit"), good, 401),  # tampered after signing
        (body, {"X-Returns-Signature": good["X-Returns-Signature"].upper()}, 401),
        (body, {}, 401),
        (body, {"X-Returns-Signature": "v1=abc"}, 401),
        (body, generic_headers(secret, body, t=int(time.time()) - 600), 400),  # stale (tolerance 300 s)
        # from the future (a slow host must not make it fresh)
        (body, generic_headers(secret, body, t=int(time.time()) + 600), 400),
        (b"", generic_headers(secret, b""), 400),
        (b"{not json", generic_headers(secret, b"{not json"), 400),
        (b"[1, 2]", generic_headers(secret, b"[1, 2]"), 400),
        (b'{"tracking_number": "X1"}', generic_headers(secret, b'{"tracking_number": "X1"}'), 400),
        (generic_event(NUMBER, "teleported"), generic_headers(secret, generic_event(NUMBER, "teleported")), 400),
        (generic_event("X" * 65, "delivered"), generic_headers(secret, generic_event("X" * 65, "delivered")), 400),
    ]
    for sent, headers, status in cases:
        response = client.post(path_of(generic), data=sent, headers=headers)
        assert response.status_code == status, (sent[:40], headers, response.json)
        assert response.json["error"]
    _nothing_changed(ret)


def test_wrong_token_unknown_provider_and_other_providers_token_are_one_404(account, generic, client):
    ret = return_with_tracking(account, NUMBER)
    secret = decrypt_secret(generic.secret_encrypted)
    body = generic_event(NUMBER, "delivered")
    headers = generic_headers(secret, body)
    last = "x" if generic.url_token[-1] != "x" else "y"
    for path in (f"/webhooks/tracking/generic/{generic.url_token[:-1]}{last}",
                 "/webhooks/tracking/generic/" + "a" * 300,
                 f"/webhooks/tracking/shippo/{generic.url_token}",
                 f"/webhooks/tracking/easypost/{generic.url_token}"):
        response = client.post(path, data=body, headers=headers)
        assert response.status_code == 404 and response.json["error"] == "no such tracking webhook"
    _nothing_changed(ret)


def test_a_huge_body_is_413(account, generic, client):
    ret = return_with_tracking(account, NUMBER)
    body = b'{"padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    secret = decrypt_secret(generic.secret_encrypted)
    assert client.post(path_of(generic), data=body, headers=generic_headers(secret, body)).status_code == 413
    _nothing_changed(ret)


def test_tracking_webhooks_need_no_csrf_token(account, generic, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    return_with_tracking(account, NUMBER)
    assert send_generic(client, generic, NUMBER, "in_transit").status_code == 200


# --- the other providers, on their real payloads -------------------------------------------------

def test_aftership_real_history_moves_the_return_to_received(account, client):
    connection = connect(account, "aftership", secret="as-webhook-secret")
    tracking = json.loads(
        (CARRIERS / "aftership_tracking_object_fedex_sdk_fixture.json").read_text())["data"]["tracking"]
    ret = return_with_tracking(account, tracking["tracking_number"])
    body = json.dumps({"event": "tracking_update", "event_id": "94dadd60", "msg": tracking, "ts": 1}).encode()
    forged = {**aftership_headers("as-webhook-secret", body)}
    forged["aftership-hmac-sha256"] = forged["aftership-hmac-sha256"].lower()
    assert client.post(path_of(connection), data=body, headers=forged).status_code == 401
    assert count(TrackingEvent) == 0
    response = client.post(path_of(connection), data=body, headers=aftership_headers("as-webhook-secret", body))
    assert response.status_code == 200 and response.json["stored"] == len(tracking["checkpoints"])
    ret = reload(ret)
    assert ret.status == "RECEIVED" and ret.tracking_state == "DELIVERED" and ret.tracking_provider == "aftership"
    again = client.post(path_of(connection), data=body, headers=aftership_headers("as-webhook-secret", body))
    assert again.json["stored"] == 0 and len(status_events(ret)) == 2


def test_aftership_without_a_saved_secret_refuses_everything(account, client):
    connection = connect(account, "aftership")
    body = (CARRIERS / "aftership_tracking_update_trimmed.json").read_bytes()
    assert client.post(path_of(connection), data=body, headers=aftership_headers("", body)).status_code == 401


def test_easypost_published_vector_moves_the_return_in_transit(account, client):
    """EasyPost's own vector end to end: its secret ("sécret", NFKD), body and header."""
    vectors = json.loads((CARRIERS / "easypost_sig_vectors.json").read_text())
    vector = vectors["published_vectors"][0]
    connection = connect(account, "easypost")
    connection.secret_encrypted = encrypt_secret(vector["webhook_secret"])
    db.session.commit()
    ret = return_with_tracking(account, "1")  # the fixture's tracking_code
    body = vector["body"].encode()
    nfc_key = vectors["derived_checks_not_published"][0]["computed_header_value"]
    assert client.post(path_of(connection), data=body, headers={"X-Hmac-Signature": nfc_key}).status_code == 401
    assert count(TrackingEvent) == 0
    response = client.post(path_of(connection), data=body,
                           headers={"X-Hmac-Signature": vector["expected_header_value"]})
    assert response.status_code == 200 and response.json["stored"] == 7
    ret = reload(ret)
    assert ret.status == "IN_TRANSIT" and ret.tracking_state == "IN_TRANSIT" and ret.tracking_provider == "easypost"


def test_seko_with_credentials_needs_both_headers(account, client):
    connection = connect(account, "seko", username="seko-user", secret="seko-pass")
    ret = return_with_tracking(account, "BE00000146")
    body = (CARRIERS / "seko_omnirps_return_tracking_artifact_removed.json").read_bytes()
    for headers in ({}, {"Username": "seko-user"}, {"Username": "seko-user", "Password": "wrong"},
                    {"Username": "SEKO-USER", "Password": "seko-pass"}):
        assert client.post(path_of(connection), data=body, headers=headers).status_code == 401
    assert count(TrackingEvent) == 0
    ok = client.post(path_of(connection), data=body, headers={"Username": "seko-user", "Password": "seko-pass"})
    assert ok.status_code == 200 and ok.json["stored"] == 2
    assert reload(ret).status == "RECEIVED"


def test_seko_doc_example_with_its_pdf_artifact_is_400(account, client):
    connection = connect(account, "seko")
    body = (CARRIERS / "seko_omnirps_return_tracking_doc_example.txt").read_bytes()
    assert client.post(path_of(connection), data=body).status_code == 400
    assert count(TrackingEvent) == 0


def test_shippo_real_track_moves_the_return_open_in_transit_received_once(account, client):
    """The 2016 USPS Track in Shippo's envelope: the label-stage rows change nothing, the
    acceptance scan moves the return to IN_TRANSIT, the delivery to RECEIVED; five resends of
    the delivery change nothing more. No headers at all: the URL token authenticates Shippo."""
    connection = connect(account, "shippo")
    track = json.loads((CARRIERS / "shippo_track_object_usps_2016.json").read_text())
    ret = return_with_tracking(account, track["tracking_number"])
    history = track["tracking_history"]

    label_stage = {**track, "tracking_history": history[:2], "tracking_status": history[1]}
    first = client.post(path_of(connection), data=shippo_body(label_stage))
    assert first.status_code == 200 and first.json["stored"] == 2
    ret = reload(ret)
    assert ret.status == "OPEN" and ret.tracking_state is None

    in_transit = {**track, "tracking_history": history[:6], "tracking_status": history[5]}
    second = client.post(path_of(connection), data=shippo_body(in_transit))
    assert second.json == {"status": "accepted", "stored": 4, "duplicates": 2, "parked": 0}
    ret = reload(ret)
    assert ret.status == "IN_TRANSIT" and ret.tracking_state == "IN_TRANSIT" and ret.tracking_provider == "shippo"

    answers = [client.post(path_of(connection), data=shippo_body(track)).json for _ in range(5)]
    assert [a["stored"] for a in answers] == [5, 0, 0, 0, 0]
    assert [a["duplicates"] for a in answers] == [6, 11, 11, 11, 11]
    ret = reload(ret)
    assert ret.status == "RECEIVED" and ret.tracking_state == "DELIVERED" and ret.received_at is not None
    assert count(TrackingEvent, return_id=ret.id) == len(history) == 11
    assert len(status_events(ret)) == 2
    events_after = count(ReturnEvent, return_id=ret.id)
    client.post(path_of(connection), data=shippo_body(track, test=True))
    assert count(ReturnEvent, return_id=ret.id) == events_after


def test_shippo_wrong_token_is_404_and_a_bad_envelope_is_400(account, client):
    connection = connect(account, "shippo")
    track = json.loads((CARRIERS / "shippo_track_object_usps_2016.json").read_text())
    ret = return_with_tracking(account, track["tracking_number"])
    last = "x" if connection.url_token[-1] != "x" else "y"
    wrong = client.post(f"/webhooks/tracking/shippo/{connection.url_token[:-1]}{last}", data=shippo_body(track))
    assert wrong.status_code == 404 and wrong.json["error"] == "no such tracking webhook"
    for body in (json.dumps(track).encode(), shippo_body(track, event="transaction_updated"),
                 shippo_body({**track, "tracking_number": None})):
        assert client.post(path_of(connection), data=body).status_code == 400
    _nothing_changed(ret)

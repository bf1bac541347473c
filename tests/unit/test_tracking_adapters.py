"""Each tracking adapter on the real provider fixtures and signature vectors, and the status
mapping of every row of reference/tracking-providers.md §2. No app, no database."""
import base64
import hashlib
import hmac
import json
import time

import pytest
from werkzeug.datastructures import Headers

from app.domain import tracking as T
from app.tracking import ADAPTERS, Credentials, DeliveryRefused, SignatureInvalid, StaleDelivery
from tests.fixture_files import carrier_bytes

generic, aftership, easypost, seko = (ADAPTERS[n] for n in ("generic", "aftership", "easypost", "seko"))


def fixture(name) -> bytes:
    return carrier_bytes(name)


def first_scan(events):
    """The first event (in the provider's order) that counts as a first scan."""
    return next((e for e in events if T.is_first_scan(e.state)), None)


# --- mapping: every row of the reference table ------------------------------------------------------

@pytest.mark.parametrize("tag, subtag, state", [
    ("Pending", "Pending_001", T.UNKNOWN),
    ("InfoReceived", "InfoReceived_001", T.LABEL_CREATED),
    *[("InTransit", f"InTransit_00{n}", T.IN_TRANSIT) for n in range(1, 10)],
    ("OutForDelivery", "OutForDelivery_001", T.OUT_FOR_DELIVERY),
    ("OutForDelivery", "OutForDelivery_003", T.OUT_FOR_DELIVERY),
    ("OutForDelivery", "OutForDelivery_004", T.OUT_FOR_DELIVERY),
    ("AvailableForPickup", "AvailableForPickup_001", T.OUT_FOR_DELIVERY),
    *[("Delivered", f"Delivered_00{n}", T.DELIVERED) for n in range(1, 6)],
    *[("AttemptFail", f"AttemptFail_00{n}", T.EXCEPTION) for n in range(1, 4)],
    *[("Exception", f"Exception_0{n:02d}", T.EXCEPTION) for n in range(1, 14)],
    ("Expired", "Expired_001", T.EXCEPTION),
])
def test_aftership_tags_and_subtags(tag, subtag, state):
    assert T.aftership_state(tag, subtag) == state
    assert T.aftership_state(tag, None) == state


@pytest.mark.parametrize("subtag, tag, state", [
    ("InTransit_013", "InTransit", T.IN_TRANSIT),     # added in 2026-07
    ("Delivered_005", None, T.DELIVERED),
    ("Exception_021", None, T.EXCEPTION),
    ("InTransit_999", "InTransit", T.IN_TRANSIT),     # not yet invented: the parent decides
    ("Wibble_001", "OutForDelivery", T.OUT_FOR_DELIVERY),  # unknown parent: the tag beside it
    ("Wibble_001", "Wobble", T.UNKNOWN),              # nothing known: never guessed
])
def test_unknown_aftership_subtags_fall_back_to_the_parent_tag(subtag, tag, state):
    assert T.aftership_state(tag, subtag) == state


@pytest.mark.parametrize("status, state", [
    ("unknown", T.UNKNOWN), ("pre_transit", T.LABEL_CREATED), ("in_transit", T.IN_TRANSIT),
    ("out_for_delivery", T.OUT_FOR_DELIVERY), ("available_for_pickup", T.OUT_FOR_DELIVERY),
    ("delivered", T.DELIVERED), ("return_to_sender", T.EXCEPTION), ("failure", T.EXCEPTION),
    ("cancelled", T.EXCEPTION), ("error", T.EXCEPTION), ("teleported", T.UNKNOWN), (None, T.UNKNOWN),
])
def test_easypost_statuses(status, state):
    assert T.easypost_state(status) == state


@pytest.mark.parametrize("code, state", [
    ("RC", T.LABEL_CREATED), ("RT", T.IN_TRANSIT), ("RDTPF", T.DELIVERED), ("DS", T.DELIVERED),
    ("RP", T.DELIVERED), ("RE", T.DELIVERED), ("RDBTC", T.DELIVERED), ("RR", T.EXCEPTION), ("OP-9", T.UNKNOWN),
])
def test_seko_codes(code, state):
    assert T.seko_state(code) == state


def test_rank_first_scan_and_return_targets():
    assert [T.rank(s) for s in (None, T.UNKNOWN, T.EXCEPTION, *T.RANKED)] == [0, 0, 0, 1, 2, 3, 4]
    assert [T.is_first_scan(s) for s in T.RANKED] == [False, True, True, True]
    assert not T.is_first_scan(T.EXCEPTION) and not T.is_first_scan(T.UNKNOWN)
    assert T.furthest([T.DELIVERED, T.IN_TRANSIT, T.EXCEPTION]) == T.DELIVERED
    assert T.furthest([T.UNKNOWN, T.EXCEPTION]) is None
    assert [T.return_target(s) for s in (*T.RANKED, T.EXCEPTION, T.UNKNOWN)] == [
        None, "IN_TRANSIT", "IN_TRANSIT", "RECEIVED", None, None]


# --- EasyPost: the published vector, and histories ---------------------------------------------------

VECTORS = json.loads(fixture("easypost_sig_vectors.json"))
VECTOR = VECTORS["published_vectors"][0]
EP_BODY = VECTOR["body"].encode()


def test_the_easypost_vector_body_is_the_fixture_without_its_newline():
    assert fixture("easypost_tracker_updated_fixture.json") == EP_BODY + b"\n"
    assert hashlib.sha256(EP_BODY).hexdigest() == VECTOR["body_sha256"]


def test_easypost_published_vector_verifies():
    easypost.verify({"X-Hmac-Signature": VECTOR["expected_header_value"]}, EP_BODY,
                    Credentials(secret=VECTOR["webhook_secret"]))


@pytest.mark.parametrize("header, body, secret", [
    (VECTORS["derived_checks_not_published"][0]["computed_header_value"], EP_BODY, VECTOR["webhook_secret"]),
    (VECTORS["derived_checks_not_published"][1]["computed_header_value"], EP_BODY, VECTOR["webhook_secret"]),
    (VECTOR["expected_header_value"], EP_BODY + b"\n", VECTOR["webhook_secret"]),
    (VECTOR["expected_header_value"], EP_BODY.replace(b"in_transit", b"delivered", 1), VECTOR["webhook_secret"]),
    (VECTOR["expected_header_value"], EP_BODY, "secret"),
    (VECTOR["expected_header_value"].upper(), EP_BODY, VECTOR["webhook_secret"]),
    (VECTOR["expected_header_value"].split("=", 1)[1], EP_BODY, VECTOR["webhook_secret"]),  # no prefix
    ("hmac-sha256-hex=" + base64.b64encode(bytes.fromhex(VECTOR["expected_header_value"].split("=")[1])).decode(),
     EP_BODY, VECTOR["webhook_secret"]),
    (None, EP_BODY, VECTOR["webhook_secret"]),
    (VECTOR["expected_header_value"], EP_BODY, None),
])
def test_easypost_rejects_everything_else(header, body, secret):
    headers = {"X-Hmac-Signature": header} if header else {}
    with pytest.raises(SignatureInvalid):
        easypost.verify(headers, body, Credentials(secret=secret))


def test_easypost_history_first_scan_is_the_pickup_not_the_label():
    events = easypost.parse(EP_BODY)
    assert [e.state for e in events] == [T.LABEL_CREATED] + [T.IN_TRANSIT] * 6
    assert first_scan(events).raw["message"] == "Picked up" and first_scan(events).raw["carrier_code"] == "PU"
    assert {e.tracking_number for e in events} == {"1"}
    assert len({e.provider_event_id for e in events}) == 7
    assert [e.provider_event_id for e in easypost.parse(EP_BODY)] == [e.provider_event_id for e in events]


def test_easypost_guide_history_reaches_delivered_despite_backwards_times():
    events = easypost.parse(fixture("easypost_tracker_updated_tracking_guide.json"))
    assert T.furthest(e.state for e in events) == T.DELIVERED
    assert first_scan(events).raw["message"] == "ORIGIN SCAN"
    delivered = next(e for e in events if e.state == T.DELIVERED)
    assert delivered.occurred_at < first_scan(events).occurred_at  # rank decides, not time


def test_easypost_label_only_tracker_is_no_first_scan():
    events = easypost.parse(fixture("easypost_tracker_pre_transit_docs_response.json"))
    assert [e.state for e in events] == [T.LABEL_CREATED, T.LABEL_CREATED] and first_scan(events) is None


def test_easypost_events_about_other_things_are_ignored():
    assert easypost.parse(b'{"object": "Event", "description": "batch.created", "result": {"object": "Batch"}}') == []


# --- AfterShip ----------------------------------------------------------------------------------------

AS_TRACKING = json.loads(fixture("aftership_tracking_object_fedex_sdk_fixture.json"))["data"]["tracking"]
AS_BODY = json.dumps({"event": "tracking_update", "event_id": "e-1", "msg": AS_TRACKING}).encode()
AS_SECRET = "aftership-webhook-secret"


def as_sign(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("body", [AS_BODY, fixture("aftership_tracking_update_trimmed.json")])
def test_aftership_signature_verifies_and_anything_else_fails(body):
    good = as_sign(AS_SECRET, body)
    aftership.verify({"aftership-hmac-sha256": good}, body, Credentials(secret=AS_SECRET))
    aftership.verify(Headers({"Aftership-Hmac-Sha256": good}), body, Credentials(secret=AS_SECRET))  # as sent
    for header, sent, secret in [(good, body + b" ", AS_SECRET), (good, body, "other"), (good.lower(), body, AS_SECRET),
                                 (hmac.new(AS_SECRET.encode(), body, hashlib.sha256).hexdigest(), body, AS_SECRET),
                                 (good, body, None), (None, body, AS_SECRET)]:
        with pytest.raises(SignatureInvalid):
            aftership.verify({"aftership-hmac-sha256": header} if header else {}, sent, Credentials(secret=secret))


def test_aftership_history_first_scan_is_the_acceptance_scan():
    events = aftership.parse(AS_BODY)
    assert len(events) == len(AS_TRACKING["checkpoints"])
    assert events[0].state == T.LABEL_CREATED
    assert first_scan(events).raw_status == "InTransit_002" and first_scan(events).raw["message"] == "Picked up"
    assert events[-1].state == T.DELIVERED
    # Mixed offsets are read as instants: "16:58+08:00" is 08:58 UTC.
    assert first_scan(events).occurred_at.isoformat() == "2018-07-23T08:58:00+00:00"


def test_aftership_trimmed_webhook_counts_the_consolidator_scan_as_first_scan():
    events = aftership.parse(fixture("aftership_tracking_update_trimmed.json"))
    assert [(e.state, e.tracking_number) for e in events] == [(T.IN_TRANSIT, "0000000000000000")]
    assert events[0].occurred_at.isoformat() == "2021-01-14T00:52:00+00:00"  # no offset: read as UTC


def test_aftership_tag_beyond_a_trimmed_history_is_kept_and_exceptions_carry_text():
    body = json.dumps({"msg": {"tracking_number": "AB123", "tag": "Delivered", "subtag": "Delivered_001",
                               "checkpoints": [{"tag": "InTransit", "subtag": "InTransit_002",
                                                "checkpoint_time": "2026-01-01T10:00:00Z", "message": "Accepted"},
                                               {"tag": "Exception", "subtag": "Exception_012",
                                                "checkpoint_time": "2026-01-02T10:00:00Z", "message": "Damaged"}]}})
    events = aftership.parse(body.encode())
    assert [e.state for e in events] == [T.IN_TRANSIT, T.EXCEPTION, T.DELIVERED]
    assert events[1].exception == "Damaged"


def test_aftership_resend_gives_the_same_ids():
    assert [e.provider_event_id for e in aftership.parse(AS_BODY)] == [
        e.provider_event_id for e in aftership.parse(json.dumps(json.loads(AS_BODY), indent=2).encode())]


# --- generic -----------------------------------------------------------------------------------------

G_SECRET = "whsec_test"
G_BODY = json.dumps({"event_id": "evt-1", "tracking_number": "JJD00123", "status": "in_transit",
                     "occurred_at": "2026-03-02T10:00:00+01:00", "description": "Accepted at depot"}).encode()


def g_sign(secret, body, t):
    return f"t={t},v1=" + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_generic_signature_and_window():
    now = 1_767_225_600
    header = g_sign(G_SECRET, G_BODY, now)
    generic.verify({"X-Returns-Signature": header}, G_BODY, Credentials(secret=G_SECRET), now=now + 300)
    generic.verify({"X-Returns-Signature": f"t={now},v1=00ff,v1={header.split('v1=')[1]}"}, G_BODY,
                   Credentials(secret=G_SECRET), now=now)  # a second v1 (rotation) is fine
    with pytest.raises(StaleDelivery):
        generic.verify({"X-Returns-Signature": header}, G_BODY, Credentials(secret=G_SECRET), now=now + 301)
    with pytest.raises(StaleDelivery):
        generic.verify({"X-Returns-Signature": header}, G_BODY, Credentials(secret=G_SECRET), now=now - 301)
    for headers, body, secret in [
            ({"X-Returns-Signature": header}, G_BODY.replace(b"in_transit", b"delivered"), G_SECRET),
            ({"X-Returns-Signature": header}, G_BODY, "whsec_other"),
            ({"X-Returns-Signature": header}, G_BODY, None),
            ({"X-Returns-Signature": header.upper()}, G_BODY, G_SECRET),
            ({"X-Returns-Signature": g_sign(G_SECRET, G_BODY, now + 1).replace(str(now + 1), str(now))}, G_BODY,
             G_SECRET),  # the timestamp is signed too
            ({"X-Returns-Signature": f"t={now}"}, G_BODY, G_SECRET),
            ({"X-Returns-Signature": "garbage"}, G_BODY, G_SECRET), ({}, G_BODY, G_SECRET)]:
        with pytest.raises(SignatureInvalid):
            generic.verify(headers, body, Credentials(secret=secret), now=now)


def test_a_forged_old_signature_is_a_401_not_a_400():
    old = int(time.time()) - 10_000
    with pytest.raises(SignatureInvalid):
        generic.verify({"X-Returns-Signature": g_sign("wrong", G_BODY, old)}, G_BODY, Credentials(secret=G_SECRET))


def test_generic_parse_with_history():
    body = json.dumps({"event_id": "e3", "tracking_number": "jjd 001 23", "status": "DELIVERED",
                       "history": [{"status": "label_created", "occurred_at": "2026-03-01T09:00:00Z"},
                                   {"event_id": "e2", "status": "in-transit"}]}).encode()
    events = generic.parse(body)
    assert [e.state for e in events] == [T.LABEL_CREATED, T.IN_TRANSIT, T.DELIVERED]
    assert [e.provider_event_id for e in events][1:] == ["e:e2", "e:e3"]
    assert events[0].provider_event_id == generic.parse(body)[0].provider_event_id  # derived, stable
    assert first_scan(events).provider_event_id == "e:e2"


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"), (b"  ", "empty body"), (b"{nope", "not valid JSON"), (b"\xff\xfe", "not valid JSON"),
    (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not valid JSON"),  # nested past the parser's depth
    (b"[]", "not a JSON object"), (b"{}", "tracking_number is missing"),
    (b'{"tracking_number": "A1", "status": "lost_in_space"}', "status must be one of"),
    (b'{"tracking_number": "A1", "status": "delivered", "occurred_at": "2018-28-28T17:22:43"}', "RFC 3339"),
    (b'{"tracking_number": "A1", "status": "delivered", "history": "all of it"}', "history must be a list"),
])
def test_generic_bad_bodies(body, message):
    with pytest.raises(DeliveryRefused, match=message) as refused:
        generic.parse(body)
    assert refused.value.status == 400


# --- SEKO --------------------------------------------------------------------------------------------

def test_seko_fixture_parses_and_only_the_repaired_copy_is_json():
    events = seko.parse(fixture("seko_omnirps_return_tracking_artifact_removed.json"))
    assert [(e.tracking_number, e.raw_status, e.state) for e in events] == [
        ("BE00000146", "RDTPF", T.DELIVERED), ("BE00000146", "RP", T.DELIVERED)]
    assert events[0].occurred_at.isoformat() == "2019-05-27T11:20:05+00:00"
    assert events[0].provider_event_id != events[1].provider_event_id
    with pytest.raises(DeliveryRefused, match="not valid JSON"):
        seko.parse(fixture("seko_omnirps_return_tracking_doc_example.txt"))


def test_seko_rt_is_the_first_scan_and_rc_is_not():
    body = json.dumps([{"OmniRPSTrackingNo": "BE1", "ConsignmentNo": "CN9", "Code": "RC",
                        "EventDT": "2026-01-01 09:00:00"},
                       {"OmniRPSTrackingNo": "BE1", "Code": "RT", "EventDT": "2026-01-02 09:00:00"},
                       {"OmniRPSTrackingNo": "BE1", "Code": "RR", "Status": "Return Rejected", "EventDT": ""}])
    events = seko.parse(body.encode())
    assert first_scan(events).raw_status == "RT" and events[0].other_numbers == ("CN9",)
    assert events[2].exception == "Return Rejected" and events[2].occurred_at is None


def test_seko_credentials():
    body = fixture("seko_omnirps_return_tracking_artifact_removed.json")
    seko.verify({}, body, Credentials())  # nothing configured: the URL token alone
    creds = Credentials(username="user", secret="pw")
    seko.verify({"Username": "user", "Password": "pw"}, body, creds)
    for headers in ({}, {"Username": "user"}, {"Username": "user", "Password": "PW"}, {"Password": "pw"},
                    {"Username": "USER", "Password": "pw"}):
        with pytest.raises(SignatureInvalid):
            seko.verify(headers, body, creds)


@pytest.mark.parametrize("body", [b'[{"Code": "RT"}]', b'[{"OmniRPSTrackingNo": "BE1"}]', b"[1]", b'"x"'])
def test_seko_bad_events(body):
    with pytest.raises(DeliveryRefused):
        seko.parse(body)

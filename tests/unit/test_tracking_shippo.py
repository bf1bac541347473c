"""The Shippo adapter on the real 2016 USPS Track object (wrapped in Shippo's webhook envelope)
and the Shippo rows of reference/tracking-providers.md §2. No app, no database."""
import copy
import json

import pytest

from app.domain import tracking as T
from app.tracking import ADAPTERS, Credentials, DeliveryRefused
from tests.fixture_files import carrier_bytes
from tests.support.tracking import shippo_body

TRACK = json.loads(carrier_bytes("shippo_track_object_usps_2016.json"))
NUMBER = "9205590164917337534322"
shippo = ADAPTERS["shippo"]


def row(status, code=None, object_id=None, date="2026-03-02T10:00:00Z", **extra):
    """A tracking_history row as newer API versions send it (substatus object)."""
    out = {"status": status, "status_date": date, "status_details": f"{status} details", **extra}
    if code:
        out["substatus"] = {"code": code, "text": f"{code} text", "action_required": False}
    if object_id:
        out["object_id"] = object_id
    return out


def track(history, current=None, number="SH1"):
    return {"tracking_number": number, "tracking_status": current, "tracking_history": history}


# --- mapping: the Shippo column of the reference table ----------------------------------------------

@pytest.mark.parametrize("status, code, state", [
    ("UNKNOWN", None, T.UNKNOWN),
    ("PRE_TRANSIT", None, T.LABEL_CREATED), ("PRE_TRANSIT", "information_received", T.LABEL_CREATED),
    *[("TRANSIT", code, T.IN_TRANSIT) for code in (
        None, "package_accepted", "package_arrived", "package_departed", "package_processing",
        "package_processed", "package_forwarded", "delivery_scheduled", "delayed")],
    ("TRANSIT", "out_for_delivery", T.OUT_FOR_DELIVERY), ("TRANSIT", "pickup_available", T.OUT_FOR_DELIVERY),
    *[("TRANSIT", code, T.EXCEPTION) for code in (
        "delivery_attempted", "notice_left", "address_issue", "package_held", "package_damaged",
        "location_inaccessible", "contact_carrier", "reschedule_delivery")],
    ("DELIVERED", None, T.DELIVERED), ("DELIVERED", "delivered", T.DELIVERED),
    ("RETURNED", "return_to_sender", T.EXCEPTION), ("RETURNED", "package_unclaimed", T.EXCEPTION),
    ("FAILURE", "package_undeliverable", T.EXCEPTION), ("FAILURE", "package_disposed", T.EXCEPTION),
    ("FAILURE", "package_lost", T.EXCEPTION), ("UNKNOWN", "other", T.EXCEPTION),
    ("transit", "OUT_FOR_DELIVERY", T.OUT_FOR_DELIVERY),   # case does not matter
])
def test_shippo_statuses_and_substatuses(status, code, state):
    assert T.shippo_state(status, code) == state


@pytest.mark.parametrize("status, code, state", [
    ("TRANSIT", "package_teleported", T.IN_TRANSIT),     # not yet invented: the status decides
    ("DELIVERED", "left_with_neighbour", T.DELIVERED),
    ("PRE_TRANSIT", "out_for_delivery", T.LABEL_CREATED),  # overrides belong to their own status
    ("LOST_IN_SPACE", None, T.UNKNOWN), (None, None, T.UNKNOWN),
])
def test_unknown_shippo_substatus_falls_back_to_the_status(status, code, state):
    assert T.shippo_state(status, code) == state


# --- the real Track object ---------------------------------------------------------------------------

def test_every_history_row_of_the_fixture_is_one_event_mapped_by_its_status():
    events = shippo.parse(shippo_body(TRACK))
    history = TRACK["tracking_history"]
    assert len(events) == len(history) == 11  # the current DELIVERED status is the last row's: not added
    assert [e.provider_event_id for e in events] == [f"o:{r['object_id']}" for r in history]
    assert [e.state for e in events] == [T.UNKNOWN] * 2 + [T.IN_TRANSIT] * 8 + [T.DELIVERED]
    assert {e.tracking_number for e in events} == {NUMBER}
    # This API version has no substatus: "Your shipment is out for delivery." is plain TRANSIT.
    assert events[9].raw["status_details"] == "Your shipment is out for delivery." and events[9].state == T.IN_TRANSIT
    assert events[0].occurred_at.isoformat() == "2016-12-07T00:00:00+00:00"
    assert events[-1].occurred_at.isoformat() == "2016-12-08T15:19:00+00:00"
    assert all(e.exception is None for e in events)


def test_first_scan_is_the_acceptance_row_not_the_label_stage_unknown_rows():
    events = shippo.parse(shippo_body(TRACK))
    label_rows = events[:2]
    assert "label has been created" in label_rows[1].raw["status_details"]
    assert not any(T.is_first_scan(e.state) for e in label_rows)
    first = next(e for e in events if T.is_first_scan(e.state))
    assert first.raw["status_details"] == "Your shipment has been accepted at the USPS origin facility."
    assert first.occurred_at.isoformat() == "2016-12-07T19:04:00+00:00"
    assert T.furthest(e.state for e in events) == T.DELIVERED


def test_a_label_stage_only_track_is_no_first_scan_and_changes_nothing():
    early = copy.deepcopy(TRACK)
    early["tracking_history"] = early["tracking_history"][:2]
    early["tracking_status"] = early["tracking_history"][-1]
    events = shippo.parse(shippo_body(early))
    assert [e.state for e in events] == [T.UNKNOWN, T.UNKNOWN]
    assert T.furthest(e.state for e in events) is None


def test_a_resend_gives_the_same_ids_and_test_mode_parses_the_same():
    first = shippo.parse(shippo_body(TRACK))
    again = shippo.parse(shippo_body(copy.deepcopy(TRACK)))
    test_mode = shippo.parse(shippo_body(TRACK, test=True))
    ids = [e.provider_event_id for e in first]
    assert ids == [e.provider_event_id for e in again] == [e.provider_event_id for e in test_mode]
    assert len(set(ids)) == len(ids)


def test_rows_without_object_id_get_stable_derived_ids():
    history = [row("TRANSIT", "package_accepted", date="2026-03-01T09:00:00Z"),
               row("TRANSIT", "out_for_delivery", date="2026-03-02T08:00:00Z")]
    events = shippo.parse(shippo_body(track(history)))
    again = shippo.parse(shippo_body(track(copy.deepcopy(history))))
    assert [e.provider_event_id for e in events] == [e.provider_event_id for e in again]
    assert all(e.provider_event_id.startswith("h:") for e in events)
    assert events[0].provider_event_id != events[1].provider_event_id
    assert [e.state for e in events] == [T.IN_TRANSIT, T.OUT_FOR_DELIVERY]
    assert events[1].raw_status == "TRANSIT/out_for_delivery"
    moved = copy.deepcopy(history)
    moved[1]["substatus"]["code"] = "delivery_attempted"  # another substatus is another event
    assert shippo.parse(shippo_body(track(moved)))[1].provider_event_id != events[1].provider_event_id


def test_the_current_status_beyond_a_trimmed_history_is_kept_and_exceptions_carry_text():
    history = [row("TRANSIT", "package_accepted", object_id="a1")]
    delivered = row("DELIVERED", "delivered", object_id="cur")
    events = shippo.parse(shippo_body(track(history, delivered)))
    assert [(e.provider_event_id, e.state) for e in events] == [("o:a1", T.IN_TRANSIT), ("o:cur", T.DELIVERED)]
    only_current = shippo.parse(shippo_body(track([], row("TRANSIT", "notice_left", object_id="n1"))))
    assert [e.state for e in only_current] == [T.EXCEPTION] and only_current[0].exception == "notice_left text"
    returned = shippo.parse(shippo_body(track([row("RETURNED", None, object_id="r1")])))
    assert returned[0].exception == "RETURNED details"


def test_no_signature_is_checked_the_url_token_authenticates():
    body = shippo_body(TRACK)
    shippo.verify({}, body, Credentials())
    shippo.verify({"Shippo-Auth-Signature": "t=1,v1=00"}, body, Credentials(secret="ignored"))


@pytest.mark.parametrize("body, message", [
    (b"", "empty body"), (b"{nope", "not valid JSON"), (b"[]", "not a JSON object"),
    (json.dumps(TRACK).encode(), "track_updated"),              # the bare Track, no envelope
    (shippo_body(TRACK, event="transaction_created"), "track_updated"),
    (json.dumps({"event": "track_updated", "test": False}).encode(), "data is not a JSON object"),
    (shippo_body({**TRACK, "tracking_number": ""}), "tracking_number is missing"),
    (shippo_body({k: v for k, v in TRACK.items() if k != "tracking_number"}), "tracking_number is missing"),
    (shippo_body({**TRACK, "tracking_history": {"status": "TRANSIT"}}), "must be a list"),
    (shippo_body({**TRACK, "tracking_history": [1]}), "tracking_history row"),
    (shippo_body({**TRACK, "tracking_status": "DELIVERED"}), "tracking_status"),
])
def test_malformed_bodies_are_refused_with_a_400(body, message):
    with pytest.raises(DeliveryRefused, match=message) as refused:
        shippo.parse(body)
    assert refused.value.status == 400

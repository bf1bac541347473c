"""One parcel moves one return: a tracking number another open return of the store holds is
refused in the portal and in the staff form (however it is typed, and when two submissions race),
a carrier event applies to exactly one return, a return's carrier state comes only from its own
events, and events for a number several returns share (rows from before the rule) wait for staff."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Return, ReturnEvent, TrackingEvent
from app.portal.session import status_token
from tests.fixtures.auth import log_in
from tests.support.tracking import connect, return_with_tracking, send_generic

pytestmark = pytest.mark.account(name="Acme Outdoor", return_action="manual", users=["staff"])

NUMBER = "1Z999AA10123456784"
# The same number as shoppers type it: lower case, spaced, dashed (ASCII and Unicode dashes).
TYPED = ["1z999aa10123456784", " 1Z 999 AA1 0123 456 784 ", "1Z-999-AA1-0123-456-784", "1Z\u2011999\u2011AA10123456784"]
TAKEN = "This tracking number is already used for another return."


@pytest.fixture
def staff(account, client):
    log_in(client, "staff@example.com")
    return client


def reload(ret) -> Return:
    db.session.expire_all()
    return db.session.get(Return, ret.id)


def portal_tracking(client, account, ret, number, **kwargs):
    """The shopper's tracking form on the return's status page (the signed link of its email)."""
    return client.post(f"/r/{account.slug}/returns/{status_token(ret)}/tracking",
                       data={"tracking_number": number} if number is not None else kwargs.pop("data"), **kwargs)


def staff_tracking(client, ret, number):
    return client.post(f"/dashboard/returns/{ret.id}/tracking", data={"tracking_number": number})


def test_the_portal_refuses_a_number_another_open_return_holds_however_it_is_typed(account, client):
    first, second = return_with_tracking(account, None), return_with_tracking(account, None)
    assert portal_tracking(client, account, first, NUMBER).status_code == 303
    for typed in TYPED:
        refused = portal_tracking(client, account, second, typed)
        body = refused.get_data(as_text=True)
        assert refused.status_code == 422 and TAKEN in body, typed
        assert first.rma_number not in body  # another customer's return is never named to a shopper
    assert reload(second).tracking_number is None and reload(first).tracking_number == NUMBER
    # Staff see the attempt on the refused return's timeline; the shopper's page does not show it.
    notes = db.session.scalars(select(ReturnEvent.message).where(
        ReturnEvent.return_id == second.id, ReturnEvent.kind == "tracking_refused")).all()
    assert len(notes) == 1 and first.rma_number in notes[0]  # one attempt at one number, noted once
    assert "refused" not in client.get(f"/r/{account.slug}/returns/{status_token(second)}").get_data(as_text=True)
    # A return that is closed or cancelled no longer holds its number.
    first.status = "CANCELLED"
    db.session.commit()
    assert portal_tracking(client, account, second, TYPED[1]).status_code == 303
    assert reload(second).tracking_number == NUMBER


def test_the_staff_form_refuses_a_number_another_open_return_holds_and_names_it(account, staff):
    holder = return_with_tracking(account, NUMBER, status="RECEIVED")
    in_transit = return_with_tracking(account, None, status="IN_TRANSIT")
    for typed in TYPED:
        refused = staff_tracking(staff, in_transit, typed)
        body = refused.get_data(as_text=True)
        assert refused.status_code == 422, typed
        assert f"Return {holder.rma_number} already carries tracking number {NUMBER}" in body
    assert reload(in_transit).tracking_number is None
    holder.status = "CLOSED"
    db.session.commit()
    assert staff_tracking(staff, in_transit, TYPED[2]).status_code == 303
    assert reload(in_transit).tracking_number == NUMBER


HOSTILE = ["1Z99\x009AA1", "\ud800\udfff1Z999", "1Z999\ud800", "²²²²²", "１２３４５６７８", "٣٣٣٣٣٣", "ßßßß", "ﬁﬁﬁﬁ",
           "1Z999AA1" * 63, "A" * 500, "A" * 65, "1Z999/AA1", "<b>1Z999AA1</b>"]


def test_hostile_numbers_are_refused_cleanly_in_both_forms(account, staff):
    """NUL, lone surrogates, Unicode digits (no carrier prints ²), letters that upper-case into
    others (ß → SS), over-long text and markup: each is a 422 naming the field, nothing stored."""
    ret = return_with_tracking(account, None)
    answers = {}
    for number in HOSTILE:
        encoded = "tracking_number=" + "".join(  # lone surrogates cannot be encoded by the client: send raw
            f"%{b:02X}" for b in number.encode("utf-8", "surrogatepass"))
        for form, response in (
                ("portal", portal_tracking(staff, account, ret, None, data=encoded,
                                           content_type="application/x-www-form-urlencoded")),
                ("staff", staff.post(f"/dashboard/returns/{ret.id}/tracking", data=encoded,
                                     content_type="application/x-www-form-urlencoded"))):
            answers[(number[:12], form)] = response.status_code
            assert "tracking number" in response.get_data(as_text=True).lower()
    assert {key: code for key, code in answers.items() if code != 422} == {}
    assert reload(ret).tracking_number is None


def test_a_submission_that_lost_the_race_gets_the_same_clear_refusal(account, client, monkeypatch):
    """Two submissions checking at once both see the number free; the database's unique index
    refuses the second write, and the shopper reads the same refusal, with nothing written."""
    from app.services import tracking_numbers

    first, second = return_with_tracking(account, NUMBER), return_with_tracking(account, None)
    real, calls = tracking_numbers.holders, []

    def sees_nothing_the_first_time(*args, **kwargs):
        calls.append(args)
        return [] if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(tracking_numbers, "holders", sees_nothing_the_first_time)
    refused = portal_tracking(client, account, second, NUMBER)
    assert refused.status_code == 422 and TAKEN in refused.get_data(as_text=True)
    assert len(calls) >= 2  # the refusal came from the database, not from the first check
    assert reload(second).tracking_number is None and reload(first).tracking_number == NUMBER
    assert db.session.scalar(select(func.count()).select_from(ReturnEvent).where(
        ReturnEvent.return_id == second.id, ReturnEvent.kind == "tracking")) == 0


def test_a_scan_moves_the_return_holding_the_number_not_a_cancelled_one_that_had_it(account, client):
    cancelled = return_with_tracking(account, NUMBER, status="CANCELLED")  # the parcel that never went
    holder = return_with_tracking(account, NUMBER)
    assert send_generic(client, connect(account, "generic"), NUMBER, "in_transit").status_code == 200
    event = db.session.scalar(select(TrackingEvent))
    assert event.return_id == holder.id
    assert reload(holder).status == "IN_TRANSIT" and reload(holder).tracking_state == "IN_TRANSIT"
    assert reload(cancelled).tracking_state is None


def test_a_returns_carrier_state_never_comes_from_events_attached_to_another(account, client):
    """A's parcel was delivered and A closed; B later carries the same (reused) number. B's first
    scan must not make B delivered because A's parcel was."""
    generic = connect(account, "generic")
    first = return_with_tracking(account, NUMBER)
    send_generic(client, generic, NUMBER, "delivered", event_id="a-delivered")
    assert reload(first).status == "RECEIVED"
    first.status = "CLOSED"
    db.session.commit()
    second = return_with_tracking(account, None)
    assert portal_tracking(client, account, second, NUMBER).status_code == 303
    send_generic(client, generic, NUMBER, "label_created", event_id="b-label")
    second = reload(second)
    assert second.tracking_state == "LABEL_CREATED" and second.status == "OPEN"
    assert {e.return_id for e in db.session.scalars(select(TrackingEvent))} == {first.id, second.id}


def test_events_for_a_number_two_old_returns_share_are_parked_for_staff(account, staff):
    """Rows from before the rule (the migration marks them `tracking_shared`): a scan moves
    neither; staff see both returns named and attach the parcel to the right one."""
    first = return_with_tracking(account, NUMBER, tracking_shared=True)
    second = return_with_tracking(account, NUMBER, tracking_shared=True)
    answer = send_generic(staff, connect(account, "generic"), NUMBER, "in_transit").json
    assert answer["parked"] == 1 and answer["stored"] == 1
    assert reload(first).status == reload(second).status == "OPEN"
    assert reload(first).tracking_state is None and reload(second).tracking_state is None
    page = staff.get("/dashboard/tracking").get_data(as_text=True)
    assert f"On {first.rma_number}, {second.rma_number}: attach it to the right one." in page
    detail = staff.get(f"/dashboard/returns/{first.id}").get_data(as_text=True)
    assert second.rma_number in detail and "carries the same tracking number" in detail
    event = db.session.scalar(select(TrackingEvent))
    attached = staff.post(f"/dashboard/tracking/events/{event.id}/attach", data={f"e{event.id}-rma": first.rma_number})
    assert attached.status_code == 303
    assert reload(first).status == "IN_TRANSIT" and reload(second).status == "OPEN"
    assert reload(second).tracking_state is None
    # Staff correct the wrong one: the number is then the other's alone, and the flag goes.
    assert staff_tracking(staff, second, "JJD0099887766").status_code == 303
    assert "carries the same tracking number" not in staff.get(f"/dashboard/returns/{first.id}").get_data(as_text=True)


def test_staff_cannot_attach_a_parked_number_to_a_return_when_another_holds_it(account, staff):
    from app.services.tracking import TrackingRefused, attach_parked_event

    send_generic(staff, connect(account, "generic"), NUMBER, "in_transit")
    event = db.session.scalar(select(TrackingEvent))
    holder = return_with_tracking(account, NUMBER, status="PROCESSED")  # got the number after the scan
    other = return_with_tracking(account, None)
    with pytest.raises(TrackingRefused, match=f"Return {holder.rma_number} already carries"):
        attach_parked_event(account, event.id, other.id, "staff@example.com")
    assert reload(other).tracking_number is None

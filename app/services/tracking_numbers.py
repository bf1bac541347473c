"""A return's tracking number: how numbers are compared, and one parcel per return.

A number is kept as carriers compare it: letters and digits only, upper case (people type it
with spaces and dashes). While a return holds its number (HOLDS_TRACKING: until it is closed or
cancelled) no other return of the store may carry it, or one carrier scan would move, and under
First scan refund, every return that carries it. The check here gives the clear refusal; the
partial unique index `uq_returns_account_open_tracking` makes it hold when two submissions race.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain import returns as states
from app.domain.returns import ReturnRefused
from app.domain.vocabulary import ReturnStatus
from app.extensions import db
from app.models import Return

# The longest tracking number kept (the column is String(64)).
TRACKING_MAX = 64
_PRINTED = re.compile(rf"[A-Za-z0-9]{{4,{TRACKING_MAX}}}")
TAKEN_FOR_CUSTOMER = ("This tracking number is already used for another return. Check the number on your "
                      "shipping label; if you sent several returns in one parcel, please contact the shop.")


class TrackingNumberTaken(ReturnRefused):
    """Another return of the store holds the number; str() is what the customer reads (it never
    names the other return), `for_staff` names it."""

    def __init__(self, number: str, holder: Return):
        super().__init__(TAKEN_FOR_CUSTOMER)
        self.number, self.holder_rma = number, holder.rma_number
        self.for_staff = (f"Return {holder.rma_number} already carries tracking number {number}: one parcel "
                          "can only move one return. Correct the number there first if it is wrong.")


def _compact(raw: str | None) -> str:
    """The number without white space and dashes (any Unicode dash: labels are copied from PDFs)."""
    return "".join(c for c in "".join((raw or "").split()) if unicodedata.category(c) != "Pd")


def normalise_tracking(raw: str | None) -> str:
    """The number as carriers compare it: no spaces or dashes, upper case."""
    return _compact(raw).upper()


def checked_number(raw: str | None) -> str:
    """The normalised number, or ReturnRefused: 4 to TRACKING_MAX ASCII letters and digits (a
    Unicode digit such as ² is no carrier's, and upper-casing ß or ﬁ would invent letters)."""
    compact = _compact(raw)
    if not _PRINTED.fullmatch(compact):
        raise ReturnRefused("Enter the tracking number as printed on the label (letters and digits).")
    return compact.upper()


def holders(account_id: int, number: str, *, besides: int | None = None) -> list[Return]:
    """The account's returns that hold `number` (oldest first), other than return `besides`."""
    query = select(Return).where(Return.account_id == account_id, Return.tracking_number == number,
                                 Return.status.in_(states.HOLDS_TRACKING)).order_by(Return.id)
    if besides is not None:
        query = query.where(Return.id != besides)
    return list(db.session.scalars(query))


def also_carried_by(ret: Return) -> list[str]:
    """RMA numbers of the other returns holding this return's number (only rows written before
    numbers were unique can share one): staff see them, and their carrier events are parked."""
    if not ret.tracking_number or ret.status not in states.HOLDS_TRACKING:
        return []
    return [other.rma_number for other in holders(ret.account_id, ret.tracking_number, besides=ret.id)]


def set_tracking(ret: Return, raw_number: str, actor: str | None) -> str:
    """Add or correct the parcel's tracking number while the return is OPEN (the customer). A
    number another return holds is refused, and the attempt is noted in this return's timeline
    for staff (customers do not see it)."""
    if ret.status != ReturnStatus.OPEN:
        raise states.TransitionRefused("The tracking number can only be changed before the parcel is scanned.")
    try:
        return store_tracking(ret, raw_number, actor)
    except TrackingNumberTaken as taken:
        last = ret.events[-1] if ret.events else None
        if last is not None and last.kind == "tracking_refused" and (last.data or {}).get("number") == taken.number:
            raise  # the same attempt again (a reload, a double click): noted once
        ret.add_event("tracking_refused", f"Tracking number {taken.number} refused: return {taken.holder_rma} "
                      "already carries it.", actor, data={"number": taken.number, "holder": taken.holder_rma})
        db.session.commit()
        raise


def store_tracking(ret: Return, raw_number: str, actor: str | None) -> str:
    """Check and store a tracking number (the caller checked the return may still change it);
    carrier events already parked for that number are then applied to the return. Raises
    ReturnRefused for a malformed number, TrackingNumberTaken for one another return holds."""
    number = checked_number(raw_number)
    if number == ret.tracking_number:
        return number
    refuse_if_held(ret, number)
    previous = ret.tracking_number
    # The timeline entry first: loading the timeline would flush the new number early, out of
    # reach of commit_number's refusal.
    ret.add_event("tracking", f"Tracking number {'changed to' if previous else 'added:'} {number}.",
                  actor, data={"previous": previous} if previous else None)
    ret.tracking_number, ret.tracking_shared = number, False
    commit_number(ret, number)
    from app.services.tracking import apply_parked_events_for  # a cycle: tracking imports this module

    # The carrier may have scanned the parcel before its number was typed in.
    apply_parked_events_for(ret)
    return number


def refuse_if_held(ret: Return, number: str) -> None:
    """TrackingNumberTaken when another return of the store holds `number`."""
    taken = holders(ret.account_id, number, besides=ret.id)
    if taken:
        raise TrackingNumberTaken(number, taken[0])


def commit_number(ret: Return, number: str) -> None:
    """Commit a new number; a submission that lost a race to another return (the unique index
    refused it) becomes the same clear refusal as one that came second, with nothing written."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        refuse_if_held(ret, number)
        raise

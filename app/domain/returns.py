"""The return state machine and when the retailer's return action fires (DESIGN §5). Pure."""
from app.domain.vocabulary import ReturnAction, ReturnStatus

# The lifecycle, in order (ReturnStatus declares it so); CANCELLED and DECLINED are off to the side.
FORWARD = tuple(status for status in ReturnStatus if status not in (ReturnStatus.CANCELLED, ReturnStatus.DECLINED))
# A return awaiting review goes only to OPEN (approved) or DECLINED: it never skips approval.
IN_REVIEW = ReturnStatus.REQUESTED
# A return holds its parcel's tracking number from approval until it is closed or cancelled:
# carrier events may still come for it and it is still being handled. While it holds the number,
# no other return of the store may carry it (one parcel refunds one return). A return awaiting
# review or declined has no parcel (the shopper sends nothing), so it holds none.
HOLDS_TRACKING = FORWARD[FORWARD.index(ReturnStatus.OPEN):FORWARD.index(ReturnStatus.CLOSED)]
# Statuses in which nothing more happens to a return.
ENDED = (ReturnStatus.CLOSED, ReturnStatus.CANCELLED, ReturnStatus.DECLINED)
# Shopify's limit on a decline note (2026-04 schema ``ReturnDeclineRequestInput.declineNote``:
# "Maximum length: 500 characters").
DECLINE_NOTE_MAX = 500

# The return action names the state whose entry (or any later one) issues the options.
ACTION_STATES = {ReturnAction.FIRST_SCAN: ReturnStatus.IN_TRANSIT, ReturnAction.PROCESSING: ReturnStatus.PROCESSED,
                 ReturnAction.MANUAL: ReturnStatus.CLOSED}

# RMA numbers count per store from here: a store's first return is R-1001.
RMA_SEQ_START = 1000


def rma_number(seq: int) -> str:
    """The RMA number shoppers and staff see for a store's ``seq``-th number."""
    return f"R-{seq}"


class TransitionRefused(ValueError):
    """A status change the lifecycle does not allow; the message says why."""


class ReturnRefused(ValueError):
    """A return, or a change to one, that the rules do not allow; the message is what the person
    who asked (the customer or staff) reads."""


def can_move(current: str, target: str) -> bool:
    """Forward only (skips allowed); CANCELLED only from OPEN or IN_TRANSIT; a return awaiting
    review only to OPEN (approved) or DECLINED; DECLINED is final."""
    if current == IN_REVIEW:
        return target in (ReturnStatus.OPEN, ReturnStatus.DECLINED)
    if target == ReturnStatus.DECLINED or current == ReturnStatus.DECLINED:
        return False
    if target == ReturnStatus.CANCELLED:
        return current in (ReturnStatus.OPEN, ReturnStatus.IN_TRANSIT)
    if current == ReturnStatus.CANCELLED or target not in FORWARD or current not in FORWARD:
        return False
    return FORWARD.index(target) > FORWARD.index(current)


def check_move(current: str, target: str) -> None:
    """Raise TransitionRefused with a reason when `current → target` is not allowed."""
    if can_move(current, target):
        return
    if current == ReturnStatus.CANCELLED:
        raise TransitionRefused("This return was cancelled.")
    if current == ReturnStatus.DECLINED:
        raise TransitionRefused("This return was declined.")
    if current == IN_REVIEW:
        raise TransitionRefused("This return is awaiting review: approve or decline it first.")
    if target == ReturnStatus.DECLINED:
        raise TransitionRefused("Only a return awaiting review can be declined.")
    if target == ReturnStatus.CANCELLED:
        raise TransitionRefused("A return can only be cancelled before it is received.")
    raise TransitionRefused(
        f"This return is already {ReturnStatus.label_of(current).lower()}; it cannot go back to "
        f"{ReturnStatus.label_of(target).lower()}.")


def action_fires(return_action: str, status: str) -> bool:
    """Whether a return in `status` has reached the state its action names (or a later one)."""
    if status in (ReturnStatus.CANCELLED, ReturnStatus.DECLINED):
        return False
    trigger = ACTION_STATES[return_action]
    return FORWARD.index(status) >= FORWARD.index(trigger)

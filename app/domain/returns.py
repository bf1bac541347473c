"""The return state machine and when the retailer's return action fires (DESIGN §5). Pure."""

OPEN, IN_TRANSIT, RECEIVED, PROCESSED, CLOSED, CANCELLED = (
    "OPEN", "IN_TRANSIT", "RECEIVED", "PROCESSED", "CLOSED", "CANCELLED")
FORWARD = (OPEN, IN_TRANSIT, RECEIVED, PROCESSED, CLOSED)
# A return holds its parcel's tracking number until it is closed or cancelled: carrier events
# may still come for it and it is still being handled. While it holds the number, no other
# return of the store may carry it (one parcel refunds one return).
HOLDS_TRACKING = (OPEN, IN_TRANSIT, RECEIVED, PROCESSED)
STATUS_LABELS = {OPEN: "Open", IN_TRANSIT: "In transit", RECEIVED: "Received", PROCESSED: "Processed",
                 CLOSED: "Closed", CANCELLED: "Cancelled"}

# The return action names the state whose entry (or any later one) issues the options.
ACTION_STATES = {"first_scan": IN_TRANSIT, "processing": PROCESSED, "manual": CLOSED}

# RMA numbers count per store from here: a store's first return is R-1001.
RMA_SEQ_START = 1000


def rma_number(seq: int) -> str:
    """The RMA number shoppers and staff see for a store's ``seq``-th number."""
    return f"R-{seq}"


class TransitionRefused(ValueError):
    """A status change the lifecycle does not allow; the message says why."""


def can_move(current: str, target: str) -> bool:
    """Forward only (skips allowed); CANCELLED only from OPEN or IN_TRANSIT."""
    if target == CANCELLED:
        return current in (OPEN, IN_TRANSIT)
    if current == CANCELLED or target not in FORWARD or current not in FORWARD:
        return False
    return FORWARD.index(target) > FORWARD.index(current)


def check_move(current: str, target: str) -> None:
    """Raise TransitionRefused with a reason when `current → target` is not allowed."""
    if can_move(current, target):
        return
    if current == CANCELLED:
        raise TransitionRefused("This return was cancelled.")
    if target == CANCELLED:
        raise TransitionRefused("A return can only be cancelled before it is received.")
    raise TransitionRefused(
        f"This return is already {STATUS_LABELS.get(current, current).lower()}; it cannot go back to "
        f"{STATUS_LABELS.get(target, target).lower()}.")


def action_fires(return_action: str, status: str) -> bool:
    """Whether a return in `status` has reached the state its action names (or a later one)."""
    if status == CANCELLED:
        return False
    trigger = ACTION_STATES[return_action]
    return FORWARD.index(status) >= FORWARD.index(trigger)

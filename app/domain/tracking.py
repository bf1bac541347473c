"""Carrier states and how each provider's statuses map onto them (reference/tracking-providers.md
§1–§3). Pure: plain strings in, plain strings out.

Four ranked states describe how far the parcel got; EXCEPTION is a flag beside them (it never
moves the rank back) and UNKNOWN is kept for the record but changes nothing.
"""
from __future__ import annotations

from collections.abc import Iterable

from app.domain.vocabulary import ReturnStatus

LABEL_CREATED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED = (
    "LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED")
EXCEPTION, UNKNOWN = "EXCEPTION", "UNKNOWN"
RANKED = (LABEL_CREATED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED)
STATES = (*RANKED, EXCEPTION, UNKNOWN)
STATE_LABELS = {LABEL_CREATED: "Label created", IN_TRANSIT: "In transit", OUT_FOR_DELIVERY: "Out for delivery",
                DELIVERED: "Delivered", EXCEPTION: "Exception", UNKNOWN: "Unknown"}


def rank(state: str | None) -> int:
    """1 (label created) … 4 (delivered); 0 for EXCEPTION, UNKNOWN and nothing."""
    return RANKED.index(state) + 1 if state in RANKED else 0


def is_first_scan(state: str | None) -> bool:
    """A carrier has the parcel: in transit or any later state (a first DELIVERED counts too)."""
    return rank(state) >= rank(IN_TRANSIT)


def furthest(states: Iterable[str | None]) -> str | None:
    """The most advanced ranked state among `states` (None when none is ranked). Rank decides,
    never timestamps: providers send histories whose times go backwards."""
    best = None
    for state in states:
        if rank(state) > rank(best):
            best = state
    return best


def return_target(state: str | None) -> str | None:
    """The return status a carrier state leads to (DESIGN §5): in transit or out for delivery →
    IN_TRANSIT, delivered → RECEIVED; label created (and the rest) → nothing."""
    if state == DELIVERED:
        return ReturnStatus.RECEIVED
    if state in (IN_TRANSIT, OUT_FOR_DELIVERY):
        return ReturnStatus.IN_TRANSIT
    return None


# --- AfterShip: msg.tag / checkpoints[].tag, with subtags like InTransit_002 -------------------

AFTERSHIP_TAGS = {
    "Pending": UNKNOWN, "InfoReceived": LABEL_CREATED, "InTransit": IN_TRANSIT,
    "OutForDelivery": OUT_FOR_DELIVERY, "AvailableForPickup": OUT_FOR_DELIVERY, "Delivered": DELIVERED,
    "AttemptFail": EXCEPTION, "Exception": EXCEPTION, "Expired": EXCEPTION,
}
# Subtags whose meaning differs from their parent tag's. None do today; the table is where such
# an override would go (e.g. a consolidator's "InTransit_001" if first scan must mean "with the
# final carrier" — we accept it: the parcel is physically moving).
AFTERSHIP_SUBTAG_OVERRIDES: dict[str, str] = {}


def aftership_state(tag: str | None, subtag: str | None = None) -> str:
    """An AfterShip tag/subtag as our state. AfterShip keeps adding subtags (2026-07 added
    Delivered_005, Exception_016…, InTransit_011…), so an unknown subtag falls back to its parent
    (the part before the underscore), then to the tag given beside it."""
    if subtag:
        if subtag in AFTERSHIP_SUBTAG_OVERRIDES:
            return AFTERSHIP_SUBTAG_OVERRIDES[subtag]
        parent = subtag.split("_", 1)[0]
        if parent in AFTERSHIP_TAGS:
            return AFTERSHIP_TAGS[parent]
    return AFTERSHIP_TAGS.get(tag or "", UNKNOWN)


# --- EasyPost: result.status and tracking_details[].status ------------------------------------

EASYPOST_STATUSES = {
    "unknown": UNKNOWN, "pre_transit": LABEL_CREATED, "in_transit": IN_TRANSIT,
    "out_for_delivery": OUT_FOR_DELIVERY, "available_for_pickup": OUT_FOR_DELIVERY, "delivered": DELIVERED,
    "return_to_sender": EXCEPTION, "failure": EXCEPTION, "cancelled": EXCEPTION, "error": EXCEPTION,
}


def easypost_state(status: str | None) -> str:
    """An EasyPost tracker status as our state (an unlisted one is UNKNOWN, never guessed)."""
    return EASYPOST_STATUSES.get((status or "").strip().lower(), UNKNOWN)


# --- Shippo: tracking_status.status / tracking_history[].status, with substatus.code -----------

SHIPPO_STATUSES = {
    "UNKNOWN": UNKNOWN,        # also the label-stage rows of older API versions: never a scan
    "PRE_TRANSIT": LABEL_CREATED, "TRANSIT": IN_TRANSIT, "DELIVERED": DELIVERED,
    "RETURNED": EXCEPTION, "FAILURE": EXCEPTION,
}
# Substatus codes that say more than their status. Out-for-delivery is not a status of its own
# in Shippo: it is TRANSIT + out_for_delivery. Codes listed nowhere here keep their status.
SHIPPO_SUBSTATUSES = {
    "TRANSIT": {
        "out_for_delivery": OUT_FOR_DELIVERY, "pickup_available": OUT_FOR_DELIVERY,
        **dict.fromkeys(("delivery_attempted", "notice_left", "address_issue", "package_held",
                         "package_damaged", "location_inaccessible", "contact_carrier",
                         "reschedule_delivery"), EXCEPTION),
    },
    "UNKNOWN": {"other": EXCEPTION},  # the reference table lists UNKNOWN + other as an exception
}


def shippo_state(status: str | None, substatus: str | None = None) -> str:
    """A Shippo status (+ substatus code) as our state: the substatus decides where it is
    listed for that status, otherwise the status does (an unlisted status is UNKNOWN)."""
    name = (status or "").strip().upper()
    code = (substatus or "").strip().lower()
    override = SHIPPO_SUBSTATUSES.get(name, {}).get(code)
    return override or SHIPPO_STATUSES.get(name, UNKNOWN)


# --- SEKO OmniRPS returns webhook: Code --------------------------------------------------------

SEKO_CODES = {
    "RC": LABEL_CREATED,   # Return Created
    "RT": IN_TRANSIT,      # Return in Transit: the first-mile carrier collected it (first scan)
    "RDTPF": DELIVERED,    # Return Delivered to Processing Facility (carrier leg done)
    "DS": DELIVERED,       # depot scan: in SEKO's hands
    "RP": DELIVERED, "RE": DELIVERED, "RDBTC": DELIVERED,
    "RR": EXCEPTION,       # Return Rejected
}


def seko_state(code: str | None) -> str:
    """A SEKO OmniRPS event code as our state."""
    return SEKO_CODES.get((code or "").strip().upper(), UNKNOWN)


# --- Our own generic signed format: the state names themselves ---------------------------------

def generic_state(status: str | None) -> str | None:
    """`in_transit`, `IN_TRANSIT`, `in-transit`… as our state; None when it is not one of ours."""
    name = (status or "").strip().upper().replace("-", "_").replace(" ", "_")
    return name if name in STATES else None

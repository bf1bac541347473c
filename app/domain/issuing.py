"""Issuing through Shopify returns: the states, and the pure arithmetic of a Shopify return.

A Boomerang return becomes one or more Shopify returns (DESIGN §2.9). Each returned unit sits in
exactly one return line, which names a fulfillment line item; the money moves when the return is
processed; the units are disposed of then, or at receipt under First scan. Nothing here talks to
Shopify or the database: plain values in, plain values out.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from app.domain.vocabulary import Labelled

CENT = Decimal("0.01")
# ReturnLineItemInput.returnReasonNote: "Maximum length: 255 characters" (2026-04 schema).
REASON_NOTE_MAX = 255


class IssuingMethod(StrEnum):
    """How an item is issued in Shopify."""

    RETURNS = "returns"   # a Shopify return, processed (2026-12 onward)
    LEGACY = "legacy"     # refundCreate, giftCardCreate and $0 draft orders (before 2026-12)


class ShopifyReturnStatus(Labelled):
    """A Shopify return as Boomerang knows it (Shopify's own statuses plus the two before it)."""

    PENDING = "PENDING", "Planned"         # not yet created in Shopify
    OPEN = "OPEN", "Open"
    CLOSED = "CLOSED", "Closed"
    CANCELED = "CANCELED", "Cancelled"     # Shopify's spelling; ours to show
    REFUSED = "REFUSED", "Refused"         # Shopify refused to create it; the reason is kept


class Phase(StrEnum):
    """One kind of Shopify write made for a Shopify return; each is claimed before it is sent."""

    CREATE = "create"
    REMOVE = "remove"
    PROCESS = "process"
    GIFT_CARD = "gift_card"
    BONUS = "bonus"                     # the bonus credit's gift card (app.domain.bonus)
    EXCHANGE_ORDER = "exchange_order"   # separate exchange order mode: a $0 order per item
    DISPOSE = "dispose"
    CLOSE = "close"
    CANCEL = "cancel"


class CallState(StrEnum):
    """Where one claimed write stands."""

    CLAIMED = "CLAIMED"   # input stored; perhaps sent, perhaps applied: read before sending again
    DONE = "DONE"
    REFUSED = "REFUSED"   # Shopify answered with userErrors: nothing happened


class RefundState(StrEnum):
    """Money of a refund: Shopify's transactions may be pending for days, or fail."""

    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    OUTSIDE = "OUTSIDE"   # staff refunded outside Shopify and recorded it


class CreditMethod(StrEnum):
    """How a credit note reaches the customer."""

    STORE_CREDIT = "store_credit"
    GIFT_CARD = "gift_card"


class ExchangeMode(StrEnum):
    """Where an exchange is issued."""

    SHOPIFY = "shopify"            # exchange lines on the Shopify return (Shopify's exchanges)
    SEPARATE_ORDER = "separate_order"  # a $0 order, for warehouses that only ship normal orders


# Shopify's standard return reason definitions, by handle (live 2026-04 list, docs/reference/
# shopify-returns.md §6.6). A retailer's reason is matched on its words; anything else is "other".
REASON_HANDLES = (
    ("damaged-or-defective", ("faulty", "defect", "damaged", "broken")),
    ("too-small", ("too small", "small")),
    ("too-big", ("too large", "too big", "large", "big")),
    ("item-not-as-described", ("not as described", "as described")),
    ("received-the-wrong-item", ("wrong item", "wrong")),
    ("changed-my-mind", ("changed my mind", "no longer", "unwanted", "mind")),
    ("color", ("colour", "color")),
    ("style", ("style",)),
)
OTHER_REASON_HANDLE = "other-reason"


def reason_handle(reason: str) -> str:
    """The Shopify reason definition handle for one of the retailer's reasons."""
    text = " ".join(re.findall(r"[a-z]+", (reason or "").lower()))
    for handle, words in REASON_HANDLES:
        if any(re.search(rf"\b{re.escape(w)}\b", text) for w in words):
            return handle
    return OTHER_REASON_HANDLE


# The Shopify return that records, afterwards, a return's items issued the old way (flask returns
# record-legacy): never a seq the planner uses, and its marker never a prefix of a planned one's.
LEGACY_SEQ = 90


def legacy_marker(rma_number: str) -> str:
    """The marker of the Shopify return recording a return's legacy items."""
    return f"{rma_number}/legacy"


def return_marker(rma_number: str, seq: int) -> str:
    """What starts every return line note of a Shopify return: the RMA (and which of the
    return's Shopify returns it is, from the second on). A Return has no note or tag of its own
    (docs/reference/shopify-returns.md §5), so this is how a return is found again."""
    return rma_number if seq <= 1 else f"{rma_number}/{seq}"


def has_marker(note: str | None, marker: str) -> bool:
    """Whether a return line note was written for the return with this marker."""
    note = note or ""
    return note == marker or note.startswith(marker + " ")


def reason_note(marker: str, reason: str, customer_note: str | None) -> str:
    """The note of a return line: the marker first, then the reason and the customer's words,
    cut to Shopify's 255 characters (the marker always survives)."""
    text = f"{marker} · {reason}"
    if customer_note:
        text += f": {' '.join(customer_note.split())}"
    if len(text) > REASON_NOTE_MAX:
        text = text[:REASON_NOTE_MAX - 1] + "…"
    return text


@dataclass(frozen=True)
class Returnable:
    """Units of one fulfillment line item that Shopify still lets a return take."""

    fulfillment_line_item_id: int
    line_item_id: int
    quantity: int
    location_id: int | None = None


def spread(line_item_id: int, quantity: int, returnable: list[Returnable],
           taken: dict[int, int] | None = None) -> list[tuple[Returnable, int]] | None:
    """Spread ``quantity`` units of one order line over its returnable fulfillment line items,
    oldest first, after what ``taken`` (fulfillment line item id → units) already uses. Returns
    (fulfillment line item, units) pairs, or None when Shopify has fewer units returnable."""
    taken = taken if taken is not None else {}
    out, left = [], quantity
    for unit in returnable:
        if left == 0:
            break
        if unit.line_item_id != line_item_id:
            continue
        free = unit.quantity - taken.get(unit.fulfillment_line_item_id, 0)
        if free <= 0:
            continue
        use = min(free, left)
        out.append((unit, use))
        left -= use
    if left:
        return None
    for unit, use in out:
        taken[unit.fulfillment_line_item_id] = taken.get(unit.fulfillment_line_item_id, 0) + use
    return out


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` over items in proportion to ``weights``, in cents, summing exactly to the
    total (the last item takes the rounding)."""
    if not weights:
        return []
    whole = sum(weights, Decimal(0))
    if whole <= 0:
        shares = [Decimal(0)] * len(weights)
    else:
        shares = [(total * w / whole).quantize(CENT, ROUND_DOWN) for w in weights]
    shares[-1] = total - sum(shares[:-1], Decimal(0))
    return shares


def exchange_discount(variant_price: Decimal, unit_value: Decimal) -> Decimal:
    """The fixed discount on one exchanged unit so that it nets to zero against the returned
    unit's value: the difference when the new variant costs more, nothing when it costs less.
    (Each exchanged unit is its own exchange line of quantity 1, so whether Shopify applies a
    fixed amount per unit or per line — unverified — cannot matter.)"""
    return max(Decimal(0), (variant_price - unit_value).quantize(CENT))


def gift_card_code(secret: bytes, *parts) -> str:
    """A gift card code (16 letters and digits, within Shopify's 8–20) derived from ``parts``
    with a server secret: the same on every attempt, so a second giftCardCreate is refused as
    TAKEN instead of making a second card, and not guessable from anything stored in clear."""
    digest = hmac.new(secret, ":".join(str(p) for p in parts).encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:16]

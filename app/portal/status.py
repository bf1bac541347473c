"""What the customer is told about a return: the status timeline and the confirmation email."""
from dataclasses import dataclass
from datetime import datetime

from app.crypto import decrypt_secret
from app.domain import returns as states
from app.domain.formatting import format_money
from app.domain.vocabulary import ItemResolution, Option, ReturnStatus
from app.models import Account, Return
from app.services.mail import render_email

# Timeline entries a customer may read; staff-only entries (decision traces, Shopify calls) stay
# on the dashboard.
CUSTOMER_EVENT_KINDS = {"created", "tracking", "cancelled", "email", "status", "issued", "rules_pending", "approved",
                        "declined", "label", "exchange_shipped"}


@dataclass(frozen=True)
class Step:
    """One milestone: done when `at` is set; `current` marks where the return is now."""

    label: str
    at: datetime | None
    done: bool = False
    current: bool = False
    detail: str | None = None


def timeline(ret: Return) -> list[Step]:
    """Created → in transit → received → processed (→ closed), or created → cancelled."""
    if ret.status == ReturnStatus.CANCELLED:
        return [Step("Return started", ret.created_at, done=True),
                Step("Cancelled", ret.cancelled_at, done=True, current=True,
                     detail="Nothing will be refunded or exchanged.")]
    if ret.status == ReturnStatus.DECLINED:
        return [Step("Return requested", ret.created_at, done=True),
                Step("Declined by the shop", ret.reviewed_at, done=True, current=True,
                     detail="Nothing will be refunded, credited or exchanged.")]
    if ret.status == ReturnStatus.REQUESTED:
        return [Step("Return requested", ret.created_at, done=True),
                Step("Awaiting review", None, done=False, current=True,
                     detail="The shop checks your return before you send it."),
                *([] if _kept(ret) else [Step("Send it back", None, done=False)])]
    if _kept(ret) and ret.status == ReturnStatus.OPEN:
        # Keep item rules: no parcel, so no carrier or receipt steps; what is issued shows per item.
        return [Step("Return started", ret.created_at, done=True, current=True,
                     detail="Keep the items: there is nothing to send back.")]
    milestones = [
        (ReturnStatus.OPEN, "Return started", ret.created_at,
         "Send the items back with your RMA number in the parcel."),
        (ReturnStatus.IN_TRANSIT, "On its way", ret.in_transit_at, "The carrier has your parcel."),
        (ReturnStatus.RECEIVED, "Received", ret.received_at, "The shop has your parcel."),
        (ReturnStatus.PROCESSED, "Processed", ret.processed_at, _processed_detail(ret)),
    ]
    if ret.status == ReturnStatus.CLOSED:
        milestones.append((ReturnStatus.CLOSED, "Completed", ret.closed_at, None))
    reached = states.FORWARD.index(ret.status) if ret.status in states.FORWARD else 0
    steps = []
    for status, label, at, detail in milestones:
        index = states.FORWARD.index(status)
        done = index <= reached
        # A skipped step (received without a carrier scan) shows as done, without a date.
        steps.append(Step(label, at if done else None, done=done, current=index == reached,
                          detail=detail if index == reached else None))
    return steps


def _kept(ret) -> bool:
    """Every item is kept by the shopper (Return.keep_only, read from the items it holds)."""
    return bool(ret.items) and all(getattr(item, "keep_item", False) for item in ret.items)


def _processed_detail(ret: Return) -> str:
    """Under First scan the options went out long before processing: say so only while they go."""
    if any(item.resolution in (ItemResolution.DECIDED, ItemResolution.ISSUING) for item in ret.items):
        return "Your refund, credit note or exchange is being issued."
    return "The shop has checked your items."


def item_outcome(item, currency: str, show_code: bool = False) -> str | None:
    """What the customer got for an item, once issued (or that the shop is on it). Only words for
    the shopper: no Shopify error codes, no staff notes (how the shop refunded outside Shopify).
    A gift card's full code only with `show_code` (its first showing); else its last characters
    and where the full code was sent."""
    if getattr(item, "refund_state", None) == "OUTSIDE" and item.option == Option.REFUND:
        # Recorded by staff: the money has moved, whatever Shopify still has to record.
        amount = getattr(item, "outside_refund_amount", None) or item.issued_amount
        return (f"Refunded {format_money(amount, currency)} by the shop" if amount is not None
                else "Refunded by the shop")
    if item.resolution == ItemResolution.FAILED:
        # The reason is Shopify's and for staff; the customer needs to know someone is on it.
        return "The shop is sorting this item out and will be in touch."
    if item.resolution != ItemResolution.ISSUED:
        return None
    if item.option == Option.REFUND:
        if getattr(item, "refund_state", None) == "PENDING":
            value = f" of {format_money(item.issued_amount, currency)}" if item.issued_amount is not None else ""
            return f"Refund{value} sent to your payment provider — it may take a few days"
        return (f"Refunded {format_money(item.issued_amount, currency)}" if item.issued_amount is not None
                else "Refunded")
    if item.option == Option.CREDIT:
        if getattr(item, "credit_method", None) == "store_credit":
            value = f" of {format_money(item.issued_amount, currency)}" if item.issued_amount is not None else ""
            return f"Store credit{value} added to your account"
        code = decrypt_secret(item.gift_card_code_encrypted) if item.gift_card_code_encrypted else None
        value = f" worth {format_money(item.issued_amount, currency)}" if item.issued_amount is not None else ""
        if code and show_code:
            return f"Gift card{value}: code {code} (shown here this once; also sent by email)"
        if code:
            return f"Gift card{value}: code ending {code[-4:]}. {_where_code_went(item)}"
        ending = f" (code ending {item.gift_card_last_characters})" if item.gift_card_last_characters else ""
        return f"Gift card sent{value}{ending}"
    if item.option == Option.EXCHANGE:
        ret = getattr(item, "return_", None)
        if item.exchange_order_name and ret is not None and item.exchange_order_id == ret.shopify_order_id:
            return f"Exchange confirmed on your order {item.exchange_order_name}"
        return f"Exchange order {item.exchange_order_name}" if item.exchange_order_name else "Exchange sent"
    return "Done"


def _where_code_went(item) -> str:
    """Where the shopper finds the full code once the status page no longer shows it."""
    ret = getattr(item, "return_", None)
    address = getattr(ret, "customer_email", None)
    if address:
        return f"The full code was sent by email to {mask_email(address)}."
    return "Ask the shop for the full code."


def mask_email(address: str) -> str:
    """"jo@example.com" → "j…@example.com": enough to recognise one's own address, not to learn it."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}…{at}{domain}" if at else f"{address[:1]}…"


# What an "issued" timeline entry says to the shopper, by option: the entry's own words are for
# staff (Shopify's wording, a refund's pending state, how the shop refunded outside Shopify).
ISSUED_WORDS = {Option.REFUND: "refund issued", Option.CREDIT: "credit note issued",
                Option.EXCHANGE: "exchange confirmed"}


@dataclass(frozen=True)
class CustomerEvent:
    """One entry of the shopper's history."""

    id: int | None
    created_at: datetime
    message: str


def customer_events(ret: Return) -> list[CustomerEvent]:
    """The timeline entries the customer sees, newest first, in words meant for them."""
    titles = {item.id: item.title for item in ret.items}
    shown = []
    for event in ret.events:
        if event.kind not in CUSTOMER_EVENT_KINDS:
            continue
        message = (event.data or {}).get("customer_message") or event.message
        if event.kind == "issued":
            data = event.data or {}
            words = ISSUED_WORDS.get(data.get("option"), "issued")
            title = titles.get(data.get("item_id"))
            message = f"{title}: {words}." if title else f"{words.capitalize()}."
        shown.append(CustomerEvent(event.id, event.created_at, message))
    return sorted(shown, key=lambda e: (e.created_at, e.id or 0), reverse=True)


def compose_confirmation(account: Account, ret: Return, status_url: str) -> tuple[str, str, str]:
    """(subject, text, html) of the confirmation email; the link opens the status page."""
    context = {"account": account, "ret": ret, "status_url": status_url,
               "rules_mode": ret.option_source == "rules"}
    subject = f"Your return {ret.rma_number} for order {ret.order_name}"
    return (subject, *render_email("confirmation", **context))


def bonus_outcome(item, currency: str) -> str | None:
    """The item's bonus credit for the shopper: promised, or issued (its code's last characters;
    the full code went by email)."""
    if not item.bonus_amount or item.bonus_state == "FAILED":
        return None
    worth = format_money(item.bonus_amount, currency)
    if item.bonus_state == "ISSUED" and item.bonus_code_encrypted:
        code = decrypt_secret(item.bonus_code_encrypted)
        return f"Bonus gift card worth {worth}: code ending {code[-4:]} (sent by email)"
    return f"Bonus of {worth} as a gift card, once this item is issued"


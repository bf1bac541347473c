"""What the customer is told about a return: the status timeline and the confirmation email."""
from dataclasses import dataclass
from datetime import datetime

from app.crypto import decrypt_secret
from app.domain import returns as states
from app.domain.vocabulary import ItemResolution, Option, ReturnStatus
from app.i18n import N_, current_locale, gettext as _, rendering_in
from app.models import Account, Return
from app.shopper_words import money
from app.services.mail import render_email

# Timeline entries a customer may read; staff-only entries (decision traces, Shopify calls) stay
# on the dashboard.
CUSTOMER_EVENT_KINDS = {"created", "tracking", "cancelled", "email", "status", "issued", "rules_pending", "approved",
                        "declined", "label", "exchange_shipped"}


@dataclass(frozen=True)
class Step:
    """One milestone: done when `at` is set; `current` marks where the return is now. The label and
    detail are messages (English source), translated where they are shown."""

    label: str
    at: datetime | None
    done: bool = False
    current: bool = False
    detail: str | None = None


def timeline(ret: Return) -> list[Step]:
    """Created → in transit → received → processed (→ closed), or created → cancelled."""
    if ret.status == ReturnStatus.CANCELLED:
        return [Step(N_("Return started"), ret.created_at, done=True),
                Step(N_("Cancelled"), ret.cancelled_at, done=True, current=True,
                     detail=N_("Nothing will be refunded or exchanged."))]
    if ret.status == ReturnStatus.DECLINED:
        return [Step(N_("Return requested"), ret.created_at, done=True),
                Step(N_("Declined by the shop"), ret.reviewed_at, done=True, current=True,
                     detail=N_("Nothing will be refunded, credited or exchanged."))]
    if ret.status == ReturnStatus.REQUESTED:
        return [Step(N_("Return requested"), ret.created_at, done=True),
                Step(N_("Awaiting review"), None, done=False, current=True,
                     detail=N_("The shop checks your return before you send it.")),
                *([] if _kept(ret) else [Step(N_("Send it back"), None, done=False)])]
    if _kept(ret) and ret.status == ReturnStatus.OPEN:
        # Keep item rules: no parcel, so no carrier or receipt steps; what is issued shows per item.
        return [Step(N_("Return started"), ret.created_at, done=True, current=True,
                     detail=N_("Keep the items: there is nothing to send back."))]
    milestones = [
        (ReturnStatus.OPEN, N_("Return started"), ret.created_at,
         N_("Send the items back with your RMA number in the parcel.")),
        (ReturnStatus.IN_TRANSIT, N_("On its way"), ret.in_transit_at, N_("The carrier has your parcel.")),
        (ReturnStatus.RECEIVED, N_("Received"), ret.received_at, N_("The shop has your parcel.")),
        (ReturnStatus.PROCESSED, N_("Processed"), ret.processed_at, _processed_detail(ret)),
    ]
    if ret.status == ReturnStatus.CLOSED:
        milestones.append((ReturnStatus.CLOSED, N_("Completed"), ret.closed_at, None))
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
        return N_("Your refund, credit note or exchange is being issued.")
    return N_("The shop has checked your items.")


def item_outcome(item, currency: str, show_code: bool = False) -> str | None:
    """What the customer got for an item, once issued (or that the shop is on it), in the
    shopper's language. Only words for the shopper: no Shopify error codes, no staff notes (how the
    shop refunded outside Shopify). A gift card's full code only with `show_code` (its first
    showing); else its last characters and where the full code was sent."""
    amount = getattr(item, "issued_amount", None)
    if getattr(item, "refund_state", None) == "OUTSIDE" and item.option == Option.REFUND:
        # Recorded by staff: the money has moved, whatever Shopify still has to record.
        amount = getattr(item, "outside_refund_amount", None) or amount
        return (_("Refunded %(amount)s by the shop", amount=money(amount, currency)) if amount is not None
                else _("Refunded by the shop"))
    if item.resolution == ItemResolution.FAILED:
        # The reason is Shopify's and for staff; the customer needs to know someone is on it.
        return _("The shop is sorting this item out and will be in touch.")
    if item.resolution != ItemResolution.ISSUED:
        return None
    worth = money(amount, currency) if amount is not None else None
    if item.option == Option.REFUND:
        if getattr(item, "refund_state", None) == "PENDING":
            return (_("Refund of %(amount)s sent to your payment provider — it may take a few days", amount=worth)
                    if worth else _("Refund sent to your payment provider — it may take a few days"))
        return _("Refunded %(amount)s", amount=worth) if worth else _("Refunded")
    if item.option == Option.CREDIT:
        return _credit_outcome(item, worth, show_code)
    if item.option == Option.EXCHANGE:
        ret = getattr(item, "return_", None)
        if item.exchange_order_name and ret is not None and item.exchange_order_id == ret.shopify_order_id:
            return _("Exchange confirmed on your order %(order)s", order=item.exchange_order_name)
        return (_("Exchange order %(order)s", order=item.exchange_order_name) if item.exchange_order_name
                else _("Exchange sent"))
    return _("Done")


def _credit_outcome(item, worth: str | None, show_code: bool) -> str:
    if getattr(item, "credit_method", None) == "store_credit":
        return (_("Store credit of %(amount)s added to your account", amount=worth) if worth
                else _("Store credit added to your account"))
    code = decrypt_secret(item.gift_card_code_encrypted) if item.gift_card_code_encrypted else None
    card = _("Gift card worth %(amount)s", amount=worth) if worth else _("Gift card")
    if code and show_code:
        return _("%(card)s: code %(code)s (shown here this once; also sent by email)", card=card, code=code)
    if code:
        return _("%(card)s: code ending %(ending)s. %(where)s", card=card, ending=code[-4:],
                 where=_where_code_went(item))
    if item.gift_card_last_characters:
        return (_("Gift card sent worth %(amount)s (code ending %(ending)s)", amount=worth,
                  ending=item.gift_card_last_characters) if worth
                else _("Gift card sent (code ending %(ending)s)", ending=item.gift_card_last_characters))
    return _("Gift card sent worth %(amount)s", amount=worth) if worth else _("Gift card sent")


def _where_code_went(item) -> str:
    """Where the shopper finds the full code once the status page no longer shows it."""
    ret = getattr(item, "return_", None)
    address = getattr(ret, "customer_email", None)
    if address:
        return _("The full code was sent by email to %(email)s.", email=mask_email(address))
    return _("Ask the shop for the full code.")


def mask_email(address: str) -> str:
    """"jo@example.com" → "j…@example.com": enough to recognise one's own address, not to learn it."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}…{at}{domain}" if at else f"{address[:1]}…"


# What an "issued" timeline entry says to the shopper, by option: the entry's own words are for
# staff (Shopify's wording, a refund's pending state, how the shop refunded outside Shopify).
ISSUED_WORDS = {Option.REFUND: N_("refund issued"), Option.CREDIT: N_("credit note issued"),
                Option.EXCHANGE: N_("exchange confirmed")}
# In another language than English, what each kind of entry says (its English words are built
# with the details staff also read, and kept as they were written).
KIND_WORDS = {"created": N_("Return started."), "tracking": N_("Tracking updated."),
              "cancelled": N_("Return cancelled."), "email": N_("We sent you an email about this return."),
              "status": N_("Status updated: %(status)s."), "rules_pending": N_("Your items are being decided."),
              "approved": N_("The shop approved your return: you can send it now."),
              "declined": N_("The shop declined your return."),
              "label": N_("Your prepaid return label is ready to print.")}


@dataclass(frozen=True)
class CustomerEvent:
    """One entry of the shopper's history."""

    id: int | None
    created_at: datetime
    message: str


def customer_events(ret: Return) -> list[CustomerEvent]:
    """The timeline entries the customer sees, newest first, in words meant for them (in the
    shopper's language)."""
    titles = {item.id: item.title for item in ret.items}
    english = current_locale() == "en"
    shown = []
    for event in ret.events:
        if event.kind not in CUSTOMER_EVENT_KINDS:
            continue
        data = event.data or {}
        message = data.get("customer_message") or event.message
        if event.kind == "issued":
            words = _(ISSUED_WORDS.get(data.get("option"), N_("issued")))
            title = titles.get(data.get("item_id"))
            message = _("%(item)s: %(words)s.", item=title, words=words) if title else \
                _("%(words)s.", words=words[:1].upper() + words[1:])
        elif not english:
            label = ReturnStatus.label_of(data.get("status"), "")
            status = _(label) if label else ""
            message = _(KIND_WORDS[event.kind], status=status) if event.kind == "status" else _(KIND_WORDS[event.kind])
        shown.append(CustomerEvent(event.id, event.created_at, message))
    return sorted(shown, key=lambda e: (e.created_at, e.id or 0), reverse=True)


def compose_confirmation(account: Account, ret: Return, status_url: str) -> tuple[str, str, str]:
    """(subject, text, html) of the confirmation email, in the return's language; the link opens
    the status page."""
    context = {"account": account, "ret": ret, "status_url": status_url,
               "rules_mode": ret.option_source == "rules"}
    with rendering_in(ret.locale, account.id):
        subject = _("Your return %(rma)s for order %(order)s", rma=ret.rma_number, order=ret.order_name)
    return (subject, *render_email("confirmation", locale=ret.locale, **context))


def bonus_outcome(item, currency: str) -> str | None:
    """The item's bonus credit for the shopper: promised, or issued (its code's last characters;
    the full code went by email)."""
    if not item.bonus_amount or item.bonus_state == "FAILED":
        return None
    worth = money(item.bonus_amount, currency)
    if item.bonus_state == "ISSUED" and item.bonus_code_encrypted:
        code = decrypt_secret(item.bonus_code_encrypted)
        return _("Bonus gift card worth %(amount)s: code ending %(ending)s (sent by email)", amount=worth,
                 ending=code[-4:])
    return _("Bonus of %(amount)s as a gift card, once this item is issued", amount=worth)

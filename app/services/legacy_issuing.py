"""Items issued the way Boomerang issued before Shopify returns (refundCreate, giftCardCreate,
$0 draft orders): those already in flight when the change came finish on that method (DESIGN
§2.9, migration 0009). Every new item is issued through a Shopify return
(app/services/shopify_returns.py).

1. Claim: one conditional UPDATE moves the item DECIDED → ISSUING, creates its idempotency key
   (once: COALESCE keeps an existing one) and stamps a lease. Two workers: one wins, the other
   leaves. An item found ISSUING is someone's work in progress until its lease runs out.
2. Call Shopify with the key: `@idempotent` on the refund — with the variables of the first
   request, stored and resent verbatim, since Shopify refuses one key with other variables — a
   gift card code derived from the key, a tag on the draft order.
3. Record the result (ISSUED), or FAILED with the reason in words when Shopify refuses. "In
   progress" (Shopify still runs the first call) leaves the item ISSUING, never FAILED. Each
   write after a call to Shopify takes SQLite's write lock first (`begin_write`): the claimed
   item is ours, and a read transaction held across the call could not become a write.

An item whose lease ran out while ISSUING (a worker died, a response was lost) is claimed again
and first *reconciled*: the order's refunds, the gift card by its code, draft orders by tag — so
the effect of a call whose answer never came is found instead of repeated. The lease is longer
than the time search takes to show a new gift card or draft order, so "not found" is the truth.
"""
from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, or_, select, update

from app.crypto import encrypt_secret
from app.domain.issuing import IssuingMethod
from app.domain.vocabulary import EmailKind, ItemResolution, Option, RestockState, ReturnAction, ReturnStatus
from app.extensions import begin_write, db
from app.models import Account, Return, ReturnItem
from app.queue import enqueue
from app.services import milestones, shopper_emails
from app.services.milestones import Milestone
from app.services.mail import render_email
from app.services.status_links import status_url
from app.services.shopify_access import NotConnected, client_for
from app.shopify import errors as E
from app.shopify import issuing as shopify
from app.i18n import gettext as _, rendering_in

WINDOW_MESSAGE = ("Shopify no longer shows this order to Boomerang: it is older than 60 days and the "
                  "store has not granted read_all_orders. Issue it in Shopify by hand, or grant the scope.")


class IssueRefused(Exception):
    """Shopify (or a check before the call) refused the item; the message is for staff."""


class LookupPending(Exception):
    """The effect exists in Shopify but search does not show it yet; try again shortly."""


@dataclass
class Issued:
    """What issuing produced, recorded on the item."""

    amount: Decimal | None = None
    refund_id: int | None = None
    gift_card_id: int | None = None
    gift_card_last: str | None = None
    gift_card_code: str | None = None
    draft_order_id: int | None = None
    order_id: int | None = None
    order_name: str | None = None
    restock_pending: bool = False


def lease() -> timedelta:
    """How long an ISSUING item belongs to the worker that claimed it."""
    return timedelta(seconds=current_app.config["ISSUE_LEASE_SECONDS"])


def gift_card_code(key: str) -> str:
    """The credit note's code, derived from the item's key: the same on every attempt, so a
    second giftCardCreate is refused as a duplicate instead of making a second card."""
    digest = hashlib.sha256(f"boomerang-gift-card:{key}".encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def refund_marker(key: str) -> str:
    """Written in the refund's note, so the order's refunds show which item a refund is for."""
    return f"boomerang:{key}"


def draft_tag(key: str) -> str:
    """Tag on the exchange's draft order, for finding it again: at most 40 characters, Shopify's
    limit on a tag (docs/reference/shopify-returns.md §6.13)."""
    return f"boomerang-{key[:24]}"


def old_draft_tag(key: str) -> str:
    """The tag drafts were made with before it was cut to 40 characters (found when reconciling)."""
    return f"boomerang-{key}"


def issue_item(item_id: int) -> str:
    """Issue one item if its return's action has fired; safe to run any number of times, at
    once on several workers. Returns a short word on what happened."""
    item = db.session.get(ReturnItem, item_id)
    if item is None:
        return "missing"
    if item.issuing_method != IssuingMethod.LEGACY.value:
        return "issued through its Shopify return"
    ret = item.return_
    if ret.action_triggered_at is None or ret.status == ReturnStatus.CANCELLED:
        return "not due"
    reconcile = item.resolution == ItemResolution.ISSUING
    if item.resolution not in (ItemResolution.DECIDED, ItemResolution.ISSUING) or item.option not in tuple(Option):
        return item.resolution.lower()
    # End the read transaction before claiming: on SQLite a write from a stale snapshot fails
    # instead of waiting, and on PostgreSQL it keeps no snapshot open across the Shopify calls.
    db.session.rollback()
    if not _claim(item_id, reconcile):
        return "in progress"
    db.session.refresh(item)
    account = db.session.get(Account, ret.account_id)
    try:
        client = client_for(account)
        issued = ISSUERS[item.option](client, account, ret, item, reconcile)
    except IssueRefused as refused:
        return _fail(item, str(refused))
    except E.UserErrorsError as refused:
        return _fail(item, "Shopify refused: " + "; ".join(e.message for e in refused.errors))
    except (E.MissingScopeError, NotConnected) as refused:
        return _fail(item, str(refused))
    except E.GraphQLErrors as errors:
        if "IDEMPOTENCY_CONCURRENT_REQUEST" in errors.codes:
            return "in progress"  # Shopify still runs the first call: wait, never fail
        raise
    # Anything else (throttled, 5xx, timeouts, a lost response, LookupPending) leaves the item
    # ISSUING: the retry after the lease reconciles before it calls Shopify again.
    _record(item, issued)
    return "issued"


def _claim(item_id: int, reconcile: bool) -> bool:
    """One conditional UPDATE: DECIDED → ISSUING (or an ISSUING item whose lease ran out), the
    key created once, the lease stamped. Only one caller gets True."""
    now = datetime.now(timezone.utc)
    query = update(ReturnItem).where(ReturnItem.id == item_id)
    if reconcile:
        query = query.where(ReturnItem.resolution == ItemResolution.ISSUING,
                            or_(ReturnItem.issuing_started_at.is_(None),
                                ReturnItem.issuing_started_at <= now - lease()))
    else:
        query = query.where(ReturnItem.resolution == ItemResolution.DECIDED)
    claimed = db.session.execute(query.values(
        resolution=ItemResolution.ISSUING.value, issuing_started_at=now, issue_attempts=ReturnItem.issue_attempts + 1,
        idempotency_key=func.coalesce(ReturnItem.idempotency_key, uuid.uuid4().hex))
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return bool(claimed)


def _fail(item: ReturnItem, reason: str) -> str:
    begin_write(db.session)
    item.resolution, item.failure_reason = ItemResolution.FAILED.value, reason[:2000]
    item.return_.add_event("issue_failed", f"{item.title}: could not be issued. {reason}", "system",
                           data={"item_id": item.id})
    db.session.commit()
    return "failed"


def _record(item: ReturnItem, issued: Issued) -> None:
    begin_write(db.session)
    now = datetime.now(timezone.utc)
    item.resolution, item.issued_at, item.failure_reason = ItemResolution.ISSUED.value, now, None
    item.issued_amount = issued.amount
    item.shopify_refund_id = issued.refund_id or item.shopify_refund_id
    item.shopify_gift_card_id = issued.gift_card_id or item.shopify_gift_card_id
    item.gift_card_last_characters = issued.gift_card_last or item.gift_card_last_characters
    if issued.gift_card_code:
        item.gift_card_code_encrypted = encrypt_secret(issued.gift_card_code)
    item.shopify_draft_order_id = issued.draft_order_id or item.shopify_draft_order_id
    item.exchange_order_id = issued.order_id or item.exchange_order_id
    item.exchange_order_name = issued.order_name or item.exchange_order_name
    if issued.restock_pending:
        item.restock_state = RestockState.PENDING
    ret = item.return_
    ret.add_event("issued", _issued_message(item, issued), "system",
                  data={"item_id": item.id, "option": item.option})
    milestones.announce(ret, Milestone.ITEM_ISSUED, item_id=item.id, option=item.option)
    if issued.gift_card_code:
        _compose_credit_email(ret, item, issued)  # sent once this commits
    db.session.commit()
    if issued.restock_pending and ret.status in (ReturnStatus.RECEIVED, ReturnStatus.PROCESSED, ReturnStatus.CLOSED):
        enqueue("jobs.actions.restock_item_job", item.id)


def _issued_message(item: ReturnItem, issued: Issued) -> str:
    if item.option == Option.REFUND:
        return f"{item.title}: refunded {issued.amount} {item.return_.currency} in Shopify."
    if item.option == Option.CREDIT:
        return (f"{item.title}: credit note of {issued.amount} {item.return_.currency} created "
                f"(gift card ending {issued.gift_card_last}).")
    return f"{item.title}: exchange order {issued.order_name or ''} created for {item.exchange_variant_title}."


def _compose_credit_email(ret: Return, item: ReturnItem, issued: Issued):
    """The credit note's email (its gift card code: sent whatever the shop's issued-email switch
    says, since the code reaches the shopper no other way), once per item; None without an address
    or when it was written before."""
    if not ret.customer_email:
        return None
    account = db.session.get(Account, ret.account_id)
    with rendering_in(ret.locale, account.id):  # the shopper's language, kept on the return
        subject = _("Your credit note for return %(rma)s", rma=ret.rma_number)
    text, html = render_email("credit_note", account=account, ret=ret, item=item, amount=issued.amount,
                              code=issued.gift_card_code, status_url=status_url(ret, account.slug))
    return shopper_emails.write(account, ret, EmailKind.ISSUED, subject, text, html, once=f"credit-note-{item.id}")


# --- one function per option ---------------------------------------------------------------------

def _suggested(client, ret: Return, item: ReturnItem) -> "shopify.SuggestedRefund":
    """Shopify's value for the item (its line and quantity: discounts and tax in, shipping out),
    the amount of a refund and of a credit note alike; IssueRefused when there is none."""
    suggestion = shopify.suggest_refund(client, ret.shopify_order_id, item.shopify_line_id, item.quantity)
    if suggestion is None:
        raise IssueRefused(WINDOW_MESSAGE)
    if suggestion.amount <= 0:
        raise IssueRefused("Shopify suggests nothing to refund for this item (it may already be refunded).")
    return suggestion


def _issue_refund(client, account: Account, ret: Return, item: ReturnItem, reconcile: bool) -> Issued:
    marker = refund_marker(item.idempotency_key)
    restock_later = account.restock_returned_units and account.return_action == ReturnAction.FIRST_SCAN
    if reconcile:
        found = shopify.find_refund(client, ret.shopify_order_id, marker)
        if found is not None:
            return Issued(amount=found.amount, refund_id=found.refund_id, restock_pending=restock_later)
    variables = item.keyed_input
    if variables is None:
        suggestion = _suggested(client, ret, item)
        # Under First scan the parcel is still travelling: refund now, restock once it is received.
        restock = account.restock_returned_units and not restock_later
        variables = shopify.refund_variables(
            client, order_id=ret.shopify_order_id, line_item_id=item.shopify_line_id, quantity=item.quantity,
            transactions=suggestion.transactions, restock=restock, location_id=account.restock_location_id,
            note=f"Return {ret.rma_number}: {item.title} × {item.quantity} ({marker})",
            key=item.idempotency_key, currency=suggestion.currency or None)
        begin_write(db.session)
        item.keyed_input = variables
        db.session.commit()
    try:
        refund = shopify.send_refund(client, variables)
    except E.GraphQLErrors as errors:
        if "IDEMPOTENCY_KEY_PARAMETER_MISMATCH" not in errors.codes:
            raise
        # The key already carries other variables: whatever it did is found, not repeated.
        found = shopify.find_refund(client, ret.shopify_order_id, marker)
        if found is None:
            raise IssueRefused("Shopify holds this item's refund key with other figures and shows no refund "
                               "for it; check the order in Shopify before retrying.") from None
        return Issued(amount=found.amount, refund_id=found.refund_id, restock_pending=restock_later)
    return Issued(amount=refund.amount, refund_id=refund.refund_id, restock_pending=restock_later)


def _issue_credit(client, account: Account, ret: Return, item: ReturnItem, reconcile: bool) -> Issued:
    code = gift_card_code(item.idempotency_key)
    if reconcile:
        found = shopify.find_gift_card(client, code)
        if found is not None:
            return Issued(amount=found.amount, gift_card_id=found.gift_card_id,
                          gift_card_last=found.last_characters, gift_card_code=code)
    suggestion = _suggested(client, ret, item)
    try:
        card = shopify.create_gift_card(client, amount=suggestion.amount, code=code,
                                        note=f"Credit note for return {ret.rma_number}: {item.title}")
    except shopify.GiftCardCodeTaken as taken:
        # An earlier attempt made it and its answer was lost: find it (search may lag).
        card = shopify.find_gift_card(client, code)
        if card is None:
            raise LookupPending(f"gift card for item {item.id} exists but is not searchable yet") from taken
    return Issued(amount=card.amount, gift_card_id=card.gift_card_id, gift_card_last=card.last_characters,
                  gift_card_code=code)


def _issue_exchange(client, account: Account, ret: Return, item: ReturnItem, reconcile: bool) -> Issued:
    tag = draft_tag(item.idempotency_key)
    draft = None
    if item.shopify_draft_order_id:
        draft = shopify.fetch_draft_order(client, item.shopify_draft_order_id)
    elif reconcile:
        found = shopify.find_draft_orders(client, tag) or shopify.find_draft_orders(client, old_draft_tag(
            item.idempotency_key))
        draft = found[0] if found else None
    if draft is None:
        available = shopify.variant_available(client, item.exchange_variant_id)
        if available is not None and available < item.quantity:
            raise IssueRefused(f"{item.exchange_variant_title or 'The chosen variant'} is out of stock. "
                               "Switch the item to a refund or credit note, or retry when it is back.")
        draft = shopify.create_exchange_draft(
            client, variant_id=item.exchange_variant_id, quantity=item.quantity, email=ret.customer_email,
            shipping_address=ret.shipping_address, tag=tag,
            note=f"Exchange for return {ret.rma_number}: {item.title} → {item.exchange_variant_title}")
        # Keep the id at once: a crash before completing then needs no search to find it.
        begin_write(db.session)
        db.session.execute(update(ReturnItem).where(ReturnItem.id == item.id)
                           .values(shopify_draft_order_id=draft.draft_order_id)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        db.session.refresh(item)
    if draft.order_id is None:
        draft = shopify.complete_draft_order(client, draft.draft_order_id)
    return Issued(amount=Decimal("0.00"), draft_order_id=draft.draft_order_id, order_id=draft.order_id,
                  order_name=draft.order_name)


ISSUERS = {Option.REFUND: _issue_refund, Option.CREDIT: _issue_credit, Option.EXCHANGE: _issue_exchange}


# --- nothing lost ------------------------------------------------------------------------------------

def items_to_sweep(now: datetime | None = None, limit: int = 500) -> tuple[list[tuple[int, int]], list[int]]:
    """Items whose issuing should be (re)queued, as (id, attempts so far): DECIDED in a return
    whose action fired a few minutes ago (a lost enqueue), or ISSUING past the lease (a dead
    worker, a lost answer); and items whose restock waits on a received return."""
    now = now or datetime.now(timezone.utc)
    # A bulk close queues many items at once and the plan's bucket issues a few per second:
    # give the queue time before calling an item lost.
    fired_before = now - timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    issue_ids = db.session.execute(
        select(ReturnItem.id, ReturnItem.issue_attempts).join(Return, Return.id == ReturnItem.return_id)
        .where(Return.action_triggered_at.is_not(None), Return.action_triggered_at <= fired_before,
               Return.status != ReturnStatus.CANCELLED, ReturnItem.issuing_method == IssuingMethod.LEGACY.value,
               or_(ReturnItem.resolution == ItemResolution.DECIDED,
                   (ReturnItem.resolution == ItemResolution.ISSUING)
                   & (ReturnItem.issuing_started_at <= now - lease())))
        .order_by(ReturnItem.id).limit(limit)).all()
    issue_ids = [(item_id, attempts) for item_id, attempts in issue_ids]
    restock_ids = db.session.scalars(
        select(ReturnItem.id).join(Return, Return.id == ReturnItem.return_id)
        .where(ReturnItem.restock_state.in_((RestockState.PENDING, RestockState.RESTOCKING)),
               ReturnItem.issuing_method == IssuingMethod.LEGACY.value,
               Return.status.in_((ReturnStatus.RECEIVED, ReturnStatus.PROCESSED, ReturnStatus.CLOSED)))
        .order_by(ReturnItem.id).limit(limit)).all()
    return list(issue_ids), list(restock_ids)

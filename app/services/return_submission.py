"""Starting a return (the shopper in the portal, or staff for them): checking a submission, and
creating the return with its items in one transaction. What an order's lines can still return is
in return_eligibility.py; what happens to a return afterwards in return_workflow.py; its tracking
number in tracking_numbers.py.

The browser is never trusted: every submission is checked again here against the stored order,
the account's settings and (for exchanges) live stock, and a refused submission writes nothing.
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Callable, Iterable

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app.domain import returns as states
from app.domain.eligibility import Eligibility, order_problem
from app.domain.returns import ReturnRefused
from app.domain.rules import Decision
from app.domain.vocabulary import EmailKind, ItemResolution, Option, ReturnStatus
from app.extensions import db
from app.i18n import gettext as _
from app.models import Account, Order, OrderLine, Return, ReturnItem
from app.queue import enqueue
from app.services import labels, milestones, shopper_emails, submission_rules
from app.services.milestones import Milestone
from app.services.mail import send_after_commit, store_email
from app.services.return_bonus import fix_bonus
from app.services.return_eligibility import (allowed_options, eligibility, item_value, order_facts, policy_for,
                                             variant_label)
from app.services.return_fees import check_fees_shown, fix_fees
from app.services.return_review import needs_review
from app.services.return_workflow import fire_action_if_due
from app.shopper_words import verdict_message

NOTE_MAX = 500
# What a form's one-time submission token can be (ours are URL-safe base64): printable ASCII, so a
# NUL or a stray byte is an expired form, not a database error.
_TOKEN = re.compile(r"[!-~]{1,64}", re.ASCII)


@dataclass(frozen=True)
class Selection:
    """One line the customer wants to return, as posted (every field still to be checked)."""

    line_id: int
    quantity: int
    reason: str
    note: str | None = None
    option: str | None = None
    variant_id: int | None = None


@dataclass(frozen=True)
class PlannedItem:
    """A checked selection: the stored line, the value it gives and the exchange variant's name."""

    line: OrderLine
    selection: Selection
    value: Decimal
    variant_title: str | None = None
    variant_price: Decimal | None = None
    # The rule outcome that applies at submission (app/services/submission_rules.py).
    rule: Decision = submission_rules.NONE


# A function giving a product's variants live from Shopify: product id -> VariantData tuple.
VariantsFor = Callable[[int], Iterable]


def check_selections(account: Account, order: Order, selections: list[Selection],
                     variants_for: VariantsFor | None, now: datetime | None = None) -> list[PlannedItem]:
    """Every rule the server enforces, in one place; raises ReturnRefused with the reason.

    `variants_for` is called only for exchange items (a live Shopify read)."""
    now = now or datetime.now(timezone.utc)
    if order.account_id != account.id:
        raise ReturnRefused(_("That order does not belong to this shop."))
    problem = order_problem(order_facts(order), policy_for(account), now)
    if problem:
        raise ReturnRefused(verdict_message(Eligibility(0, problem)))
    if not selections:
        raise ReturnRefused(_("Choose at least one item to return."))
    lines = {line.id: line for line in order.lines}
    allowed = allowed_options(account)
    eligible = eligibility(account, order, now)
    reasons = account.return_reasons or []
    rules = submission_rules.item_rules(account, order, [(s.line_id, s.reason) for s in selections
                                                         if s.line_id in lines and s.reason in reasons], now)
    seen: set[int] = set()
    planned = []
    for sel in selections:
        line = lines.get(sel.line_id)
        if line is None:
            raise ReturnRefused(_("One of the items is not part of this order."))
        if sel.line_id in seen:
            raise ReturnRefused(_("%(item)s was listed twice.", item=line.title))
        seen.add(sel.line_id)
        verdict = eligible[line.id]
        if verdict.returnable == 0:
            raise ReturnRefused(_("%(item)s: %(problem)s", item=line.title, problem=verdict_message(verdict)))
        if not 1 <= sel.quantity <= verdict.returnable:
            raise ReturnRefused(_("%(item)s: you can return between 1 and %(count)s.", item=line.title,
                                   count=verdict.returnable))
        if sel.reason not in reasons:
            raise ReturnRefused(_("%(item)s: choose a reason from the list.", item=line.title))
        rule = rules.get((line.id, sel.reason), submission_rules.NONE)
        sel = _apply_rule(line, sel, rule, allowed)
        if sel.note and len(sel.note) > NOTE_MAX:
            raise ReturnRefused(_("%(item)s: the note can be at most %(count)s characters.", item=line.title,
                                   count=NOTE_MAX))
        variant_title = variant_price = None
        if not allowed:
            if sel.option is not None or sel.variant_id is not None:
                raise ReturnRefused(_("This shop decides the return option itself; none can be chosen here."))
        elif sel.option not in allowed:
            raise ReturnRefused(_("%(item)s: choose one of %(options)s.", item=line.title,
                                   options=", ".join(_(o.label) for o in allowed)))
        elif sel.option == Option.EXCHANGE:
            variant = _check_exchange(line, sel, variants_for)
            variant_title, variant_price = variant_label(variant), variant.price
        elif sel.variant_id is not None:
            raise ReturnRefused(_("%(item)s: a size or colour only goes with an exchange.", item=line.title))
        planned.append(PlannedItem(line, sel, item_value(line, sel.quantity), variant_title, variant_price, rule))
    return planned


def _apply_rule(line: OrderLine, sel: Selection, rule: Decision, allowed: tuple) -> Selection:
    """The selection as a rule outcome at submission leaves it, in customer-choice mode (rules
    mode: the rules job decides the option). Exchange only: any other option is refused, whatever
    the browser sent. Keep item: the shop's option replaces the shopper's (the review page shows
    it before they submit)."""
    if not allowed:
        return sel
    if submission_rules.exchange_only(rule) and sel.option != Option.EXCHANGE:
        if Option.EXCHANGE not in allowed:
            raise ReturnRefused(_("%(item)s can only be exchanged, and this shop does not offer exchanges "
                                  "online. Please contact the shop.", item=line.title))
        raise ReturnRefused(_("%(item)s can only be exchanged for another size or colour.", item=line.title))
    keep = submission_rules.keep_option(rule)
    if keep is not None:
        return replace(sel, option=keep, variant_id=None)
    return sel


def _check_exchange(line: OrderLine, sel: Selection, variants_for: VariantsFor | None):
    if line.product_id is None or variants_for is None:
        raise ReturnRefused(_("%(item)s cannot be exchanged; choose a refund or credit note.", item=line.title))
    if sel.variant_id is None:
        raise ReturnRefused(_("%(item)s: choose the size or colour you want instead.", item=line.title))
    variants = list(variants_for(line.product_id))
    match = next((v for v in variants if v.variant_id == sel.variant_id), None)
    if match is None or match.variant_id == line.variant_id:
        raise ReturnRefused(_("%(item)s: that variant is not one of this product's other variants.", item=line.title))
    if not match.in_stock:
        raise ReturnRefused(_("%(item)s: %(variant)s has just sold out. Choose another.", item=line.title,
                                   variant=variant_label(match)))
    return match


def find_by_token(token: str) -> Return | None:
    """The return a submission token already created, if any."""
    return db.session.scalar(select(Return).where(Return.submission_token == token))


def create_return(account: Account, order_id: int, selections: list[Selection], token: str, *,
                  variants_for: VariantsFor | None = None, actor: str | None = None,
                  compose_email: Callable[[Return], tuple[str, str, str]] | None = None,
                  now: datetime | None = None, started_by: str | None = None,
                  fees_shown: str | None = None,
                  attach_photos: Callable[[Return], None] | None = None,
                  locale: str | None = None) -> tuple[Return, bool]:
    """Create one return with its items in one transaction; returns (return, created).

    `locale` is the portal's language the shopper submitted in: every email about the return is
    written in it (app/i18n.py); a return staff start takes the shop's (Account.locale).

    `started_by` names who started it in its history when not the customer (staff taking a call).
    `fees_shown` is the fees total the shopper's review page showed (refused when it changed since).
    `attach_photos` gives the new items their photos in the same transaction (it may refuse).

    The one-time `token` is stored under a unique constraint: a resubmitted form or a second
    concurrent post finds the first return instead of making another (created is then False).
    Raises ReturnRefused (nothing written) when a rule is broken."""
    if not _TOKEN.fullmatch(token or ""):
        raise ReturnRefused(_("This form has expired. Please review your return again."))
    _prefetch_variants(account, order_id, selections, variants_for)
    for attempt in range(3):
        if db.session.get_bind().dialect.name == "sqlite":
            # End any read transaction first: SQLite refuses at once (no busy wait) a write from a
            # transaction whose snapshot another writer has moved past; _create_once writes first.
            db.session.commit()
        try:
            result = _create_once(account, order_id, selections, token, variants_for, actor, compose_email, now,
                                  started_by, fees_shown, attach_photos, locale)
        except (IntegrityError, OperationalError):
            # Another request with this token won the race (unique constraint), or SQLite
            # refused a write from a stale snapshot: look for its return, else try again.
            db.session.rollback()
            existing = find_by_token(token)
            if existing is not None:
                return _same_order(existing, order_id), False
            if attempt == 2:
                raise
            time.sleep(0.05 * (attempt + 1))
            continue
        except BaseException:
            db.session.rollback()
            raise
        return result
    raise AssertionError("unreachable")


def _same_order(existing: Return, order_id: int) -> Return:
    if existing.order_id != order_id:
        raise ReturnRefused(_("This form has expired. Please review your return again."))
    return existing


def _prefetch_variants(account, order_id, selections, variants_for) -> None:
    """Read Shopify (the stock re-check) before the transaction, not while holding the order's
    lock: `variants_for` caches, so the checks inside the transaction do not wait on the network."""
    wanted = {s.line_id for s in selections if s.option == Option.EXCHANGE}
    if not wanted or variants_for is None:
        return
    products = db.session.scalars(select(OrderLine.product_id).join(Order).where(
        Order.id == order_id, Order.account_id == account.id, OrderLine.id.in_(wanted))).all()
    db.session.rollback()  # end the read transaction before the network call
    for product_id in set(products) - {None}:
        variants_for(product_id)


def _lock_order(order_id: int) -> None:
    """SQLite: write first, so this transaction takes the database's write lock before it reads
    and a concurrent submission waits (busy_timeout) instead of failing on a stale snapshot."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("UPDATE orders SET id = id WHERE id = :id"), {"id": order_id})


def _create_once(account, order_id, selections, token, variants_for, actor, compose_email, now, started_by=None,
                 fees_shown=None, attach_photos=None, locale=None):
    # Lock the order row so returns of one order are made one at a time: two different
    # submissions cannot both take the last returnable unit (FOR UPDATE on PostgreSQL).
    _lock_order(order_id)
    order = db.session.scalar(select(Order).where(Order.id == order_id, Order.account_id == account.id)
                              .with_for_update())
    if order is None:
        raise ReturnRefused(_("We could not find that order."))
    existing = find_by_token(token)
    if existing is not None:
        db.session.rollback()
        return _same_order(existing, order_id), False
    planned = check_selections(account, order, selections, variants_for, now)
    check_fees_shown(account, planned, fees_shown)
    now = now or datetime.now(timezone.utc)
    rules_mode = not allowed_options(account)
    reviewed = needs_review(account, [item.rule for item in planned])
    ret = Return(account_id=account.id, order_id=order.id, rma_number=f"P-{uuid.uuid4().hex[:24]}",
                 submission_token=token, status=ReturnStatus.REQUESTED if reviewed else ReturnStatus.OPEN,
                 option_source="rules" if rules_mode else "customer",
                 shopify_order_id=order.shopify_order_id, order_name=order.name, customer_email=order.email,
                 customer_name=order.customer_name, shipping_address=order.shipping_address,
                 customer_shopify_id=order.customer_shopify_id, payment_status=order.financial_status,
                 currency=order.currency, created_at=now, updated_at=now,
                 locale=locale or account.locale or "en")
    for item in planned:
        line, sel = item.line, item.selection
        ret.items.append(ReturnItem(
            order_line_id=line.id, shopify_line_id=line.shopify_line_id, product_id=line.product_id,
            variant_id=line.variant_id, title=line.title, variant_title=line.variant_title, sku=line.sku,
            image_url=line.image_url, unit_value=line.discounted_unit_price, quantity=sel.quantity,
            reason=sel.reason, note=sel.note or None, option=sel.option,
            exchange_variant_id=sel.variant_id if sel.option == Option.EXCHANGE else None,
            exchange_variant_title=item.variant_title, exchange_variant_price=item.variant_price,
            # The customer's choice is the decision (rules decide later in Rules mode), so the
            # return action issues it; left UNDECIDED, the action fired and issued nothing.
            resolution=ItemResolution.UNDECIDED.value if rules_mode else ItemResolution.DECIDED.value,
            keep_item=submission_rules.keep_option(item.rule) is not None))
    fix_fees(account, ret, [item.rule for item in planned])
    fix_bonus(account, ret)
    db.session.add(ret)
    db.session.flush()
    if attach_photos is not None:
        attach_photos(ret)
    ret.rma_number = states.rma_number(_next_rma_seq(account.id))
    units = sum(i.selection.quantity for i in planned)
    count = f"{units} item{'s' if units != 1 else ''}"
    by = f"{started_by} for the customer" if started_by else "the customer"
    # The shopper's history names the shop, never a staff member's login.
    shown = ({"customer_message": f"Return {ret.rma_number} started for you by the shop: {count}."}
             if started_by else None)
    ret.add_event("created", f"Return {ret.rma_number} started by {by}: {count}.", actor or order.email,
                  data=shown, now=now)
    milestones.announce(ret, Milestone.CREATED, status=ret.status)
    email = None
    if compose_email and order.email and shopper_emails.enabled(account, EmailKind.SUBMITTED):
        subject, text, html = compose_email(ret)
        email = store_email(account, order.email, subject, text, html, return_id=ret.id,
                            kind=EmailKind.SUBMITTED.value, once_key=f"{ret.id}:{EmailKind.SUBMITTED}")
        ret.add_event("email", f"Confirmation email to {order.email}.", "system", now=now)
    db.session.flush()
    # Ids read before the commit: no read transaction may be open when an in-process job runs.
    return_id, email_id = ret.id, email.id if email is not None else None
    db.session.commit()
    if email_id is not None:
        send_after_commit(email_id)
    # The options are known now in customer-choice mode: the units go into a Shopify return at
    # once (in a job). In rules mode the rules decide first, and their job plans it. Outside a
    # request an in-process job runs right here, on its own connection: this session holds none.
    # A return awaiting review becomes a Shopify return request now unless it has an exchange
    # (plan_shopify_returns decides; app/services/return_review.py).
    if rules_mode:
        enqueue("jobs.rules.match_return_rules_job", return_id, job_id=f"rules-{return_id}")
    else:
        enqueue("jobs.shopify_returns.plan_shopify_returns_job", return_id)
    # The prepaid label, when the shop buys it on submission (on approval: the approval queues it).
    labels.after_submission(account, return_id)
    # Every item kept (Keep item rules): no parcel will come, so the return action fires now,
    # unless review holds the return (then it fires at approval: return_review.after_approval).
    if ret.keep_only and ret.status == ReturnStatus.OPEN:
        fire_action_if_due(ret, "Every item is one the customer keeps (no parcel to send)", "system")
    return ret, True


def _next_rma_seq(account_id: int) -> int:
    """The store's next RMA sequence number: an atomic increment of its counter, so concurrent
    returns never share one (the row lock lasts until this return commits; a rolled-back return
    leaves a gap, never a duplicate)."""
    return db.session.execute(
        update(Account).where(Account.id == account_id).values(last_rma_seq=Account.last_rma_seq + 1)
        .returning(Account.last_rma_seq).execution_options(synchronize_session=False)).scalar_one()

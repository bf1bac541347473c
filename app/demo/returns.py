"""`make demo`: a few returns already made, each the app's own way: ``create_return`` as the portal
calls it, then the jobs (planned into a Shopify return, processed, disposed of, closed) as staff
would set them off. Safe to run again: a return is made once per submission token.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import click
from sqlalchemy import select

from app.demo.orders import SPECIAL_EMAILS
from app.domain.returns import ReturnRefused
from app.domain.vocabulary import EmailKind, ItemResolution, Option, ReturnStatus
from app.extensions import db
from app.models import Account, Order, Return
from app.portal.variants import VariantsUnavailable, live_variants
from app.services import return_eligibility as eligible
from app.services import return_submission as service
from app.services import shopper_emails
from app.services import return_workflow as workflow
from app.services.shopify_returns import refresh_returnable_now
from app.services.tracking_numbers import set_tracking


@dataclass(frozen=True)
class DemoReturn:
    """A return made when the demo starts: the shopper's option (None: the shop's rules decide),
    the reason, what staff did next (``open``: nothing yet, ``process``, ``close`` or
    ``receive-close``: marked received, then closed), an option
    staff decided by hand, a tracking number the shopper gave, and the portal language it was
    submitted in (its emails, in the Outbox, are in that language)."""

    key: str
    option: str | None
    reason: str
    then: str
    decide: str | None = None
    tracking: str | None = None
    min_value: Decimal | None = None  # only an order worth more (a review rule's threshold)
    locale: str = "en"


OUTFITTERS_RETURNS = (
    DemoReturn("refund-waiting", Option.REFUND, "Too small", "open", tracking="DEMO1001"),
    DemoReturn("refund-closed", Option.REFUND, "Faulty", "receive-close"),  # the Outbox shows "received"
    DemoReturn("credit-closed", Option.CREDIT, "Changed my mind", "close", locale="fr"),
    DemoReturn("exchange-closed", Option.EXCHANGE, "Too large", "close"),
)
# Made once the store reviews returns over REVIEW_OVER (app/demo/stores.py): it awaits review.
REVIEW_OVER = Decimal("100")
REVIEW_RETURNS = (
    DemoReturn("awaiting-review", Option.REFUND, "Changed my mind", "open", min_value=REVIEW_OVER),
)
RULES_RETURNS = (
    DemoReturn("faulty-processed", None, "Faulty", "process"),
    DemoReturn("credit-by-staff", None, "Not as described", "process", decide=Option.CREDIT),
)


def _token(account: Account, plan: DemoReturn) -> str:
    return f"demo-{account.slug}-{plan.key}"[:64]


def demo_returns_of(account: Account, plans) -> list[Return]:
    """The demo returns made already, in plan order."""
    found = []
    for plan in plans:
        ret = db.session.scalar(select(Return).where(Return.submission_token == _token(account, plan)))
        if ret is not None:
            found.append(ret)
    return found


def make_demo_returns(account: Account, plans, skip_orders: set[int]) -> list[Return]:
    """Make each planned return that does not exist yet, on an order in the return window not in
    ``skip_orders`` (the orders printed for people to try), oldest first. Returns them all."""
    used = skip_orders | {r.order_id for r in demo_returns_of(account, plans)}
    staff = account.users[0].email if account.users else "staff"
    for plan in plans:
        token = _token(account, plan)
        if service.find_by_token(token) is not None:
            continue
        variants_for = live_variants(account)
        picked = _pick(account, used, plan, variants_for)
        if picked is None:
            click.echo(f"  (no order left for the demo return {plan.key})", err=True)
            continue
        order, selection = picked
        order_id, email = order.id, order.email
        db.session.commit()  # end the picking's read before the steps write
        _step(lambda: refresh_returnable_now(account, db.session.get(Order, order_id)))  # noqa: B023 - _step runs it at once
        try:
            ret_id = _step(lambda: service.create_return(  # noqa: B023 - _step runs it at once
                account, order_id, [selection], token, variants_for=variants_for, actor=email,  # noqa: B023
                locale=plan.locale, compose_email=lambda r: confirmation(account, r))[0].id)  # noqa: B023
        except (ReturnRefused, VariantsUnavailable) as refused:
            click.echo(f"  (demo return {plan.key} not made: {refused})", err=True)
            continue
        used.add(order_id)
        if plan.tracking:
            _step(lambda: set_tracking(db.session.get(Return, ret_id), plan.tracking, email))  # noqa: B023 - _step runs it at once
        if plan.decide:
            _step(lambda: _decide_undecided(db.session.get(Return, ret_id), plan.decide, staff))  # noqa: B023 - _step runs it at once
        if plan.then in ("process", "receive-close"):  # the parcel came back first (processing needs it)
            _step(lambda: workflow.mark_received(db.session.get(Return, ret_id), staff))  # noqa: B023 - _step runs it at once
        if plan.then in ("process", "close", "receive-close"):
            move = workflow.process_return if plan.then == "process" else workflow.close_return
            _step(lambda: move(db.session.get(Return, ret_id), staff))  # noqa: B023 - _step runs it at once
    db.session.commit()
    return demo_returns_of(account, plans)


def confirmation(account: Account, ret: Return) -> tuple[str, str, str]:
    """The confirmation email the portal sends, so the demo's Outbox shows it too."""
    return shopper_emails.compose(EmailKind.SUBMITTED, account, ret, rules_mode=ret.option_source == "rules")


def _step(step):
    """Run one step the app's own way and end this session's transaction. Outside a request the
    jobs a step queues run at once, inside it, on their own sessions; a read this session began
    before their writes could not write after them (SQLite: "database is locked")."""
    result = step()
    db.session.commit()
    return result


def _decide_undecided(ret: Return, option: str, staff: str) -> None:
    """Staff decide, by hand, each item no rule decided."""
    for item in list(ret.items):
        db.session.refresh(item)
        if item.resolution in (ItemResolution.UNDECIDED.value, ItemResolution.NO_ACTION.value):
            workflow.decide_item(item, option, staff)


def _pick(account: Account, used: set[int], plan: DemoReturn, variants_for):
    """The oldest order in the window, not used yet, with a returnable line (one with another
    size or colour in stock for an exchange): (order, the selection)."""
    candidates = db.session.scalars(
        select(Order).where(Order.account_id == account.id, Order.financial_status == "paid",
                            Order.fulfillment_status == "fulfilled", Order.email.is_not(None),
                            Order.email.not_in(SPECIAL_EMAILS), Order.cancelled_at.is_(None))
        .order_by(Order.created_at, Order.id)).all()
    for order in candidates:
        if order.id in used or (plan.min_value is not None and (order.total_price or 0) <= plan.min_value):
            continue
        by_line = eligible.eligibility(account, order)
        if any(e.returnable == 0 for e in by_line.values()):
            continue  # a whole order whose every line can go back: partial cases are printed apart
        for line in order.lines:
            variant_id = None
            if plan.option == Option.EXCHANGE:
                if line.product_id is None:
                    continue
                choices = eligible.exchange_choices(line, variants_for(line.product_id))
                if not choices:
                    continue
                variant_id = choices[0].variant_id
            return order, service.Selection(line_id=line.id, quantity=1, reason=plan.reason, option=plan.option,
                                            variant_id=variant_id)
    return None


def describe(ret: Return) -> str:
    """One line about a demo return for the console: its items' options and where it stands."""
    options = sorted({Option.label_of(i.option, "decided by the rules") if i.option else "no rule matched"
                      for i in ret.items})
    state = ret.status.replace("_", " ").lower()
    tracking = f", tracking {ret.tracking_number}" if ret.tracking_number and ret.status == ReturnStatus.OPEN else ""
    return f"{', '.join(options).lower()}: {state}{tracking}"

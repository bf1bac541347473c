"""Bonus credit: fixed on a return's items at submission, issued once their credit note or
exchange is issued (app.domain.bonus says how much and why as a gift card).

Exactly once: ``giftCardCreate`` takes no idempotency key, so the card's input is claimed first
(a ``ShopifyCall``), its code is derived from the return (never random), and a run after a crash
or a lost answer finds the card by that code before making one (the gift card step's way).
"""
from __future__ import annotations

from decimal import Decimal

from flask import current_app

from app.crypto import encrypt_secret
from app.domain import bonus as rules
from app.domain import issuing
from app.domain.formatting import format_money
from app.domain.bonus import BonusState
from app.domain.issuing import CallState, Phase
from app.domain.vocabulary import ItemResolution
from app.extensions import db
from app.models import Account, Return
from app.services import issued_notices as notices
from app.services import shopify_calls as calls
from app.services.issuing_context import DONE, Ctx, note
from app.services.return_credit import make_gift_card
from app.services.return_shape import start_call
from app.shopify import issuing as shopify
from app.shopify.returns import gid


def offered(account: Account) -> tuple[rules.Bonus | None, rules.Bonus | None]:
    """The bonus for a credit note and for an exchange the account offers now."""
    return rules.stored_bonus(account.credit_bonus), rules.stored_bonus(account.exchange_bonus)


def fix_bonus(account: Account, ret: Return) -> None:
    """Store on a new return's items (before its commit) the bonus their options earn now. Only
    a chosen option earns one: in rules mode the shopper chooses nothing."""
    credit, exchange = offered(account)
    for item in ret.items:
        item.bonus_amount = rules.item_bonus(item.option, item.unit_value, item.quantity, credit, exchange)


def planned_bonus(account: Account, planned) -> list[Decimal | None]:
    """The bonus of each planned item of a return not yet submitted (the portal's review)."""
    credit, exchange = offered(account)
    return [rules.item_bonus(p.selection.option, p.line.discounted_unit_price, p.selection.quantity, credit,
                             exchange) for p in planned]


def bonus_step(ctx: Ctx) -> str:
    """Issue the bonus of items whose credit note or exchange was issued: one gift card per
    processing round, for the bonuses of that round's items together."""
    waiting = [i for i in ctx.items(ItemResolution.ISSUED) if i.bonus_amount and i.bonus_state is None
               and i.option in rules.BONUS_OPTIONS and i.process_call_id]
    if not waiting:
        return DONE
    round_ = waiting[0].process_call_id
    batch = [i for i in waiting if i.process_call_id == round_]
    code = issuing.gift_card_code(current_app.config["SECRET_KEY"].encode(), "bonus", ctx.ref.id, round_)

    def build(last):
        amount = sum((Decimal(i.bonus_amount) for i in batch), Decimal(0))
        card = {"initialValue": str(amount), "code": "<derived>",  # never stored in clear
                "note": f"Bonus credit for return {ctx.ret.rma_number} ({ctx.ret.order_name})"}
        if ctx.ret.customer_shopify_id and ctx.account.has_scope("write_customers"):
            card["customerId"] = gid("Customer", ctx.ret.customer_shopify_id)
        return round_, {"input": card}, {"items": [i.id for i in batch]}

    started = start_call(ctx, Phase.BONUS, build)
    if isinstance(started, str):
        return started
    call, reconcile = started

    outcome = calls.run_call(call, send=lambda variables: make_gift_card(ctx, code, variables["input"]),
                             find=lambda c: shopify.find_gift_card(ctx.client, code), reconcile=reconcile)
    if not outcome.done:
        # The credit or exchange itself was issued: only the bonus waits for staff.
        note(ctx.ret, "bonus_failed", f"Bonus credit not issued: {outcome.error or 'Shopify refused the gift card.'}")
        calls.finish(call, CallState.REFUSED, outcome.error)
        for item in batch:
            item.bonus_state = BonusState.FAILED.value
        db.session.commit()
        return DONE
    card = outcome.result
    value = sum((Decimal(i.bonus_amount) for i in batch), Decimal(0))
    for item in batch:
        item.bonus_gift_card_id, item.bonus_code_encrypted = card.gift_card_id, encrypt_secret(code)
        item.bonus_state = BonusState.ISSUED.value
    note(ctx.ret, "bonus", f"Bonus credit of {format_money(value, ctx.ret.currency)} issued as a gift card ending "
                           f"{card.last_characters}.")
    calls.finish(call, CallState.DONE)
    db.session.commit()
    notices.email_issued(ctx.account, ctx.ret, [], gift_card_code=code, gift_card_value=value)
    return DONE

"""What a processed Shopify return leads to outside it: gift cards and separate exchange orders.

- A credit note where store credit is impossible (classic customer accounts, a guest order) is a
  gift card made right after processing: one per processing round, its code derived with the
  server's secret (the same on every attempt, so a second ``giftCardCreate`` is refused as TAKEN,
  and never stored in clear). Shopify caps cards made by apps (``giftCardConfiguration.issueLimit``,
  docs/reference/shopify-returns.md §6.5): a card over the cap is refused before any call.
- In separate-exchange-order mode the exchanged variant ships on a $0 order of its own, tagged so
  it is found again (tags are at most 40 characters: §6.13).
"""
from __future__ import annotations

from decimal import Decimal

from flask import current_app

from app.crypto import encrypt_secret
from app.domain import issuing as rules
from app.domain.formatting import format_money
from app.domain.issuing import CallState, CreditMethod, ExchangeMode, Phase
from app.domain.vocabulary import ItemResolution, Option
from app.extensions import db
from app.models import ReturnItem
from app.services import issued_notices as notices
from app.services import shopify_calls as calls
from app.services.issuing_context import DONE, IN_PROGRESS, Ctx, fail_item, note
from app.services.return_money import issued
from app.services.return_shape import start_call
from app.shopify import errors as E
from app.shopify import issuing as legacy_shopify
from app.shopify import returns as shopify



def gift_card_step(ctx: Ctx) -> str:
    """Credit notes processed without store credit become one gift card per processing round."""
    waiting = [i for i in ctx.items(ItemResolution.ISSUING) if i.credit_method == CreditMethod.GIFT_CARD.value
               and i.process_call_id and i.shopify_gift_card_id is None]
    if not waiting:
        return DONE
    round_ = waiting[0].process_call_id
    batch = [i for i in waiting if i.process_call_id == round_]
    code = rules.gift_card_code(current_app.config["SECRET_KEY"].encode(), "credit", ctx.ref.id, round_)

    def build(last):
        amount = sum((Decimal(i.issued_amount or 0) for i in batch), Decimal(0))
        card = {"initialValue": str(amount), "code": "<derived>",  # never stored in clear
                "note": f"Credit note for return {ctx.ret.rma_number} ({ctx.ret.order_name})"}
        if ctx.ret.customer_shopify_id and ctx.account.has_scope("write_customers"):
            card["customerId"] = shopify.gid("Customer", ctx.ret.customer_shopify_id)
        return round_, {"input": card}, {"items": [i.id for i in batch]}

    started = start_call(ctx, Phase.GIFT_CARD, build)
    if isinstance(started, str):
        return started
    call, reconcile = started

    outcome = calls.run_call(call, send=lambda variables: make_gift_card(ctx, code, variables["input"]),
                             find=lambda c: legacy_shopify.find_gift_card(ctx.client, code), reconcile=reconcile)
    if not outcome.done:
        for item in batch:
            fail_item(item, outcome.error or "Shopify refused the gift card.")
        calls.finish(call, CallState.REFUSED, outcome.error)
        db.session.commit()
        return DONE
    card = outcome.result
    for item in batch:
        item.shopify_gift_card_id, item.gift_card_last_characters = card.gift_card_id, card.last_characters
        item.gift_card_code_encrypted = encrypt_secret(code)
        worth = format_money(item.issued_amount, ctx.ret.currency)
        issued(ctx, item, item.issued_amount, f"{item.title}: credit note of {worth} "
                f"issued as a gift card ending {card.last_characters}.")
    calls.finish(call, CallState.DONE)
    db.session.commit()
    _tell_about_card(ctx, card, code, batch)
    return DONE


def make_gift_card(ctx: Ctx, code: str, card: dict):
    """giftCardCreate with the claimed input ``card`` and our derived ``code``; when Shopify says the
    code is taken, an earlier attempt made it: that card is found by its code and returned."""
    try:
        return legacy_shopify.create_gift_card(
            ctx.client, amount=Decimal(card["initialValue"]), code=code, note=card["note"],
            customer_id=ctx.ret.customer_shopify_id if "customerId" in card else None)
    except legacy_shopify.GiftCardCodeTaken:
        found = legacy_shopify.find_gift_card(ctx.client, code)
        if found is None:  # made by an earlier attempt, not searchable yet: try again later
            raise E.ShopifyError("gift card exists but is not searchable yet") from None
        return found


def _tell_about_card(ctx: Ctx, card, code: str, batch: list[ReturnItem]) -> None:
    """Shopify's own gift card email when the card belongs to a customer and the account leaves
    it to Shopify; otherwise ours, with the code (one message, never both). The scope
    ``giftCardSendNotificationToCustomer`` needs is unverified (§6.5): a refusal sends ours."""
    value = sum((Decimal(i.issued_amount or 0) for i in batch), Decimal(0))
    if ctx.account.issued_notice == notices.SHOPIFY and ctx.ret.customer_shopify_id \
            and ctx.account.has_scope("write_customers"):
        try:
            shopify.notify_gift_card(ctx.client, card.gift_card_id)
            note(ctx.ret, "email", "Shopify emailed the gift card to the customer.")
            db.session.commit()
            return
        except E.UserErrorsError:
            pass  # Shopify could not send it: ours goes instead
    notices.email_issued(ctx.account, ctx.ret, [], gift_card_code=code, gift_card_value=value)


def exchange_order_step(ctx: Ctx) -> str:
    """Separate exchange order mode: the exchanged variant ships on a $0 order of its own, while
    the Shopify return still records and disposes of the returned unit."""
    waiting = [i for i in ctx.items(ItemResolution.ISSUING) if i.option == Option.EXCHANGE and not i.exchange_line_ids
               and i.process_call_id and ctx.account.exchange_mode == ExchangeMode.SEPARATE_ORDER.value]
    for item in waiting:
        tag = f"boomerang-{ctx.ret.id}-{item.id}"  # order tags are at most 40 characters (§6.13)

        def build(last, item=item, tag=tag):
            return item.id, {"tag": tag, "variant": item.exchange_variant_id, "quantity": item.quantity}, None

        started = start_call(ctx, Phase.EXCHANGE_ORDER, build)
        if isinstance(started, str):
            if started == IN_PROGRESS:
                return started
            continue
        call, reconcile = started

        def find(_call, tag=tag):
            drafts = legacy_shopify.find_draft_orders(ctx.client, tag)
            return drafts[0] if drafts else None

        def send(variables, item=item):
            return legacy_shopify.create_exchange_draft(
                ctx.client, variant_id=variables["variant"], quantity=variables["quantity"],
                email=ctx.ret.customer_email, shipping_address=ctx.ret.shipping_address, tag=variables["tag"],
                note=f"Exchange for return {ctx.ret.rma_number}: {item.title} → {item.exchange_variant_title}")

        outcome = calls.run_call(call, send=send, find=find, reconcile=reconcile)
        if not outcome.done:
            fail_item(item, outcome.error or "Shopify refused the exchange order.")
            calls.finish(call, CallState.REFUSED, outcome.error)
            db.session.commit()
            continue
        draft = outcome.result
        item.shopify_draft_order_id = draft.draft_order_id
        db.session.commit()
        if draft.order_id is None:
            draft = legacy_shopify.complete_draft_order(ctx.client, draft.draft_order_id)
        item.exchange_order_id, item.exchange_order_name = draft.order_id, draft.order_name
        issued(ctx, item, Decimal("0.00"), f"{item.title}: exchange order {draft.order_name} created for "
                f"{item.exchange_variant_title}.")
        calls.finish(call, CallState.DONE)
        db.session.commit()
    return DONE

"""The fees a return is submitted with and what they come to (app.domain.fees says which apply).

Fixed at submission from the account's settings, so the shopper's estimate, the Shopify return
created later and the staff page all read the same stored figures.
"""
from __future__ import annotations

from decimal import Decimal

from app.domain import fees
from app.domain.returns import ReturnRefused
from app.domain.vocabulary import RuleOutcome
from app.models import Account, Return
from app.shopify import returns as shopify


def restocking_for(account: Account, reason: str, decision=None) -> Decimal | None:
    """An item's restocking fee percentage: a Restocking fee rule's own (``decision``, from
    app/services/submission_rules.item_rules) when one matched it, else its reason's."""
    if decision is not None and decision.outcome == RuleOutcome.FEE and decision.fee_percentage:
        return decision.fee_percentage
    return fees.restocking_percentage(account.restocking_fees, reason)


def fix_fees(account: Account, ret: Return, decisions: list | None = None) -> None:
    """Store on a new return (before its commit) the fees its reasons, its items' rule decisions
    (aligned with ``ret.items``) and the account carry now."""
    for item, decision in zip(ret.items, decisions or [None] * len(ret.items), strict=True):
        item.restocking_fee_percentage = restocking_for(account, item.reason, decision)
    ret.return_shipping_fee = account.return_shipping_fee


def planned_estimate(account: Account, planned) -> fees.FeeEstimate:
    """The fees of a return not yet submitted (the portal's review step, the staff's confirmation),
    from its planned items (``return_submission.PlannedItem``), with the same per-item rule
    decision the submission stores, so the shopper sees exactly what will be taken."""
    return fees.estimate([(p.line.discounted_unit_price, p.selection.quantity, p.selection.option,
                           restocking_for(account, p.selection.reason, p.rule))
                          for p in planned], account.return_shipping_fee)


def check_fees_shown(account: Account, planned, shown: str | None) -> None:
    """Refuse a submission whose fees differ from those its review page showed (the shop changed
    them in between): the shopper confirms what will be taken, never something else. ``shown``
    None (staff starting a return, who see the settings) checks nothing."""
    if shown is None:
        return
    if shown != str(planned_estimate(account, planned).fees):
        raise ReturnRefused("The shop's return fees changed while you were checking your return, so nothing "
                            "was sent. Please check your return again.")


def return_estimate(ret: Return) -> fees.FeeEstimate:
    """The fees of a submitted return, from what it was submitted with."""
    return fees.estimate([(i.unit_value, i.quantity, i.option, i.restocking_fee_percentage) for i in ret.items],
                         ret.return_shipping_fee)


def shipping_fee_due(ret: Return, items) -> bool:
    """Whether the Shopify return holding ``items`` takes the return's shipping fee: it has one,
    and an item pays fees (the caller sends it once, with the RMA's first Shopify return)."""
    return bool(ret.return_shipping_fee) and any(fees.pays_fees(i.option) for i in items)


def shipping_fee_input(ret: Return, presentment_currency: str | None) -> dict | None:
    """``ReturnInput.returnShippingFee``, or None when the buyer paid in another currency than the
    shop's. Shopify reads the amount "in the presentment currency of the order" (2026-04 schema,
    ReturnShippingFeeInput.amount) and the fee is set in the shop's: with no rate of ours to
    convert it, such an order is not charged the fee (its timeline says so)."""
    if presentment_currency != ret.currency:
        return None
    amount = Decimal(ret.return_shipping_fee).quantize(fees.CENT)
    return {"amount": {"amount": str(amount), "currencyCode": ret.currency}}


def restocking_fee_input(item) -> dict | None:
    """``ReturnLineItemInput.restockingFee`` for each Shopify line of an item, or None."""
    pct = item.restocking_fee_percentage
    if not pct or not fees.pays_fees(item.option):
        return None
    return {"percentage": float(Decimal(pct))}


def add_shipping_fee(ctx, return_input: dict) -> None:
    """Put the return's shipping fee on the first Shopify return (or request) being built, in the
    currency the buyer paid in; when that is not the shop's, leave it out and say so on the
    timeline (once). ``ctx`` is the issuing context (app.services.issuing_context.Ctx)."""
    currency = shopify.presentment_currency(ctx.client, ctx.ret.shopify_order_id)
    fee = shipping_fee_input(ctx.ret, currency)
    if fee:
        return_input["returnShippingFee"] = fee
    elif not any(e.kind == "fee_left_out" for e in ctx.ret.events):
        ctx.ret.add_event("fee_left_out", f"Return shipping fee not taken: the customer paid in {currency}, and "
                                          f"the fee is set in {ctx.ret.currency}.", "system")


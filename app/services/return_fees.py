"""The fees a return is submitted with and what they come to (app.domain.fees says which apply).

Fixed at submission from the account's settings, so the shopper's estimate, the Shopify return
created later and the staff page all read the same stored figures.
"""
from __future__ import annotations

from decimal import Decimal

from app.domain import fees
from app.domain.returns import ReturnRefused
from app.models import Account, Return


def fix_fees(account: Account, ret: Return) -> None:
    """Store on a new return (before its commit) the fees its reasons and the account carry now."""
    for item in ret.items:
        item.restocking_fee_percentage = fees.restocking_percentage(account.restocking_fees, item.reason)
    ret.return_shipping_fee = account.return_shipping_fee


def planned_estimate(account: Account, planned) -> fees.FeeEstimate:
    """The fees of a return not yet submitted (the portal's review step, the staff's confirmation),
    from its planned items (``return_submission.PlannedItem``)."""
    return fees.estimate([(p.line.discounted_unit_price, p.selection.quantity, p.selection.option,
                           fees.restocking_percentage(account.restocking_fees, p.selection.reason))
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

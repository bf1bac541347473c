"""Return fees: a restocking fee (a percentage of an item's value, set per reason) and a flat return
shipping fee per return. Pure: plain values in, plain values out.

Both are Shopify's own fields, fixed when the Shopify return is created (2026-04 schema:
``ReturnLineItemInput.restockingFee {percentage: Float!}``, ``ReturnInput.returnShippingFee
{amount: MoneyInput!}``; docs/reference/shopify-returns.md §5), so they are decided at submission
and kept on the return; a later change of the settings never reaches a submitted return.

What they apply to: refunds and credit notes. An exchange pays neither (the shop wants the sale
kept), so a return made only of exchanges has no return shipping fee either. Shopify deducts the
fees from what the return suggests refunding (``suggestedFinancialOutcome``), which is also what a
credit note is issued from: the shopper's estimate and what is issued agree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.domain.formatting import format_percent
from app.domain.vocabulary import Option

CENT = Decimal("0.01")
MAX_PERCENTAGE = Decimal(100)
MAX_SHIPPING_FEE = Decimal("10000")
# "Changed my mind: 15" or "Changed my mind: 12.5%": ASCII digits only (a "²" is not a digit here).
_FEE_LINE = re.compile(r"(?P<reason>.+?)\s*:\s*(?P<percent>[0-9]{1,3}(?:\.[0-9]{1,2})?)\s*%?", re.ASCII)


class FeeRefused(ValueError):
    """A fee setting that cannot be kept; the message says why, for the admin."""


def parse_percentage_lines(text: str, reasons: list[str]) -> dict[str, str]:
    """The restocking fees typed one per line as "reason: percent", keyed by the reason as the
    account spells it. Raises FeeRefused naming the first line it cannot read."""
    by_lower = {r.lower(): r for r in reasons}
    fees: dict[str, str] = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        match = _FEE_LINE.fullmatch(line)
        if match is None:
            raise FeeRefused(f"“{line[:60]}”: write a reason, a colon and a percentage, e.g. “Changed my mind: 10”.")
        reason = by_lower.get(match["reason"].strip().lower())
        if reason is None:
            raise FeeRefused(f"“{match['reason'][:60]}” is not one of your return reasons.")
        if reason in fees:
            raise FeeRefused(f"“{reason}” has two restocking fees.")
        percent = Decimal(match["percent"])
        if not Decimal(0) < percent <= MAX_PERCENTAGE:
            raise FeeRefused(f"“{reason}”: a restocking fee is more than 0% and at most 100%.")
        fees[reason] = format_percent(percent)
    return fees


def percentage_lines(fees: dict[str, str] | None) -> str:
    """The stored restocking fees as the settings page shows them, one "reason: percent" a line."""
    return "\n".join(f"{reason}: {percent}" for reason, percent in (fees or {}).items())


def parse_shipping_fee(text: str | None) -> Decimal | None:
    """A flat return shipping fee typed by an admin: blank or 0 for none. Raises FeeRefused."""
    text = (text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,5}(?:\.[0-9]{1,2})?", text, re.ASCII):
        raise FeeRefused("Enter an amount in digits, e.g. 5.00.")
    amount = Decimal(text)
    if amount > MAX_SHIPPING_FEE:
        raise FeeRefused(f"At most {MAX_SHIPPING_FEE}.")
    return amount if amount > 0 else None


def restocking_percentage(fees: dict[str, str] | None, reason: str) -> Decimal | None:
    """The restocking fee percentage set for a reason, or None."""
    value = (fees or {}).get(reason)
    if value is None:
        return None
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        return None
    return percent if Decimal(0) < percent <= MAX_PERCENTAGE else None


def pays_fees(option: str | None) -> bool:
    """Whether an item's option pays fees: refunds and credit notes do, exchanges do not. An item
    not decided yet (rules mode) is counted as paying: rules issue refunds or credit notes only."""
    return option != Option.EXCHANGE


def restocking_fee(unit_value: Decimal, quantity: int, percentage: Decimal | None) -> Decimal:
    """The fee on ``quantity`` units worth ``unit_value`` each (before tax, as Shopify takes it),
    to the cent, half up."""
    if not percentage:
        return Decimal("0.00")
    return (Decimal(unit_value) * quantity * percentage / 100).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ItemFee:
    """One item's value and the restocking fee taken from it."""

    value: Decimal
    percentage: Decimal | None
    fee: Decimal


@dataclass(frozen=True)
class FeeEstimate:
    """What a return's fees come to, as the shopper is shown them before submitting."""

    items: tuple[ItemFee, ...]
    shipping_fee: Decimal

    @property
    def value(self) -> Decimal:
        """The items' value before fees."""
        return sum((i.value for i in self.items), Decimal("0.00"))

    @property
    def fees(self) -> Decimal:
        """Every fee together."""
        return sum((i.fee for i in self.items), Decimal("0.00")) + self.shipping_fee

    @property
    def total(self) -> Decimal:
        """The value less the fees, never below zero."""
        return max(self.value - self.fees, Decimal("0.00"))


def estimate(items: list[tuple[Decimal, int, str | None, Decimal | None]],
             shipping_fee: Decimal | None) -> FeeEstimate:
    """Fees of a return from its items as (unit value, quantity, option, restocking percentage):
    the percentage only on items that pay fees, the shipping fee once when any item does."""
    found, paying = [], False
    for unit_value, quantity, option, percentage in items:
        value = (Decimal(unit_value) * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
        pct = percentage if pays_fees(option) else None
        paying = paying or pays_fees(option)
        found.append(ItemFee(value, pct, restocking_fee(unit_value, quantity, pct)))
    shipping = Decimal(shipping_fee) if (shipping_fee and paying) else Decimal("0.00")
    return FeeEstimate(tuple(found), shipping.quantize(CENT))

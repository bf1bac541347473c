"""Bonus credit: extra value a shop offers for choosing a credit note or an exchange instead of a
refund. Pure: plain values in, plain values out.

A bonus is typed as a percentage of the item's value ("10%") or a fixed amount per returned unit
("5.00"). It is fixed on the item when the return is submitted (the shopper was shown it), and
issued once the item's credit note or exchange is issued: as a gift card of the bonus value,
made by ``giftCardCreate`` with a code derived from the return (docs/reference/shopify-returns.md
§2), the one way that takes no idempotency key but can be read back exactly (by its code).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from app.domain.formatting import format_money, format_percent
from app.domain.vocabulary import Option

CENT = Decimal("0.01")
MAX_PERCENT = Decimal(100)
MAX_AMOUNT = Decimal(1000)
_PERCENT = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,2})?)\s*%", re.ASCII)
_AMOUNT = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,2})?", re.ASCII)
BONUS_OPTIONS = (Option.CREDIT, Option.EXCHANGE)


class BonusState(StrEnum):
    """Where an item's bonus stands once its option is issued (None: waiting)."""

    ISSUED = "ISSUED"
    FAILED = "FAILED"   # Shopify refused the gift card: the timeline says why, staff decide


class BonusRefused(ValueError):
    """A bonus setting that cannot be kept; the message says why, for the admin."""


@dataclass(frozen=True)
class Bonus:
    """A bonus: ``percent`` of the item's value, or ``amount`` per returned unit."""

    percent: Decimal | None = None
    amount: Decimal | None = None

    def for_item(self, unit_value: Decimal, quantity: int) -> Decimal:
        """The bonus on ``quantity`` units worth ``unit_value`` each, to the cent, half up."""
        if self.percent is not None:
            raw = Decimal(unit_value) * quantity * self.percent / 100
        else:
            raw = (self.amount or Decimal(0)) * quantity
        return raw.quantize(CENT, rounding=ROUND_HALF_UP)

    def stored(self) -> str:
        """How the account keeps it: "10%" or "5.00"."""
        return f"{format_percent(self.percent)}%" if self.percent is not None else f"{self.amount:.2f}"

    def describe(self, currency: str) -> str:
        """For the shopper: "10% extra" or "5.00 USD extra per item"."""
        if self.percent is not None:
            return f"{format_percent(self.percent)}% extra"
        return f"{format_money(self.amount, currency)} extra per item"


def parse_bonus(text: str | None) -> Bonus | None:
    """A bonus typed by an admin: "10%", "12.5 %", "5" or "5.00"; blank or zero for none.
    Raises BonusRefused."""
    text = (text or "").strip()
    if not text:
        return None
    match = _PERCENT.fullmatch(text)
    if match:
        percent = Decimal(match[1])
        if percent > MAX_PERCENT:
            raise BonusRefused("A bonus percentage is at most 100%.")
        return Bonus(percent=percent) if percent > 0 else None
    if not _AMOUNT.fullmatch(text):
        raise BonusRefused("Enter a percentage such as 10% or an amount such as 5.00.")
    amount = Decimal(text)
    if amount > MAX_AMOUNT:
        raise BonusRefused(f"A bonus amount is at most {MAX_AMOUNT} per item.")
    return Bonus(amount=amount) if amount > 0 else None


def stored_bonus(text: str | None) -> Bonus | None:
    """A bonus as the account stored it (already checked); None for none or anything unreadable."""
    try:
        return parse_bonus(text)
    except BonusRefused:
        return None


def item_bonus(option: str | None, unit_value: Decimal, quantity: int, credit: Bonus | None,
               exchange: Bonus | None) -> Decimal | None:
    """The bonus an item earns by its option (None for a refund, or no bonus offered)."""
    bonus = credit if option == Option.CREDIT else exchange if option == Option.EXCHANGE else None
    if bonus is None:
        return None
    value = bonus.for_item(unit_value, quantity)
    return value if value > 0 else None

"""What one row of the staff returns list says about a return's items, so staff can triage from the
list: the options, the value, where issuing stands (a failure flagged) and whether someone must
decide. Pure: items in (anything with option, resolution, quantity and unit_value), a summary out.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.vocabulary import ItemResolution, Option

# States that wait for a person: nothing decided, or a rule said "No Action" (DESIGN §2.7).
NEEDS_DECISION = (ItemResolution.UNDECIDED, ItemResolution.NO_ACTION)
# How a row names each issue state; a mixed return lists its states in this order (the most
# urgent first), so a failure is never hidden behind the items that went well.
STATE_ORDER = (ItemResolution.FAILED, ItemResolution.UNDECIDED, ItemResolution.NO_ACTION, ItemResolution.DECIDED,
               ItemResolution.ISSUING, ItemResolution.ISSUED)
# Shorter than the labels: a row lists several ("2 issued, 1 failed").
STATE_WORDS = {ItemResolution.FAILED: "failed", ItemResolution.UNDECIDED: "not decided",
               ItemResolution.NO_ACTION: "no action", ItemResolution.DECIDED: "decided",
               ItemResolution.ISSUING: "being issued", ItemResolution.ISSUED: "issued"}
OPTION_ORDER = (*Option, None)


@dataclass
class ItemsSummary:
    """One return's items as the list shows them."""

    quantity: int = 0
    value: Decimal = Decimal("0.00")
    options: list = field(default_factory=list)  # option codes in OPTION_ORDER; None = not chosen yet
    states: Counter = field(default_factory=Counter)  # resolution → units

    @property
    def failed(self) -> bool:
        """An item Shopify did not issue: staff must retry, switch or record a refund."""
        return self.states[ItemResolution.FAILED] > 0

    @property
    def needs_decision(self) -> bool:
        """An item nothing decided (or a rule left to staff)."""
        return any(self.states[state] for state in NEEDS_DECISION)

    @property
    def state_text(self) -> str:
        """'3 issued', or '1 failed, 1 issued' when the items stand apart."""
        parts = [(state, self.states[state]) for state in STATE_ORDER if self.states[state]]
        if len(parts) == 1:
            state, units = parts[0]
            return f"{'All ' if units > 1 else ''}{STATE_WORDS[state]}".capitalize()
        return ", ".join(f"{units} {STATE_WORDS[state]}" for state, units in parts)


def summarize_items(items) -> ItemsSummary:
    """The summary of a return's items (units counted by quantity; value = unit value × units)."""
    summary = ItemsSummary()
    options = set()
    for item in items:
        summary.quantity += item.quantity
        summary.value += item.unit_value * item.quantity
        summary.states[item.resolution] += item.quantity
        options.add(item.option if item.option in OPTION_ORDER else None)
    summary.options = [option for option in OPTION_ORDER if option in options]
    return summary

"""What a retailer's rules can actually produce, so that every promise made in rules mode (the
portal, the confirmation, the rules page, the settings) says what will really happen.

Pure: rule definitions and the shop's return reasons in, a `Reach` and sentences out. A rule can
decide an item only when it is switched on, no earlier rule catches all its items first (see
rules_warnings) and it does not hinge on a return reason the portal never offers. Whatever no
live rule catches, and whatever a No Action, Send to review or Exchange only rule catches, waits
for staff. We never promise an exchange: in rules mode no outcome issues one (Exchange only leaves
the item to staff, who may offer it). Keep item rules give a refund or a credit note, and a
Restocking fee rule a refund less its fee (app/services/rules.RULES_MODE_OPTION).
"""
from dataclasses import dataclass

from app.domain.rules import Condition, RuleDef
from app.domain.rules_warnings import never_firing
from app.domain.vocabulary import RuleOutcome

AUTOMATED = (RuleOutcome.REFUND, RuleOutcome.CREDIT)  # in the order sentences name them
SHOPPER_WORDS = {RuleOutcome.REFUND: "a refund", RuleOutcome.CREDIT: "a credit note"}
# The option each outcome issues by itself in rules mode (others leave the item to staff).
ISSUES = {RuleOutcome.REFUND: RuleOutcome.REFUND, RuleOutcome.CREDIT: RuleOutcome.CREDIT,
          RuleOutcome.KEEP_REFUND: RuleOutcome.REFUND, RuleOutcome.KEEP_CREDIT: RuleOutcome.CREDIT,
          RuleOutcome.FEE: RuleOutcome.REFUND}
TO_STAFF = (RuleOutcome.NO_ACTION, RuleOutcome.REVIEW, RuleOutcome.EXCHANGE_ONLY)


@dataclass(frozen=True)
class Reach:
    """The outcomes live rules can give, and whether some items are left to staff."""

    outcomes: frozenset  # of RuleOutcome values
    staff: bool          # some item can end with staff deciding
    live: int            # rules that can decide anything

    @property
    def automated(self) -> tuple[str, ...]:
        """The options the rules issue by themselves, refund first."""
        issued = {ISSUES[o] for o in self.outcomes if o in ISSUES}
        return tuple(o for o in AUTOMATED if o in issued)


def unoffered(condition: Condition, reasons: list[str]) -> list[str]:
    """The reasons one condition names that the shop's portal does not offer (lower-cased)."""
    if condition.dimension != "return_reason":
        return []
    offered = {r.strip().lower() for r in reasons}
    values = [condition.value] if isinstance(condition.value, str) else sorted(condition.value)
    return [v for v in values if v not in offered]


def unoffered_reasons(rule: RuleDef, reasons: list[str] | None) -> list[str]:
    """The reasons a rule names that the shop's portal does not offer (lower-cased); none when
    the offered list is unknown."""
    if reasons is None:
        return []
    return list(dict.fromkeys(v for condition in rule.conditions for v in unoffered(condition, reasons)))


def _can_hold(rule: RuleDef, reasons: list[str] | None) -> bool:
    """False when a condition asks for a reason (is / is any of) no shopper can pick."""
    if reasons is None:
        return True
    for condition in rule.conditions:
        if condition.operator in ("is", "any_of") and condition.dimension == "return_reason":
            values = {condition.value} if isinstance(condition.value, str) else set(condition.value)
            if set(unoffered(condition, reasons)) == values:
                return False
    return True


def reach(rules: list[RuleDef], reasons: list[str] | None = None) -> Reach:
    """What the rules, in priority order, can produce for items returned through the portal."""
    shadowed = never_firing(rules)
    live = [rule for index, rule in enumerate(rules)
            if rule.enabled and index not in shadowed and _can_hold(rule, reasons)]
    outcomes = frozenset(rule.outcome for rule in live)
    catches_all = any(not rule.conditions for rule in live)
    # Send to review and Exchange only rules leave their items' options to staff too.
    to_staff = any(o in outcomes for o in TO_STAFF)
    return Reach(outcomes, staff=to_staff or not catches_all, live=len(live))


def _either(words: list[str]) -> str:
    return " or ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " or " + words[-1]


def shopper_promise(found: Reach, shop: str) -> str:
    """What a shopper is told before and after submitting in rules mode."""
    shown = "Your return's page shows what each item gets."
    if not found.automated:
        return f"{shop}'s staff decide what each item gets. Your return's page will show it."
    policy = f"As soon as you submit, {shop}'s returns policy"
    if len(found.automated) > 1:
        gives = _either([SHOPPER_WORDS[o] for o in found.automated])
        text = f"{policy} decides whether each item gets {gives}"
        others = "items it does not cover"
    elif found.staff:
        text = f"{policy} decides which items get {SHOPPER_WORDS[found.automated[0]]}"
        others = "the others"
    else:
        return f"{policy} gives each item {SHOPPER_WORDS[found.automated[0]]}. {shown}"
    if found.staff:
        text += f"; {others} are decided by {shop}'s staff"
    return f"{text}. {shown}"


def admin_summary(found: Reach) -> str:
    """The rules page's account of what rules mode does with these rules (`found.live` > 0; with
    none the page warns instead)."""
    # Exchange only is named with the outcomes that leave items to staff, never as something
    # rules mode gives (it issues no exchange).
    outcomes = [o.label for o in RuleOutcome if o in found.outcomes and o != RuleOutcome.EXCHANGE_ONLY]
    text = (f"Rules mode is on: new returns' items get {_either(outcomes)} from these rules" if outcomes
            else "Rules mode is on: these rules issue nothing by themselves")
    if found.staff:
        by_name = [o.label for o in TO_STAFF if o in found.outcomes]
        article = "an" if by_name and by_name[0][0] in "AEIOU" else "a"
        text += "; items no rule catches" + (f" or {article} {_either(by_name)} rule catches" if by_name else "") \
            + " wait for staff to decide"
    return text + ". The portal tells customers exactly this."

"""Which rule outcome applies to each item at submission, in either option mode: the one place
that reads the rules before a return exists.

What reads it:
- Send to review (app/services/return_review.needs_review): a matching item holds the return.
- Keep item (Refund / Credit note, keep the item): the item gets that option and ``keep_item``;
  a return whose items are all kept has no parcel (no label, no tracking, no return address) and
  its return action fires as soon as it is open (app/services/return_workflow.fire_action_if_due).
  In a mixed return (some items kept, some shipped) nothing changes for the parcel: the kept
  items are issued with the others when the return action fires, as usual; either way Shopify
  disposes of kept units as NOT_RESTOCKED (app/services/return_money.disposition_input).
- Exchange only: in customer-choice mode the portal offers only the exchange, and the server
  refuses any other option for the item (return_submission.check_selections). In rules mode the
  item is left to staff, as with No Action (app/services/rules.RULES_MODE_OPTION).
- Restocking fee: the rule's percentage replaces the reason's (app/services/return_fees.restocking_for).

Each call compiles the account's rule set once and reads each reason's facts in one query
(app/services/rule_facts.order_line_facts), exactly what the rules job will read; callers call it
once per request and pass the decisions on (``PlannedItem.rule``). An account without rules reads
nothing.
"""
from __future__ import annotations

from datetime import datetime

from app.domain.rules import Decision
from app.domain.rules_index import RuleSet
from app.domain.vocabulary import Option, RuleOutcome
from app.models import Account, Order
from app.services.rule_facts import order_line_facts
from app.services.rules import rule_defs

NONE = Decision(None)
KEEP_OPTION = {RuleOutcome.KEEP_REFUND: Option.REFUND, RuleOutcome.KEEP_CREDIT: Option.CREDIT}
EXCHANGE_ONLY_NOTE = "This item can be exchanged for another size or colour"
KEEP_NOTE = "Keep the item: no need to send it back"


def item_rules(account: Account, order: Order, items: list[tuple[int, str]],
               now: datetime | None = None) -> dict[tuple[int, str], Decision]:
    """The decision the account's rules give each ``(order line id, reason)`` of ``order`` now
    (``NONE`` when no rule matches). A line not in the order, or a reason the facts cannot be
    read for, gets ``NONE``; the caller refuses such items itself."""
    wanted = list(dict.fromkeys(items))
    if not wanted:
        return {}
    rules = rule_defs(account.id)
    if not rules:
        return {key: NONE for key in wanted}
    rule_set = RuleSet(rules)
    by_reason = {reason: order_line_facts(order, reason, now) for reason in {r for _, r in wanted}}
    found = {}
    for line_id, reason in wanted:
        facts = by_reason[reason].get(line_id)
        found[(line_id, reason)] = rule_set.evaluate(facts) if facts is not None else NONE
    return found


def keep_option(decision: Decision | None) -> str | None:
    """The option a Keep item decision gives (refund or credit), else None."""
    return KEEP_OPTION.get(decision.outcome) if decision is not None else None


def exchange_only(decision: Decision | None) -> bool:
    """Whether the item may only be exchanged."""
    return decision is not None and decision.outcome == RuleOutcome.EXCHANGE_ONLY


"""What the rules would do, without doing it: dry runs and impact previews (read-only).

- A dry run takes one past return (or an order and a reason) and shows, per item, the rule that
  would decide now and why: every enabled rule tried before it, with each condition's observed
  value, so "why not rule 2?" is answered too.
- An impact preview replays the last N returns through a list of rules (the saved one, or one
  with an unsaved edit in it) and counts per rule how many items it would catch, and how many
  items would get a different outcome than the one stored when the rules decided them.

Decisions come from `RuleSet`, the evaluation the matching job runs; the per-rule explanation
uses the plain per-condition trace.
"""
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.rules import ConditionTrace, Decision, RuleDef, trace_of
from app.domain.rules_parse import outcome_words
from app.domain.rules_index import RuleSet
from app.extensions import db
from app.models import Order, Return
from app.services.rule_facts import order_line_facts, return_facts
from app.services.rules import stored_outcome

MAX_LAST = 1000  # bounded work per request: 1,000 returns replay in well under a second
DEFAULT_LAST = 100


@dataclass(frozen=True)
class RuleCheck:
    """One rule tried for an item: whether it is switched on, held, and each condition's trace."""

    position: int
    rule: RuleDef
    matched: bool
    trace: tuple[ConditionTrace, ...] = ()


@dataclass(frozen=True)
class ItemPreview:
    """One item (or order line) of a dry run."""

    title: str
    variant_title: str | None
    quantity: int
    reason: str
    decision: Decision
    checks: list[RuleCheck]
    stored: dict | None = None  # the decision stored on a past item, if any


@dataclass
class DryRun:
    """The answer to a dry run: the items, or why there are none."""

    items: list[ItemPreview] = field(default_factory=list)
    problem: str | None = None
    label: str = ""


def explain(rules: list[RuleDef], facts) -> tuple[Decision, list[RuleCheck]]:
    """The decision for one item and the rules tried to reach it, top to bottom, stopping at
    the first that matched (disabled rules are listed as skipped)."""
    decision = RuleSet(rules).evaluate(facts)
    checks = []
    for position, rule in enumerate(rules, start=1):
        if not rule.enabled:
            checks.append(RuleCheck(position, rule, False))
            continue
        trace = trace_of(rule, facts)
        matched = all(t.held for t in trace)
        checks.append(RuleCheck(position, rule, matched, trace))
        if matched:
            break
    return decision, checks


def dry_run_return(account_id: int, return_id: int, rules: list[RuleDef]) -> DryRun | None:
    """Each item of one past return against `rules`; None when the return is not the account's."""
    ret = db.session.scalar(select(Return).where(Return.id == return_id, Return.account_id == account_id)
                            .options(selectinload(Return.items)))
    if ret is None:
        return None
    run = DryRun(label=f"Return {ret.rma_number} (order {ret.order_name})")
    facts = return_facts([ret.id])
    if any(facts.get(item.id) is None for item in ret.items):
        run.problem = "This return's order is no longer stored (past retention), so the rules cannot read it."
        return run
    for item in ret.items:
        decision, checks = explain(rules, facts[item.id])
        run.items.append(ItemPreview(item.title, item.variant_title, item.quantity, item.reason, decision,
                                     checks, item.decision_trace))
    return run


def dry_run_order(account_id: int, order_name: str, reason: str, rules: list[RuleDef]) -> DryRun:
    """Every line of an order, as if returned with `reason`."""
    name = order_name.strip()
    if name and not name.startswith("#"):
        name = "#" + name
    order = db.session.scalar(select(Order).where(Order.account_id == account_id, Order.name == name)
                              .options(selectinload(Order.lines)))
    if order is None:
        return DryRun(problem=f"There is no stored order {name or '(blank)'}.")
    run = DryRun(label=f"Order {order.name}, reason “{reason}”")
    facts = order_line_facts(order, reason)
    for line in order.lines:
        decision, checks = explain(rules, facts[line.id])
        run.items.append(ItemPreview(line.title, line.variant_title, line.quantity, reason, decision, checks))
    return run


@dataclass
class Impact:
    """Replaying the last returns through a list of rules."""

    last: int
    returns: int = 0
    items: int = 0
    caught: list[int] = field(default_factory=list)   # per rule, in list order
    unmatched: int = 0
    compared: int = 0        # items whose stored decision came from the rules
    changed: int = 0         # …of which the outcome would now be different
    no_order: int = 0        # items whose order is gone (not replayed)
    examples: list[dict] = field(default_factory=list)


def impact(account_id: int, rules: list[RuleDef], last: int = DEFAULT_LAST) -> Impact:
    """How `rules` would treat the items of the account's last `last` returns."""
    last = max(1, min(int(last), MAX_LAST))
    result = Impact(last=last, caught=[0] * len(rules))
    returns = list(db.session.scalars(
        select(Return).where(Return.account_id == account_id)
        .order_by(Return.created_at.desc(), Return.id.desc()).limit(last).options(selectinload(Return.items))))
    result.returns = len(returns)
    facts = return_facts([r.id for r in returns])  # one query for every item replayed
    rule_set = RuleSet(rules)
    index_of = {id(rule): i for i, rule in enumerate(rules)}
    for ret in returns:
        for item in ret.items:
            result.items += 1
            if facts.get(item.id) is None:
                result.no_order += 1
                continue
            matched = rule_set.match(facts[item.id])
            outcome = matched.outcome if matched else None
            # A fee rule's percentage is part of its outcome: 10% → 15% changes what the item gets.
            after = outcome_words(matched.outcome, matched.fee_percentage) if matched else None
            if matched is None:
                result.unmatched += 1
            else:
                result.caught[index_of[id(matched)]] += 1
            if item.decision_trace is not None and not item.decision_trace.get("note"):
                result.compared += 1
                before = stored_outcome(item.decision_trace)
                said = outcome_words(before, item.decision_trace.get("fee_percentage")) if before else None
                if said != after:
                    result.changed += 1
                    if len(result.examples) < 10:
                        result.examples.append({"rma": ret.rma_number, "return_id": ret.id, "title": item.title,
                                                "before": before, "after": outcome, "before_text": said,
                                                "after_text": after})
    return result

"""The retailer's rules: create, edit (versioned), enable, delete, reorder; and the decision a
return's items get from them.

Every write to an account's rules first locks the account (SELECT … FOR UPDATE on PostgreSQL; on
SQLite a first write takes the database's single writer lock), then reads the rules and rewrites
positions 1..n in the same transaction. Two admins reordering at once therefore run one after the
other: last write wins, and positions never end up duplicated or missing.

A definition is stored as the retailer typed it ("Canada", "Faulty"), after `parse_rule` accepted
it (app/domain/rules_input.py); it is parsed again whenever it is evaluated. Every edit bumps the
rule's version; a decision records the rule id and version plus a trace of the values it saw, so
later edits (or deleting the rule) never change what an item already shows.
"""
import logging
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select, text

from app.domain.rules import DIMENSIONS, RuleDef, RuleInvalid, sentence
from app.domain.rules_parse import fee_text, outcome_words, parse_rule
from app.domain.rules_index import RuleSet
from app.domain.rules_input import validate
from app.domain.vocabulary import ItemResolution, Option, OptionMode, ReturnStatus, ReviewMode, RuleOutcome
from app.extensions import db
from app.models import Account, Return, Rule
from app.services.rule_facts import return_facts
from app.services.shopify_returns import queue_for_return

log = logging.getLogger(__name__)

# What each outcome issues in rules mode (app/services/submission_rules.py fixes the keep flag
# and the fee at submission). A Restocking fee rule refunds its items, less the rule's fee: a fee is
# taken from a refund or a credit note, and a refund is what the shopper paid for. Outcomes not
# here (No Action, Send to review, Exchange only) leave the item's option to staff.
RULES_MODE_OPTION = {RuleOutcome.REFUND: Option.REFUND, RuleOutcome.CREDIT: Option.CREDIT,
                     RuleOutcome.KEEP_REFUND: Option.REFUND, RuleOutcome.KEEP_CREDIT: Option.CREDIT,
                     RuleOutcome.FEE: Option.REFUND}
MAX_RULES = 200          # a list longer than this is not something a person can keep in their head
DECIDED_KIND = "rules_decided"


class RulesOrderMismatch(ValueError):
    """A posted order that does not name exactly the account's rules (stale page, tampering)."""


class RuleNotFound(LookupError):
    """No rule with that id in this account."""


# --- definitions ---------------------------------------------------------------------------

def describe(condition: dict) -> str:
    """`Order Country equal to Canada`, from a stored condition (a row that no longer fits the
    table — edited by hand in the database — is shown raw rather than breaking the page)."""
    if condition.get("dimension") not in DIMENSIONS or \
            condition.get("operator") not in DIMENSIONS[condition["dimension"]][1]:
        return f"{condition.get('dimension')} {condition.get('operator')} {condition.get('value')}"
    value = condition.get("value")
    if condition["operator"] == "between":
        shown = f"{value[0]} and {value[1]}"
    elif isinstance(value, list):
        shown = ", ".join(value)
    else:
        shown = value or ""
    return sentence(condition["dimension"], condition["operator"], str(shown))


def as_raw(rule: Rule) -> dict:
    """A stored rule as `parse_rule` reads it."""
    fee = rule.fee_percentage
    return {"name": rule.name, "enabled": rule.enabled, "outcome": rule.outcome, "conditions": rule.conditions,
            # Stored with four places ("15.0000"): read back as typed ("15"), which parse_rule accepts.
            "fee_percentage": None if fee is None else Decimal(fee_text(fee))}


def to_def(rule: Rule) -> RuleDef | None:
    """The parsed rule, or None (logged) for a stored definition that no longer parses — e.g. a
    country list changed — so one bad row never stops matching."""
    try:
        return parse_rule(as_raw(rule), rule.id, rule.version)
    except RuleInvalid as invalid:
        log.warning("rule %s of account %s does not parse: %s", rule.id, rule.account_id, invalid)
        return None


def reasons_of(account_id: int) -> list[str]:
    """The return reasons the account's portal offers."""
    return list(db.session.get(Account, account_id).return_reasons or [])


def rules_of(account_id: int) -> list[Rule]:
    """The account's rules in priority order."""
    return list(db.session.scalars(select(Rule).where(Rule.account_id == account_id)
                                   .order_by(Rule.position, Rule.id)))


def rule_defs(account_id: int) -> list[RuleDef]:
    """The account's rules, parsed, in priority order (unparseable ones left out)."""
    return [d for d in map(to_def, rules_of(account_id)) if d is not None]


# --- writes, one account at a time ---------------------------------------------------------

def _lock_account_rules(account_id: int) -> list[Rule]:
    """Serialise rule writes of one account and return its rules, freshly read, in order."""
    if db.session.get_bind().dialect.name == "sqlite":
        # End any read snapshot, then write first: this transaction takes SQLite's writer lock
        # before it reads (another writer waits on busy_timeout instead of failing on a stale
        # snapshot).
        db.session.commit()
        db.session.execute(text("UPDATE accounts SET id = id WHERE id = :id"), {"id": account_id})
    else:
        db.session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
    return list(db.session.scalars(
        select(Rule).where(Rule.account_id == account_id).order_by(Rule.position, Rule.id)
        .with_for_update().execution_options(populate_existing=True)))


def _find(rules: list[Rule], rule_id) -> Rule:
    for rule in rules:
        if rule.id == rule_id:
            return rule
    db.session.rollback()
    raise RuleNotFound(rule_id)


def _renumber(rules: list[Rule]) -> None:
    for position, rule in enumerate(rules, start=1):
        if rule.position != position:
            rule.position = position


def create_rule(account_id: int, raw: dict) -> Rule:
    """Add a rule at the bottom of the list (lowest priority)."""
    stored, _ = validate(raw, reasons_of(account_id))
    rules = _lock_account_rules(account_id)
    if len(rules) >= MAX_RULES:
        db.session.rollback()
        raise RuleInvalid([("name", f"An account can have at most {MAX_RULES} rules.")])
    _renumber(rules)
    rule = Rule(account_id=account_id, position=len(rules) + 1, version=1, **stored)
    db.session.add(rule)
    db.session.commit()
    return rule


def update_rule(account_id: int, rule_id: int, raw: dict) -> Rule:
    """Change a rule's definition; any change bumps its version."""
    stored, _ = validate(raw, reasons_of(account_id))
    rule = _find(_lock_account_rules(account_id), rule_id)
    if as_raw(rule) != stored:
        rule.name, rule.enabled, rule.outcome = stored["name"], stored["enabled"], stored["outcome"]
        rule.conditions, rule.fee_percentage = stored["conditions"], stored["fee_percentage"]
        rule.version += 1
    db.session.commit()
    return rule


def set_enabled(account_id: int, rule_id: int, enabled: bool) -> Rule:
    """Switch a rule on or off (an edit: the version changes)."""
    rule = _find(_lock_account_rules(account_id), rule_id)
    if rule.enabled != enabled:
        rule.enabled = enabled
        rule.version += 1
    db.session.commit()
    return rule


def delete_rule(account_id: int, rule_id: int) -> str:
    """Remove a rule and close the gap; returns its name. Past decisions keep their trace."""
    rules = _lock_account_rules(account_id)
    rule = _find(rules, rule_id)
    db.session.delete(rule)
    _renumber([r for r in rules if r is not rule])
    db.session.commit()
    return rule.name


def reorder(account_id: int, rule_ids: list[int]) -> None:
    """Store a new priority order. It must name every rule of the account exactly once."""
    rules = _lock_account_rules(account_id)
    if len(rule_ids) != len(set(rule_ids)) or set(rule_ids) != {r.id for r in rules}:
        db.session.rollback()
        raise RulesOrderMismatch("The rules changed since this page was loaded. Here is the current order.")
    by_id = {r.id: r for r in rules}
    _renumber([by_id[i] for i in rule_ids])
    db.session.commit()


def move(account_id: int, rule_id: int, step: int) -> None:
    """Move one rule up (step -1) or down (+1); at either end nothing changes."""
    rules = _lock_account_rules(account_id)
    rule = _find(rules, rule_id)
    index = rules.index(rule)
    target = index + step
    if 0 <= target < len(rules):
        rules[index], rules[target] = rules[target], rules[index]
    _renumber(rules)
    db.session.commit()


class PositionOutOfRange(ValueError):
    """A position outside 1..(number of rules); the message says which positions exist."""


def move_to(account_id: int, rule_id: int, position: int) -> None:
    """Put one rule at `position` (1 = top); the rules between shift by one."""
    rules = _lock_account_rules(account_id)
    rule = _find(rules, rule_id)
    if not 1 <= position <= len(rules):
        db.session.rollback()
        raise PositionOutOfRange(f"Choose a position from 1 to {len(rules)}.")
    rules.remove(rule)
    rules.insert(position - 1, rule)
    _renumber(rules)
    db.session.commit()


# --- decisions -----------------------------------------------------------------------------

def stored_outcome(trace: dict | None) -> str | None:
    """The outcome an item's stored decision trace records (None: none, or never evaluated)."""
    return (trace or {}).get("outcome")


def _lock_return(return_id: int) -> Return | None:
    """Lock one return's row (one decide_return at a time per return) and read it fresh."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.commit()
        db.session.execute(text("UPDATE returns SET id = id WHERE id = :id"), {"id": return_id})
    return db.session.scalar(select(Return).where(Return.id == return_id).with_for_update()
                             .execution_options(populate_existing=True))


def decide_return(return_id: int) -> str:
    """Decide each undecided item of a rules-mode return with the account's rules; returns a
    short summary of what happened. Safe to run twice: items that already carry a decision
    trace (or any resolution other than UNDECIDED) are left alone. Customer choice takes
    precedence: in that mode, or for a return whose options the customer chose, nothing runs."""
    ret = _lock_return(return_id)
    if ret is None:
        db.session.rollback()
        return "missing"
    account = db.session.get(Account, ret.account_id)
    if account.option_mode != OptionMode.RULES.value:
        db.session.rollback()
        return "customer choice: rules not run"
    if ret.option_source not in (None, "rules") or ret.status in (ReturnStatus.CANCELLED, ReturnStatus.DECLINED):
        db.session.rollback()
        return "not a rules return"
    pending = [i for i in ret.items
               if i.resolution == ItemResolution.UNDECIDED.value and i.decision_trace is None]
    if not pending:
        db.session.rollback()
        return "nothing to decide"
    now = datetime.now(timezone.utc)
    facts = return_facts([ret.id])  # everything the rules read, in one query, before evaluating
    if any(facts.get(item.id) is None for item in pending):
        # Purged past retention before the rules ran: deciding on missing values would be a
        # guess, so staff decide, and the trace says why.
        for item in pending:
            item.decision_trace = {"outcome": None, "rule_id": None, "rule_version": None, "rule_name": None,
                                   "conditions": [], "evaluated_at": now.isoformat(),
                                   "note": "The order's data was no longer stored, so no rule was tried."}
        _event(ret, now, "The rules could not run: the order's data is no longer stored. Staff decide.", [])
        db.session.commit()
        queue_for_return(ret)
        return "order gone"
    rule_set = RuleSet(rule_defs(account.id))
    summary = []
    for item in pending:
        decision = rule_set.evaluate(facts[item.id])
        item.decision_trace = {**decision.as_dict(), "evaluated_at": now.isoformat()}
        item.decided_by_rule_id, item.decided_by_rule_version = decision.rule_id, decision.rule_version
        option = RULES_MODE_OPTION.get(decision.outcome)
        if option is not None:
            item.option, item.resolution = option, ItemResolution.DECIDED.value
        elif decision.outcome is not None:
            # Send to review: the return waited for staff to approve it (return_review.needs_review),
            # and its items' options are theirs to decide, as with No Action and Exchange only.
            item.resolution = ItemResolution.NO_ACTION.value
        summary.append({"item_id": item.id, "title": item.title, "outcome": decision.outcome,
                        "rule_id": decision.rule_id, "rule_version": decision.rule_version,
                        "rule_name": decision.rule_name, **_fee_of(decision)})
    _event(ret, now, _summary_message(summary), summary)
    db.session.commit()
    # The options are known: every unit goes into a Shopify return now, and what the rules decided
    # is issued at once if the return action fired before they ran.
    queue_for_return(ret)
    return f"decided {sum(1 for s in summary if s['outcome'])} of {len(summary)}"


def _fee_of(decision) -> dict:
    return {} if decision.fee_percentage is None else {"fee_percentage": str(decision.fee_percentage)}


def _summary_message(summary: list[dict]) -> str:
    parts = []
    for entry in summary:
        if entry["outcome"] is None:
            parts.append(f"{entry['title']}: no rule matched, staff decide")
        else:
            said = outcome_words(entry["outcome"], entry.get("fee_percentage"))
            parts.append(f"{entry['title']}: {said} by rule “{entry['rule_name']}” (version {entry['rule_version']})")
    return "Rules decided: " + "; ".join(parts) + "."


def _event(ret: Return, now: datetime, message: str, summary: list) -> None:
    ret.add_event(DECIDED_KIND, message, "rules", data={"items": summary}, now=now)


# --- demo ----------------------------------------------------------------------------------

DEMO_RULES = [
    {"name": "Faulty items are refunded", "outcome": "refund", "enabled": True, "conditions": [
        {"dimension": "return_reason", "operator": "is", "value": "Faulty"}]},
    {"name": "Big discounts get a credit note", "outcome": "credit", "enabled": True, "conditions": [
        {"dimension": "discount_percent", "operator": "gt", "value": "50"}]},
    {"name": "Canada: no automation", "outcome": "no_action", "enabled": True, "conditions": [
        {"dimension": "country", "operator": "is", "value": "Canada"}]},
    {"name": "Frequent returners wait for staff", "outcome": "no_action", "enabled": True, "conditions": [
        {"dimension": "customer_returns", "operator": "gte", "value": "3"}]},
]


def seed_review_demo(account: Account, over) -> None:
    """The demo's review: a "Send to review" rule for orders worth more than ``over``, first, and
    the account reviewing by rule. Safe to run twice."""
    name = f"Orders over {over} are reviewed"
    account_id = account.id
    if name not in {r.name for r in rules_of(account_id)}:
        create_rule(account_id, {"name": name, "outcome": "review", "enabled": True, "conditions": [
            {"dimension": "order_value", "operator": "gt", "value": str(over)}]})
    account = db.session.get(Account, account_id)
    account.review_mode = ReviewMode.RULE.value
    db.session.commit()


# Demo Outfitters: items too cheap to ship back are refunded and kept (no parcel, no label).
KEEP_DEMO_RULE = {"name": "Items under 5 are kept", "outcome": "keep_refund", "enabled": True, "conditions": [
    {"dimension": "item_price", "operator": "lt", "value": "5"}]}


def seed_keep_demo(account: Account) -> None:
    """The demo's Keep item rule (at the bottom of the list). Safe to run twice."""
    if KEEP_DEMO_RULE["name"] not in {r.name for r in rules_of(account.id)}:
        create_rule(account.id, KEEP_DEMO_RULE)


def seed_rules_demo(account: Account, rules_mode: bool = True) -> list[Rule]:
    """The spec's three example rules (DESIGN §2.7), in the spec's order, then one on the
    customer's returns of the last 12 months, and (by default) the
    account switched to rules mode. Safe to run twice: a rule whose name exists is not added."""
    existing = {r.name for r in rules_of(account.id)}
    account_id = account.id
    if rules_mode and account.option_mode != OptionMode.RULES.value:
        account.option_mode = OptionMode.RULES.value
        db.session.commit()
    for raw in DEMO_RULES:
        if raw["name"] not in existing:
            create_rule(account_id, raw)
    return rules_of(account_id)

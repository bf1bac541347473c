"""The rules engine (DESIGN §2.7): pure, plain values in and out.

A rule is a name, an enabled flag, conditions joined by AND, and an outcome (refund, credit,
no_action, review, keep the item with a refund or credit note, exchange only, or a restocking fee
with its own percentage). For each returned item the enabled rules are tried in priority order; the first whose
conditions all hold decides, and the decision carries a trace: the rule and its version, and each
condition's observed value and result. No rule holds → no automation.

Definitions are validated by `parse_rule` (messages a retailer understands). `RuleSet` compiles a
priority-ordered list once and evaluates items fast (see rules_index.py); `evaluate_in_order` is
the plain reading of the spec, kept as the reference the fast path is tested against.
"""
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from decimal import Decimal, InvalidOperation

from app.domain.countries import country_code, country_name
from app.domain.vocabulary import RuleOutcome

NUMERIC_OPERATORS = {"eq": "equal to", "ne": "not equal to", "gt": "greater than", "gte": "at least",
                     "lt": "less than", "lte": "at most", "between": "between"}
CHOICE_OPERATORS = {"is": "equal to", "is_not": "not equal to", "any_of": "is any of", "none_of": "is none of"}
# Keys are stored in rule definitions: a label may change ("Tag" became "Order Tag" when product
# tags arrived), a key never does.
DIMENSIONS = {
    "tag": ("Order Tag", {"has": "has tag", "has_not": "does not have tag"}),
    "order_value": ("Order Value", NUMERIC_OPERATORS),
    "discount_value": ("Order Discount Value", NUMERIC_OPERATORS),
    "discount_percent": ("Order Discount Percent", NUMERIC_OPERATORS),
    "country": ("Order Country", CHOICE_OPERATORS),
    "return_reason": ("Order Return Reason", CHOICE_OPERATORS),
    "discount_code": ("Order Discount Code", {"is": "is", "contains": "contains", "any_of": "is any of",
                                              "none_used": "none used"}),
    "product": ("Product", CHOICE_OPERATORS),
    "product_type": ("Product Type", CHOICE_OPERATORS),
    "product_tag": ("Product Tag", {"has": "has tag", "has_not": "does not have tag"}),
    "collection": ("Collection", {"any_of": "is in", "none_of": "is not in"}),
    "item_price": ("Item Price", NUMERIC_OPERATORS),
    "customer_returns": ("Customer Returns (12 months)", NUMERIC_OPERATORS),
    "customer_returned_value": ("Customer Returned Value (12 months)", NUMERIC_OPERATORS),
}
# Where "<label> <operator> <value>" would not read as a sentence ("Tag has tag vip").
SENTENCES = {("tag", "has"): "Order has tag {}", ("tag", "has_not"): "Order does not have tag {}",
             ("product_tag", "has"): "Product has tag {}", ("product_tag", "has_not"): "Product does not have tag {}",
             ("discount_code", "none_used"): "No discount code used"}
NUMERIC = {"order_value", "discount_value", "discount_percent", "item_price", "customer_returns",
           "customer_returned_value"}
# The ItemFacts field each dimension reads.
FIELDS = {"tag": "tags", "order_value": "order_value", "discount_value": "discount_value",
          "discount_percent": "discount_percent", "country": "country", "return_reason": "reason",
          "discount_code": "codes", "product": "product", "product_type": "product_type",
          "product_tag": "product_tags", "collection": "collections", "item_price": "item_price",
          "customer_returns": "customer_returns", "customer_returned_value": "customer_returned_value"}


def sentence(dimension: str, operator: str, shown: str) -> str:
    """One condition as a retailer would say it, its value already written out."""
    if (dimension, operator) in SENTENCES:
        return SENTENCES[dimension, operator].format(shown).strip()
    label, operators = DIMENSIONS[dimension]
    return f"{label} {operators[operator]} {shown}".strip()
MAX_CONDITIONS = 20
UNUSABLE = "This holds a control character or broken text; type it again."


class RuleInvalid(ValueError):
    """A rule definition that cannot be used; `errors` lists (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in errors))
        self.errors = errors


@dataclass(frozen=True)
class Condition:
    """One test on one dimension. `value` is normalised: Decimal, (low, high), str or a
    frozenset of lower-cased strings / country codes, or None (none_used)."""

    dimension: str
    operator: str
    value: object

    def describe(self) -> str:
        """`Order Country equal to Canada`: how the retailer wrote it."""
        return self._sentence

    @cached_property
    def _sentence(self) -> str:
        # Written once per condition: every decision's trace repeats it.
        return sentence(self.dimension, self.operator, _show(self.dimension, self.value))


@dataclass(frozen=True)
class RuleDef:
    """A validated rule."""

    id: int | None
    version: int
    name: str
    enabled: bool
    conditions: tuple[Condition, ...]
    outcome: str
    fee_percentage: Decimal | None = None   # only for the Restocking fee outcome


@dataclass(frozen=True)
class ItemFacts:
    """What the rules read about one returned item and its order."""

    tags: frozenset[str]            # lower-cased, trimmed
    order_value: Decimal
    discount_value: Decimal
    discount_percent: Decimal
    country: str | None             # alpha-2
    reason: str                     # lower-cased
    codes: tuple[str, ...]          # lower-cased
    # The item's product (app.services.rule_facts): lower-cased title and type (None unknown),
    # its tags and the titles of its collections (lower-cased, trimmed).
    product: str | None = None
    product_type: str | None = None
    product_tags: frozenset[str] = frozenset()
    collections: frozenset[str] = frozenset()
    item_price: Decimal = Decimal(0)             # one unit, after its share of discounts
    # The customer's other returns in the 365 days before this one (not cancelled), and the
    # value of their items.
    customer_returns: Decimal = Decimal(0)
    customer_returned_value: Decimal = Decimal(0)


@dataclass(frozen=True)
class ConditionTrace:
    """One condition of the deciding rule: what it tested, what it saw, whether it held."""

    condition: str
    observed: str
    held: bool


@dataclass(frozen=True)
class Decision:
    """The outcome for one item (None: no rule matched, nothing automated) and why."""

    outcome: str | None
    rule_id: int | None = None
    rule_version: int | None = None
    rule_name: str | None = None
    trace: tuple[ConditionTrace, ...] = ()
    fee_percentage: Decimal | None = None   # the Restocking fee outcome's percentage

    def as_dict(self) -> dict:
        """JSON-ready, for the item's stored decision trace."""
        fee = {"fee_percentage": str(self.fee_percentage)} if self.fee_percentage is not None else {}
        return {"outcome": self.outcome, "rule_id": self.rule_id, "rule_version": self.rule_version,
                "rule_name": self.rule_name, **fee,
                "conditions": [{"condition": t.condition, "observed": t.observed, "held": t.held}
                               for t in self.trace]}


def _words(texts) -> frozenset[str]:
    return frozenset(t.strip().lower() for t in (texts or ()) if t and t.strip())


def _word(text) -> str | None:
    return str(text).strip().lower() or None if text is not None else None


def item_facts(*, tags, total_price, subtotal_price, total_discounts, country, reason, codes, product=None,
               product_type=None, product_tags=(), collections=(), item_price=None, customer_returns=0,
               customer_returned_value=None) -> ItemFacts:
    """Facts from an order's stored values, the item's reason, its product and its customer's
    past returns. Discount percent is total discounts ÷ (subtotal + total discounts) × 100, and 0
    when there is nothing to divide by."""
    subtotal = Decimal(subtotal_price or 0)
    discounts = Decimal(total_discounts or 0)
    base = subtotal + discounts
    percent = (discounts / base * 100) if base > 0 else Decimal(0)
    return ItemFacts(
        tags=frozenset(t.strip().lower() for t in (tags or ()) if t and t.strip()),
        order_value=Decimal(total_price or 0), discount_value=discounts, discount_percent=percent,
        country=country_code(country) if country else None, reason=(reason or "").strip().lower(),
        codes=tuple(c.strip().lower() for c in (codes or ()) if c and c.strip()),
        product=_word(product), product_type=_word(product_type), product_tags=_words(product_tags),
        collections=_words(collections), item_price=Decimal(item_price or 0),
        customer_returns=Decimal(customer_returns or 0), customer_returned_value=Decimal(customer_returned_value or 0))


# --- validation -----------------------------------------------------------------------------

MAX_AMOUNT = Decimal(10) ** 12  # above any order's value: a longer number is a typing slip
AMOUNTS = {"order_value", "discount_value", "item_price", "customer_returned_value"}
MAX_COUNT = 1_000_000  # returns by one customer in a year


def unusable_text(text) -> bool:
    """Text that cannot be a rule's words: control characters (NUL…), or the replacement mark a
    lone surrogate or broken UTF-8 was decoded into."""
    return any(ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cs") for ch in str(text or ""))


def _decimal(text, field: str, errors: list) -> Decimal | None:
    # Decimal() reads any script's digits ("٥٠" is 50); the editor asks for 0-9 like the hints show.
    if not str(text).strip().isascii():
        errors.append((field, f"“{text}” is not a number (use the digits 0 to 9)."))
        return None
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except (InvalidOperation, ValueError, TypeError):
        errors.append((field, f"“{text}” is not a number."))
        return None
    if not value.is_finite():
        errors.append((field, f"“{text}” is not a number."))
        return None
    return value


def _texts(raw) -> list[str]:
    items = raw if isinstance(raw, (list, tuple)) else str(raw or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def parse_condition(raw: dict, index: int) -> Condition:
    """Validate one condition; raises RuleInvalid naming the field (`conditions.<i>.<part>`)."""
    field = f"conditions.{index}"
    errors: list[tuple[str, str]] = []
    dimension = (raw or {}).get("dimension")
    operator = (raw or {}).get("operator")
    if dimension not in DIMENSIONS:
        raise RuleInvalid([(f"{field}.dimension", "Choose what the condition looks at.")])
    label, operators = DIMENSIONS[dimension]
    if operator not in operators:
        raise RuleInvalid([(f"{field}.operator", f"Choose how to compare the {label.lower()}.")])
    raw_value = raw.get("value")
    value: object = None
    parts = raw_value if isinstance(raw_value, (list, tuple)) else [raw_value, raw.get("low"), raw.get("high")]
    if any(unusable_text(part) for part in parts):
        raise RuleInvalid([(f"{field}.value", UNUSABLE)])
    if dimension in NUMERIC:
        if operator == "between":
            parts = raw_value if isinstance(raw_value, (list, tuple)) else [raw.get("low"), raw.get("high")]
            if len(parts) != 2:
                errors.append((f"{field}.value", "Give a lowest and a highest value."))
            else:
                low = _decimal(parts[0], f"{field}.value", errors)
                high = _decimal(parts[1], f"{field}.value", errors)
                if low is not None and high is not None:
                    if low > high:
                        errors.append((f"{field}.value", "The lowest value must not be above the highest."))
                    value = (low, high)
        else:
            value = _decimal(raw_value, f"{field}.value", errors)
        bounds = value if isinstance(value, tuple) else (value,)
        if dimension == "discount_percent" and value is not None and not errors:
            if any(b < 0 or b > 100 for b in bounds):
                errors.append((f"{field}.value", "A percentage is between 0 and 100."))
        elif dimension in AMOUNTS and value is not None and not errors:
            # No order is worth less than nothing: a negative bound is a slip (the sign typed by
            # mistake) that would make the condition hold for every order, or for none.
            if any(b < 0 for b in bounds):
                errors.append((f"{field}.value", "An amount is 0 or more."))
            elif any(b >= MAX_AMOUNT for b in bounds):
                errors.append((f"{field}.value", "Use an amount below 1,000,000,000,000."))
        elif dimension == "customer_returns" and value is not None and not errors:
            if any(b < 0 or b != b.to_integral_value() for b in bounds):
                errors.append((f"{field}.value", "A number of returns is a whole number, 0 or more."))
            elif any(b >= MAX_COUNT for b in bounds):
                errors.append((f"{field}.value", "Use a number below 1,000,000."))
    elif dimension == "country":
        names = _texts(raw_value)
        codes = []
        for name in names:
            code = country_code(name)
            if code is None:
                errors.append((f"{field}.value", f"“{name}” is not a country we know (use a name or a code like CA)."))
            codes.append(code)
        if not names:
            errors.append((f"{field}.value", "Name at least one country."))
        if operator in ("is", "is_not") and len(names) > 1:
            errors.append((f"{field}.value", "Name one country, or use “is any of”."))
        value = frozenset(c for c in codes if c)
    elif dimension == "discount_code" and operator == "none_used":
        value = None
    else:
        texts = [t.lower() for t in _texts(raw_value)]
        if not texts:
            errors.append((f"{field}.value", "Enter a value."))
        single = {"tag": True, "product_tag": True, "collection": False,
                  "discount_code": operator in ("is", "contains")}.get(dimension, operator in ("is", "is_not"))
        if single and len(texts) > 1:
            errors.append((f"{field}.value", "Enter one value, or use “is any of”."))
        value = texts[0] if single and texts else frozenset(texts)
    if errors:
        raise RuleInvalid(errors)
    return Condition(dimension, operator, value)


def parse_rule(raw: dict, rule_id: int | None = None, version: int = 1) -> RuleDef:
    """Validate a whole rule definition (name, enabled, conditions, outcome)."""
    errors: list[tuple[str, str]] = []
    name = str((raw or {}).get("name") or "").strip()
    if not name:
        errors.append(("name", "Give the rule a name."))
    elif unusable_text(name):
        errors.append(("name", UNUSABLE))
    elif len(name) > 120:
        errors.append(("name", "Use at most 120 characters."))
    outcome = (raw or {}).get("outcome")
    fee = None
    if outcome not in tuple(RuleOutcome):
        labels = [o.label for o in RuleOutcome]
        errors.append(("outcome", f"Choose what the rule does: {', '.join(labels[:-1])} or {labels[-1]}."))
    elif outcome == RuleOutcome.FEE:
        try:
            fee = parse_fee_percentage((raw or {}).get("fee_percentage"))
        except RuleInvalid as invalid:
            errors.extend(invalid.errors)
    raw_conditions = (raw or {}).get("conditions") or []
    if not isinstance(raw_conditions, list):
        raw_conditions = []
        errors.append(("conditions", "Conditions are a list."))
    if len(raw_conditions) > MAX_CONDITIONS:
        errors.append(("conditions", f"Use at most {MAX_CONDITIONS} conditions."))
    conditions = []
    for index, raw_condition in enumerate(raw_conditions[:MAX_CONDITIONS]):
        try:
            conditions.append(parse_condition(raw_condition if isinstance(raw_condition, dict) else {}, index))
        except RuleInvalid as invalid:
            errors.extend(invalid.errors)
    if errors:
        raise RuleInvalid(errors)
    return RuleDef(rule_id, version, name, bool(raw.get("enabled", True)), tuple(conditions), outcome, fee)


_FEE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,2})?", re.ASCII)


def parse_fee_percentage(raw) -> Decimal:
    """A Restocking fee rule's percentage as typed ("15", "12.5", "12.5%"): ASCII digits only (a
    "²" or "١٥" is not a number here), more than 0 and at most 100, two decimals at most (Shopify
    takes ``ReturnLineItemInput.restockingFee.percentage`` as a Float; app/domain/fees.py).
    Raises RuleInvalid on the "fee_percentage" field."""
    text = raw if isinstance(raw, str) else (str(raw) if isinstance(raw, (int, Decimal)) else "")
    text = text.strip().removesuffix("%").strip()
    if not text:
        raise RuleInvalid([("fee_percentage", "Enter the restocking fee as a percentage, e.g. 15.")])
    if len(text) > 6 or not _FEE.fullmatch(text):
        raise RuleInvalid([("fee_percentage", "Enter the percentage in digits, e.g. 15 or 12.5.")])
    value = Decimal(text)
    if not Decimal(0) < value <= Decimal(100):
        raise RuleInvalid([("fee_percentage", "A restocking fee is more than 0% and at most 100%.")])
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def outcome_words(outcome: str | None, fee_percentage=None) -> str:
    """The outcome as the rules list, traces and dry run say it: "Restocking fee 15%" for a fee
    rule (its percentage), else the outcome's label."""
    label = RuleOutcome.label_of(outcome) or ""
    if outcome == RuleOutcome.FEE and fee_percentage:
        return f"{label} {fee_text(fee_percentage)}%"
    return label


def fee_text(fee_percentage) -> str:
    """A stored fee percentage as typed back: "15", "12.5" (never "15.00" or "1.5E+1")."""
    shown = Decimal(str(fee_percentage))
    return format(shown.quantize(Decimal(1)) if shown == shown.to_integral() else shown.normalize(), "f")


def condition_to_json(condition: Condition):
    """The stored form of a condition (what parse_condition reads back)."""
    value = condition.value
    if isinstance(value, tuple):
        value = [str(value[0]), str(value[1])]
    elif isinstance(value, Decimal):
        value = str(value)
    elif isinstance(value, frozenset):
        value = sorted(value)
    return {"dimension": condition.dimension, "operator": condition.operator, "value": value}


# --- evaluation -----------------------------------------------------------------------------

def observed(dimension: str, facts: ItemFacts):
    """The item's value for a dimension."""
    return getattr(facts, FIELDS[dimension])


def holds(condition: Condition, facts: ItemFacts) -> bool:
    """Whether one condition holds for the item (the plain reading of the spec's table)."""
    seen = observed(condition.dimension, facts)
    op, value = condition.operator, condition.value
    if condition.dimension in NUMERIC:
        if op == "between":
            return value[0] <= seen <= value[1]
        return {"eq": seen == value, "ne": seen != value, "gt": seen > value, "gte": seen >= value,
                "lt": seen < value, "lte": seen <= value}[op]
    if condition.dimension in ("tag", "product_tag"):
        return (value in seen) is (op == "has")
    if condition.dimension == "collection":
        inside = bool(seen & value)
        return inside if op == "any_of" else not inside
    if condition.dimension == "discount_code":
        if op == "none_used":
            return not seen
        if op == "is":
            return value in seen
        if op == "contains":
            return any(value in code for code in seen)
        return any(code in value for code in seen)
    # country, return_reason, product, product_type: one value against a code / a set
    members = {value} if isinstance(value, str) else value
    inside = seen in members
    return inside if op in ("is", "any_of") else not inside


def trace_of(rule: RuleDef, facts: ItemFacts) -> tuple[ConditionTrace, ...]:
    """Each condition of a rule with the value the item showed and whether it held."""
    return tuple(ConditionTrace(c.describe(), _show(c.dimension, observed(c.dimension, facts)), holds(c, facts))
                 for c in rule.conditions)


def decide(rule: RuleDef | None, facts: ItemFacts) -> Decision:
    """The Decision for the rule that matched (or none)."""
    if rule is None:
        return Decision(None)
    return Decision(rule.outcome, rule.id, rule.version, rule.name, trace_of(rule, facts), rule.fee_percentage)


def evaluate_in_order(rules, facts: ItemFacts) -> Decision:
    """The reference: try enabled rules top to bottom, first full match decides."""
    for rule in rules:
        if rule.enabled and all(holds(c, facts) for c in rule.conditions):
            return decide(rule, facts)
    return Decision(None)


def _show(dimension: str, value) -> str:
    if value is None:
        return "(none)" if dimension != "country" else "(unknown)"
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, Decimal) for v in value):
        return f"{_show(dimension, value[0])} and {_show(dimension, value[1])}"
    if isinstance(value, (frozenset, set, tuple, list)):
        items = sorted(value)
        if dimension == "country":
            items = [country_name(v) for v in items]
        return ", ".join(items) if items else "(none)"
    if dimension == "country":
        return country_name(value)
    if isinstance(value, Decimal):
        # 60.0 -> "60", 33.3333… -> "33.33": readable, while comparisons use the exact value.
        try:
            return format(value.quantize(Decimal("0.01")).normalize(), "f")
        except InvalidOperation:  # too many digits to round: show it as it is
            return str(value)
    return str(value)

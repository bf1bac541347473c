"""The rules engine (DESIGN §2.7): pure, plain values in and out.

A rule is a name, an enabled flag, conditions joined by AND, and an outcome (refund, credit,
no_action, review, keep the item with a refund or credit note, exchange only, or a restocking fee
with its own percentage). For each returned item the enabled rules are tried in priority order; the first whose
conditions all hold decides, and the decision carries a trace: the rule and its version, and each
condition's observed value and result. No rule holds → no automation.

Definitions are validated by `rules_parse.parse_rule` (messages a retailer understands). `RuleSet` compiles a
priority-ordered list once and evaluates items fast (see rules_index.py); `evaluate_in_order` is
the plain reading of the spec, kept as the reference the fast path is tested against.
"""
from dataclasses import dataclass
from functools import cached_property
from decimal import Decimal, InvalidOperation

from app.domain.countries import country_code, country_name

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

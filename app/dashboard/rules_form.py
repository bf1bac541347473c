"""The rule editor's form: a name, an outcome (with its percentage for a Restocking fee), a switch
and any number of condition rows.

Condition rows come and go in the browser, so they are not a fixed WTForms form. Each row has a
short key; its inputs are named `cond-<key>-dimension|operator|value|low|high` and a hidden
`row` input lists the keys in page order (the order the conditions are saved in). Everything
posted is untrusted text: it is only ever turned into the plain dict `parse_rule` validates, and
errors come back as (field, message) pairs that are put next to the row and part they name.
"""
import re
import secrets
from dataclasses import dataclass, field

from app.domain.rules import DIMENSIONS, MAX_CONDITIONS, NUMERIC, RuleInvalid
from app.domain.rules_parse import fee_text
from app.domain.vocabulary import RuleOutcome

KEY = re.compile(r"^[a-z0-9]{1,16}$")
MAX_TEXT = 1000  # longer posted text is cut here; the service then refuses anything over its limit


def _text(value) -> str:
    return str(value or "")[:MAX_TEXT]


def new_key() -> str:
    """A fresh row key (random, so rows added in the browser never collide)."""
    return secrets.token_hex(4)


@dataclass
class ConditionRow:
    """One condition as shown in the form."""

    key: str
    dimension: str = ""
    operator: str = ""
    value: str = ""
    low: str = ""
    high: str = ""
    errors: dict = field(default_factory=dict)

    @property
    def operators(self) -> dict:
        """The operators the chosen dimension offers (none before a dimension is chosen)."""
        return DIMENSIONS[self.dimension][1] if self.dimension in DIMENSIONS else {}

    def settle(self) -> "ConditionRow":
        """After the dimension changed: fall back to its first operator when the old one does
        not fit, so the value inputs shown always match."""
        if self.dimension in DIMENSIONS and self.operator not in self.operators:
            self.operator = next(iter(self.operators))
        return self

    def to_raw(self) -> dict:
        """The condition as `parse_rule` reads it."""
        if self.operator == "between":
            value = [self.low, self.high]
        elif self.operator == "none_used":
            value = None
        else:
            value = self.value
        return {"dimension": self.dimension, "operator": self.operator, "value": value}

    @classmethod
    def from_stored(cls, key: str, stored: dict) -> "ConditionRow":
        """A row showing a saved condition."""
        value = stored.get("value")
        row = cls(key, stored.get("dimension", ""), stored.get("operator", ""))
        if row.operator == "between" and isinstance(value, list) and len(value) == 2:
            row.low, row.high = str(value[0]), str(value[1])
        elif isinstance(value, list):
            row.value = ", ".join(str(v) for v in value)
        elif value is not None:
            row.value = str(value)
        return row

    @classmethod
    def from_params(cls, key: str, params) -> "ConditionRow":
        """A row from posted (or query) parameters."""
        def get(part):
            return _text(params.get(f"cond-{key}-{part}"))
        return cls(key, get("dimension"), get("operator"), get("value"), get("low"), get("high"))


@dataclass
class RuleForm:
    """The whole editor."""

    name: str = ""
    outcome: str = ""
    enabled: bool = True
    rows: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)  # "name", "outcome", "fee_percentage", "conditions"
    fee_percentage: str = ""   # as typed; read only for the Restocking fee outcome

    @classmethod
    def blank(cls) -> "RuleForm":
        """A new rule: one empty condition row, switched on."""
        return cls(rows=[ConditionRow(new_key())])

    @classmethod
    def from_rule(cls, rule) -> "RuleForm":
        """A saved rule, ready to edit."""
        fee = fee_text(rule.fee_percentage) if rule.fee_percentage is not None else ""
        return cls(rule.name, rule.outcome, rule.enabled,
                   [ConditionRow.from_stored(new_key(), c) for c in rule.conditions or []], fee_percentage=fee)

    @classmethod
    def from_post(cls, form) -> "RuleForm":
        """The posted editor. Keys that are not well formed are dropped; more rows than a rule
        may have are kept only up to one over the limit, so the limit's error shows."""
        keys = []
        for key in form.getlist("row"):
            if KEY.match(key) and key not in keys:
                keys.append(key)
            if len(keys) > MAX_CONDITIONS:
                break
        return cls(_text(form.get("name")), _text(form.get("outcome")), form.get("enabled") == "1",
                   [ConditionRow.from_params(key, form) for key in keys],
                   fee_percentage=_text(form.get("fee_percentage"))[:40])

    def to_raw(self) -> dict:
        """The rule as `parse_rule` reads it."""
        return {"name": self.name, "outcome": self.outcome, "enabled": self.enabled,
                "conditions": [row.to_raw() for row in self.rows], "fee_percentage": self.fee_percentage}

    def remove(self, key: str) -> None:
        """Drop one row (the no-JavaScript Remove button)."""
        self.rows = [row for row in self.rows if row.key != key]

    def add_row(self) -> None:
        """Append an empty row, up to the limit."""
        if len(self.rows) < MAX_CONDITIONS:
            self.rows.append(ConditionRow(new_key()))

    def settle(self) -> None:
        """Refresh every row's inputs to fit its dimension (the "Update fields" button)."""
        for row in self.rows:
            row.settle()

    def show_errors(self, invalid: RuleInvalid) -> None:
        """Put each error next to the field it names (`conditions.<i>.<part>` → row i)."""
        for name, message in invalid.errors:
            parts = name.split(".")
            if parts[0] == "conditions" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(self.rows):
                self.rows[int(parts[1])].errors.setdefault(parts[2], []).append(message)
            else:
                self.errors.setdefault(parts[0], []).append(message)


DIMENSION_CHOICES = [(key, label) for key, (label, _) in DIMENSIONS.items()]
OUTCOME_CHOICES = RuleOutcome.choices()


def value_kind(row: ConditionRow) -> str:
    """Which value inputs a row shows: none, range, number, list or text."""
    if row.dimension not in DIMENSIONS or row.operator not in row.operators:
        return "none" if row.dimension not in DIMENSIONS else "text"
    if row.operator == "none_used":
        return "none"
    if row.operator == "between":
        return "range"
    if row.dimension in NUMERIC:
        return "number"
    return "list" if row.operator in ("any_of", "none_of") else "text"

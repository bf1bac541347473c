"""Reading a rule as the retailer typed it: `parse_rule` validates a definition (messages a
retailer understands, naming the field) into the engine's `RuleDef` (app/domain/rules.py), and
`condition_to_json` writes a condition back in the form it reads. Pure, like the engine.
"""
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from app.domain.countries import country_code
from app.domain.rules import DIMENSIONS, MAX_CONDITIONS, NUMERIC, UNUSABLE, Condition, RuleDef, RuleInvalid
from app.domain.vocabulary import RuleOutcome

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

"""A posted rule definition, checked and kept as the retailer typed it ("Canada", "Faulty"): the
limits ``parse_rule`` leaves to its caller, conditions on a return reason the portal never offers,
and the stored form of each condition. Pure: plain values in and out."""
from __future__ import annotations

from app.domain.rules import MAX_CONDITIONS, NUMERIC, RuleDef, RuleInvalid
from app.domain.rules_parse import parse_condition, parse_rule
from app.domain.rules_reach import unoffered

MAX_VALUE_CHARS = 200    # one typed value (a reason, a code, a number)
MAX_VALUES = 50          # entries of an "is any of" list


def validate(raw: dict, reasons: list[str] | None = None) -> tuple[dict, RuleDef]:
    """Check a posted definition; return (what to store, the parsed rule). Raises RuleInvalid
    with (field, message) pairs, the same field names `parse_rule` uses. With `reasons` (the
    shop's return reasons), a condition on a reason the portal never offers is refused too."""
    _check_sizes(raw)
    # Every error at once: a reason the shop does not offer shows beside the other conditions' errors.
    unoffered_errors = _reason_errors(raw.get("conditions"), reasons) if reasons is not None else []
    try:
        parsed = parse_rule(raw)
    except RuleInvalid as invalid:
        raise RuleInvalid(invalid.errors + unoffered_errors) from None
    if unoffered_errors:
        raise RuleInvalid(unoffered_errors)
    stored = [_stored_condition(c) for c in raw.get("conditions") or []]
    # The fee's percentage is kept only for a Restocking fee rule (switching away clears it).
    return {"name": parsed.name, "enabled": parsed.enabled, "outcome": parsed.outcome, "conditions": stored,
            "fee_percentage": parsed.fee_percentage}, parsed


def _check_sizes(raw: dict) -> None:
    """Limits `parse_rule` leaves to the caller: nothing huge reaches the database."""
    errors = []
    conditions = raw.get("conditions")
    for index, condition in enumerate(conditions if isinstance(conditions, list) else []):
        if not isinstance(condition, dict):
            continue  # parse_rule names it
        value = condition.get("value")
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(values) > MAX_VALUES:
            errors.append((f"conditions.{index}.value", f"Use at most {MAX_VALUES} values."))
        elif any(len(str(v or "")) > MAX_VALUE_CHARS
                 for v in values + [condition.get("low"), condition.get("high")]):
            errors.append((f"conditions.{index}.value", f"Use at most {MAX_VALUE_CHARS} characters."))
    if errors:
        raise RuleInvalid(errors)


def _reason_errors(raw_conditions, reasons: list[str]) -> list[tuple[str, str]]:
    """A shopper picks a reason from the shop's list (the portal refuses any other), so a
    condition naming another one can never hold, or holds for everything: one error for each
    condition that does (conditions that do not parse get parse_rule's errors instead)."""
    errors = []
    for index, raw in enumerate(raw_conditions[:MAX_CONDITIONS] if isinstance(raw_conditions, list) else []):
        try:
            missing = unoffered(parse_condition(raw if isinstance(raw, dict) else {}, index), reasons)
        except RuleInvalid:
            continue
        if missing:
            listed = ", ".join(reasons) if reasons else "none yet"
            errors.append((f"conditions.{index}.value",
                           f"“{_typed_reason(raw, missing[0])}” is not one of your return reasons, so no returned "
                           f"item can have it. Your reasons: {listed} (change them in Settings)."))
    return errors


def _typed_reason(raw_condition: dict, lowered: str) -> str:
    """The reason as the retailer typed it (parsed conditions hold it lower-cased)."""
    value = raw_condition.get("value")
    typed = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    return next((str(t).strip() for t in typed if str(t).strip().lower() == lowered), lowered)


def _stored_condition(raw: dict) -> dict:
    """The retailer's own words for a valid condition (so editing shows what they typed)."""
    dimension, operator, value = raw["dimension"], raw["operator"], raw.get("value")
    if operator == "none_used":
        value = None
    elif operator == "between":
        value = value if isinstance(value, (list, tuple)) else [raw.get("low"), raw.get("high")]
        value = [str(v).strip() for v in value]
    elif dimension in NUMERIC:
        value = str(value).strip()
    else:
        # The same split parse_condition makes: a list as given, or comma-separated text.
        items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
        texts = [str(v).strip() for v in items if str(v).strip()]
        value = texts if operator in ("any_of", "none_of") else texts[0]
    return {"dimension": dimension, "operator": operator, "value": value}

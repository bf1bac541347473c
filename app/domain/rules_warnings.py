"""Rules that can never fire: pure analysis for the warnings on the rules page.

A rule R can never fire when an earlier enabled rule E catches every item R would: first match
wins, so E always decides before R is tried. We prove "every item satisfying R satisfies E" with
one sufficient test and nothing cleverer: each condition of E is implied by a single condition of
R on the same dimension (so an unconditional E catches everything). Implication is decided per
operator pair with set reasoning that holds for *every* possible value (numbers over all reals,
texts over all strings), so a warning is never wrong; when in doubt we say nothing. A missed
warning costs the retailer a puzzle; a wrong one would make them delete a rule that works.
"""
from dataclasses import dataclass
from decimal import Decimal

from app.domain.rules import NUMERIC, Condition, RuleDef


@dataclass(frozen=True)
class NeverFires:
    """`rule` (index in the priority list) is shadowed by the earlier rule `by`."""

    rule: int
    by: int
    message: str


def never_firing(rules: list[RuleDef]) -> dict[int, NeverFires]:
    """For each enabled rule (by index in priority order) that an earlier enabled rule covers,
    the first such rule and a sentence saying why."""
    found: dict[int, NeverFires] = {}
    for index, rule in enumerate(rules):
        if not rule.enabled:
            continue  # a disabled rule never fires anyway; its switch says so
        for earlier_index in range(index):
            earlier = rules[earlier_index]
            if earlier.enabled and covers(earlier, rule):
                found[index] = NeverFires(index, earlier_index, _why(earlier, earlier_index))
                break
    return found


def covers(earlier: RuleDef, later: RuleDef) -> bool:
    """True only when every item matching `later` certainly matches `earlier`."""
    return all(any(implies(mine, theirs) for mine in later.conditions) for theirs in earlier.conditions)


def _why(earlier: RuleDef, index: int) -> str:
    where = f"rule {index + 1}, “{earlier.name}”"
    if not earlier.conditions:
        return f"This rule never runs: {where}, is above it and has no conditions, so it catches every item first."
    return f"This rule never runs: {where}, is above it and catches every item this one would."


def implies(a: Condition, b: Condition) -> bool:
    """Whether `a` holding guarantees `b` holds, for any item (False when unsure)."""
    if a.dimension != b.dimension:
        return False
    if a.dimension in NUMERIC:
        return _numeric_implies(a, b)
    if a.dimension in ("tag", "product_tag"):
        # has x ⇒ has x; lacks x ⇒ lacks x. An order (a product) can carry any other tag as
        # well, so nothing else follows.
        return a.operator == b.operator and a.value == b.value
    if a.dimension == "collection":
        return _set_implies(a, b)
    if a.dimension == "discount_code":
        return _code_implies(a, b)
    return _choice_implies(a, b)


# --- numbers: a condition is an interval of the real line, or the line minus one point ---------

_INF = None  # an open end of an interval


def _interval(c: Condition):
    """(low, low_closed, high, high_closed); None for an unbounded end."""
    op, v = c.operator, c.value
    return {"eq": (v, True, v, True), "gt": (v, False, _INF, False), "gte": (v, True, _INF, False),
            "lt": (_INF, False, v, False), "lte": (_INF, False, v, True)}.get(op) or (v[0], True, v[1], True)


def _contains_point(interval, point: Decimal) -> bool:
    low, low_closed, high, high_closed = interval
    above = low is None or point > low or (point == low and low_closed)
    below = high is None or point < high or (point == high and high_closed)
    return above and below


def _inside(inner, outer) -> bool:
    """Interval inclusion (intervals from valid rules are never empty: between has low ≤ high)."""
    i_low, i_low_closed, i_high, i_high_closed = inner
    o_low, o_low_closed, o_high, o_high_closed = outer
    low_ok = o_low is None or (i_low is not None and (
        i_low > o_low or (i_low == o_low and (o_low_closed or not i_low_closed))))
    high_ok = o_high is None or (i_high is not None and (
        i_high < o_high or (i_high == o_high and (o_high_closed or not i_high_closed))))
    return low_ok and high_ok


def _numeric_implies(a: Condition, b: Condition) -> bool:
    if b.operator == "ne":
        if a.operator == "ne":
            return a.value == b.value
        return not _contains_point(_interval(a), b.value)
    if a.operator == "ne":
        return False  # "anything but x" is never inside one interval
    return _inside(_interval(a), _interval(b))


# --- one observed value (country, reason): a set of values, or everything outside one ---------

def _members(c: Condition) -> frozenset:
    return frozenset([c.value]) if isinstance(c.value, str) else frozenset(c.value)


def _choice_implies(a: Condition, b: Condition) -> bool:
    a_in, b_in = a.operator in ("is", "any_of"), b.operator in ("is", "any_of")
    if a_in and b_in:
        return _members(a) <= _members(b)
    if a_in:  # inside A ⇒ outside B when A and B share nothing
        return not (_members(a) & _members(b))
    if b_in:  # "anything outside A" includes values nobody listed (and an unknown country)
        return False
    return _members(b) <= _members(a)  # outside A ⇒ outside B when B ⊆ A


# --- collections: the product's collections, zero or more ------------------------------------

def _set_implies(a: Condition, b: Condition) -> bool:
    """In one of A ⇒ in one of B when A ⊆ B; in none of A ⇒ in none of B when B ⊆ A. A product
    can be in any other collections too (or in none), so nothing crosses between the two."""
    if a.operator != b.operator:
        return False
    return a.value <= b.value if a.operator == "any_of" else b.value <= a.value


# --- discount codes: the order's codes, zero or more -------------------------------------------

def _code_implies(a: Condition, b: Condition) -> bool:
    if a.operator == "none_used" or b.operator == "none_used":
        # none used ⇒ none used; any other condition needs a code, so it never implies "none
        # used", and "none used" implies nothing that needs one.
        return a.operator == b.operator
    if a.operator == "is":
        codes = {a.value}
    elif a.operator == "any_of":
        codes = set(a.value)
    else:  # contains x: the codes could be anything with x inside
        return b.operator == "contains" and b.value in a.value
    # Some code from `codes` is on the order: b holds whichever of them it is.
    if b.operator == "is":
        return codes == {b.value}
    if b.operator == "any_of":
        return codes <= set(b.value)
    return all(b.value in code for code in codes)  # contains

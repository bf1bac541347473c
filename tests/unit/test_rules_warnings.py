"""The "can never fire" warnings: the cases the spec names are found, and a warning is never
wrong (hypothesis: a warned rule never decides any item under the reference evaluator, and it
is always implied by the earlier rule it names)."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.rules import ItemFacts, evaluate_in_order, holds
from app.domain.rules_parse import parse_rule
from app.domain.rules_warnings import covers, never_firing
from tests.unit.test_rules_properties import conditions, items


def rule(name, *conds, outcome="refund", enabled=True, rule_id=None):
    return parse_rule({"name": name, "outcome": outcome, "enabled": enabled,
                       "conditions": [{"dimension": d, "operator": o, "value": v} for d, o, v in conds]},
                      rule_id=rule_id)


def warned(*rules):
    return {index: found.by for index, found in never_firing(list(rules)).items()}


def test_an_unconditional_rule_shadows_everything_below_it():
    found = never_firing([rule("a", ("tag", "has", "vip")), rule("catch all"), rule("c", ("order_value", "gt", "5"))])
    assert list(found) == [2]
    assert found[2].by == 1
    assert "“catch all”, is above it and has no conditions" in found[2].message


@pytest.mark.parametrize("earlier, later", [
    (("discount_percent", "gt", "50"), ("discount_percent", "gt", "50")),       # the same condition
    (("discount_percent", "gt", "50"), ("discount_percent", "gt", "70")),       # a wider bound above
    (("discount_percent", "gte", "50"), ("discount_percent", "gt", "50")),
    (("order_value", "lt", "100"), ("order_value", "between", ["10", "20"])),
    (("order_value", "between", ["0", "100"]), ("order_value", "eq", "100")),
    (("order_value", "ne", "5"), ("order_value", "gt", "5")),
    (("country", "any_of", ["CA", "US"]), ("country", "is", "Canada")),
    (("country", "is_not", "FR"), ("country", "is", "CA")),
    (("country", "none_of", ["FR"]), ("country", "none_of", ["FR", "GB"])),
    (("return_reason", "is", "Faulty"), ("return_reason", "is", "faulty")),
    (("tag", "has", "vip"), ("tag", "has", "VIP")),
    (("discount_code", "contains", "staff"), ("discount_code", "is", "STAFF50")),
    (("discount_code", "any_of", ["A", "B"]), ("discount_code", "is", "A")),
    (("discount_code", "contains", "st"), ("discount_code", "contains", "staff")),
    (("discount_code", "none_used", None), ("discount_code", "none_used", None)),
    (("collection", "any_of", ["Sale", "Outlet"]), ("collection", "any_of", ["sale"])),
    (("collection", "none_of", ["Outlet"]), ("collection", "none_of", ["Outlet", "Archive"])),
    (("product_tag", "has", "final-sale"), ("product_tag", "has", "Final-Sale")),
    (("product_type", "any_of", ["Shoes", "Boots"]), ("product_type", "is", "boots")),
    (("product", "is_not", "Gift Card"), ("product", "is", "Trail Runner")),
    (("item_price", "lt", "50"), ("item_price", "between", ["10", "20"])),
    (("customer_returns", "gte", "3"), ("customer_returns", "gt", "5")),
    (("customer_returned_value", "gt", "100"), ("customer_returned_value", "gte", "200")),
])
def test_a_wider_or_equal_single_condition_above_is_found(earlier, later):
    assert warned(rule("wide", earlier), rule("narrow", later, ("tag", "has", "x"))) == {1: 0}


@pytest.mark.parametrize("earlier, later", [
    (("discount_percent", "gt", "70"), ("discount_percent", "gt", "50")),       # narrower above
    (("discount_percent", "gt", "50"), ("discount_percent", "gte", "50")),      # 50 itself escapes
    (("order_value", "lt", "100"), ("order_value", "between", ["10", "100"])),
    (("order_value", "ne", "5"), ("order_value", "gte", "5")),
    (("order_value", "gt", "5"), ("order_value", "ne", "5")),
    (("country", "is", "CA"), ("country", "any_of", ["CA", "US"])),
    (("country", "any_of", ["CA"]), ("country", "is_not", "US")),               # an unknown country escapes
    (("return_reason", "is_not", "Faulty"), ("return_reason", "none_of", ["Too small"])),
    (("tag", "has_not", "vip"), ("tag", "has", "gift")),                        # an order can carry both
    (("discount_code", "is", "STAFF50"), ("discount_code", "contains", "staff")),
    (("discount_code", "none_used", None), ("discount_code", "is", "A")),
    (("order_value", "gt", "5"), ("discount_value", "gt", "5")),                # another dimension
    (("collection", "any_of", ["Sale"]), ("collection", "none_of", ["Outlet"])),  # may be in neither
    (("collection", "none_of", ["Sale"]), ("collection", "any_of", ["Outlet"])),  # may be in both
    (("product_tag", "has", "vip"), ("tag", "has", "vip")),                     # order tag, not product tag
    (("customer_returns", "gte", "3"), ("customer_returns", "gte", "2")),
    (("item_price", "gt", "5"), ("order_value", "gt", "5")),
])
def test_no_warning_when_some_item_escapes(earlier, later):
    assert warned(rule("a", earlier), rule("b", later)) == {}


def test_disabled_rules_neither_shadow_nor_get_warnings():
    assert warned(rule("off", enabled=False), rule("b", ("tag", "has", "vip"))) == {}
    assert warned(rule("all"), rule("off", enabled=False)) == {}


def test_every_condition_of_the_earlier_rule_must_be_implied():
    earlier = rule("two", ("tag", "has", "vip"), ("order_value", "gt", "100"))
    assert warned(earlier, rule("one", ("tag", "has", "vip"))) == {}
    assert warned(earlier, rule("both", ("order_value", "gt", "200"), ("tag", "has", "vip"),
                                ("country", "is", "CA"))) == {1: 0}


@st.composite
def rule_pairs(draw):
    """An earlier and a later rule, often built to overlap (same dimension, nearby values)."""
    earlier = draw(st.lists(conditions(), min_size=1, max_size=2))  # unconditional: tested above
    later = draw(st.lists(conditions(), max_size=2))
    for condition in earlier:
        # Overlap on purpose, so warnings come up often: the same condition, or another one on
        # the same dimension (where a too-generous implication would show).
        choice = draw(st.sampled_from(["same", "related", "related", "none"]))
        if choice == "same":
            later.append(condition)
        elif choice == "related":
            later.append(draw(conditions().filter(lambda c, d=condition["dimension"]: c["dimension"] == d)))
    make = lambda conds, name, rid: parse_rule({"name": name, "outcome": "refund", "conditions": conds}, rule_id=rid)  # noqa: E731
    return make(earlier, "earlier", 1), make(later, "later", 2)


@settings(max_examples=400, deadline=None)
@given(rule_pairs(), st.lists(items(), min_size=1, max_size=25))
def test_a_warned_rule_never_fires_on_any_item(pair, sample):
    earlier, later = pair
    if 1 not in never_firing([earlier, later]):
        return
    for item in sample:
        if all(holds(c, item) for c in later.conditions):
            assert all(holds(c, item) for c in earlier.conditions)
        assert evaluate_in_order([earlier, later], item).rule_id != 2


@settings(max_examples=400, deadline=None)
@given(conditions(), conditions(), st.lists(items(), min_size=1, max_size=25))
def test_implication_between_single_conditions_is_sound(a, b, sample):
    one = parse_rule({"name": "a", "outcome": "refund", "conditions": [a]})
    other = parse_rule({"name": "b", "outcome": "refund", "conditions": [b]})
    if covers(other, one):  # `one` holding guarantees `other` holds
        for item in sample:
            if holds(one.conditions[0], item):
                assert holds(other.conditions[0], item)


def test_identical_conditions_always_cover_each_other():
    # A completeness spot check over the property-test generator's whole range.
    @settings(max_examples=200, deadline=None)
    @given(conditions())
    def check(raw):
        parsed = parse_rule({"name": "x", "outcome": "refund", "conditions": [raw]})
        assert covers(parsed, parsed)

    check()


@st.composite
def boundary_items(draw, rules):
    """Items built straight from the rules' own values: every threshold, a cent either side,
    the listed countries, reasons, tags and codes, and their absence; where a wrong warning
    would show."""
    numbers = {Decimal("0")}
    texts = {"reason": {""}, "tag": set(), "code": set(), "country": {None}, "product": {None},
             "product_type": {None}, "product_tag": set(), "collection": set()}
    for r in rules:
        for c in r.conditions:
            values = c.value if isinstance(c.value, (tuple, frozenset)) else (c.value,)
            for v in values:
                if isinstance(v, Decimal):
                    numbers |= {v, v - Decimal("0.01"), v + Decimal("0.01")}
                elif v is not None:
                    key = {"return_reason": "reason", "tag": "tag", "discount_code": "code",
                           "country": "country"}.get(c.dimension, c.dimension)
                    texts[key] |= {v, v + "x", "x" + v} if key == "code" else {v}
    pick = st.sampled_from(sorted(numbers))
    return ItemFacts(
        tags=frozenset(draw(st.lists(st.sampled_from(sorted(texts["tag"]) or ["none"]), max_size=3))),
        order_value=draw(pick), discount_value=draw(pick), discount_percent=draw(pick),
        country=draw(st.sampled_from(sorted(texts["country"], key=str) + ["DE"])),
        reason=draw(st.sampled_from(sorted(texts["reason"]) + ["other"])),
        codes=tuple(draw(st.lists(st.sampled_from(sorted(texts["code"]) or ["none"]), max_size=2))),
        product=draw(st.sampled_from(sorted(texts["product"], key=str) + ["other"])),
        product_type=draw(st.sampled_from(sorted(texts["product_type"], key=str) + ["other"])),
        product_tags=frozenset(draw(st.lists(st.sampled_from(sorted(texts["product_tag"]) or ["none"]), max_size=3))),
        collections=frozenset(draw(st.lists(st.sampled_from(sorted(texts["collection"]) or ["none"]), max_size=3))),
        item_price=draw(pick), customer_returns=draw(pick), customer_returned_value=draw(pick))


@settings(max_examples=600, deadline=None)
@given(rule_pairs(), st.data())
def test_a_warned_rule_never_fires_even_at_the_boundaries(pair, data):
    earlier, later = pair
    if 1 not in never_firing([earlier, later]):
        return
    for _ in range(20):
        item = data.draw(boundary_items([earlier, later]))
        assert evaluate_in_order([earlier, later], item).rule_id != 2

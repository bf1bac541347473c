"""Conditions read as sentences a retailer would say, in the rules list and in a rule's trace on
a return page."""
import pytest

from app.domain.rules import parse_condition
from app.services.rules import describe


@pytest.mark.parametrize("condition, sentence", [
    ({"dimension": "tag", "operator": "has", "value": "vip"}, "Has tag vip"),
    ({"dimension": "tag", "operator": "has_not", "value": "vip"}, "Does not have tag vip"),
    ({"dimension": "discount_code", "operator": "none_used", "value": None}, "No discount code used"),
    ({"dimension": "discount_code", "operator": "is", "value": "sale10"}, "Order Discount Code is sale10"),
    ({"dimension": "order_value", "operator": "gt", "value": "100"}, "Order Value greater than 100"),
])
def test_a_condition_reads_as_a_sentence(condition, sentence):
    assert describe(condition) == sentence
    assert parse_condition(condition, 0).describe() == sentence

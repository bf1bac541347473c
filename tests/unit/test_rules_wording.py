"""Conditions read as sentences a retailer would say, in the rules list and in a rule's trace on
a return page."""
import pytest

from app.domain.rules import RuleInvalid
from app.domain.rules_parse import parse_condition
from app.services.rules import describe


@pytest.mark.parametrize("condition, sentence", [
    ({"dimension": "tag", "operator": "has", "value": "vip"}, "Order has tag vip"),
    ({"dimension": "tag", "operator": "has_not", "value": "vip"}, "Order does not have tag vip"),
    ({"dimension": "product_tag", "operator": "has", "value": "final-sale"}, "Product has tag final-sale"),
    ({"dimension": "product_tag", "operator": "has_not", "value": "final-sale"},
     "Product does not have tag final-sale"),
    ({"dimension": "collection", "operator": "any_of", "value": ["outlet", "summer sale"]},
     "Collection is in outlet, summer sale"),
    ({"dimension": "collection", "operator": "none_of", "value": ["outlet"]}, "Collection is not in outlet"),
    ({"dimension": "product", "operator": "is", "value": "blue shirt"}, "Product equal to blue shirt"),
    ({"dimension": "product_type", "operator": "any_of", "value": ["dresses", "shirts"]},
     "Product Type is any of dresses, shirts"),
    ({"dimension": "item_price", "operator": "lt", "value": "20"}, "Item Price less than 20"),
    ({"dimension": "customer_returns", "operator": "gte", "value": "3"}, "Customer Returns (12 months) at least 3"),
    ({"dimension": "customer_returned_value", "operator": "gt", "value": "500"},
     "Customer Returned Value (12 months) greater than 500"),
    ({"dimension": "discount_code", "operator": "none_used", "value": None}, "No discount code used"),
    ({"dimension": "discount_code", "operator": "is", "value": "sale10"}, "Order Discount Code is sale10"),
    ({"dimension": "order_value", "operator": "gt", "value": "100"}, "Order Value greater than 100"),
])
def test_a_condition_reads_as_a_sentence(condition, sentence):
    assert describe(condition) == sentence
    assert parse_condition(condition, 0).describe() == sentence


@pytest.mark.parametrize("condition, message", [
    ({"dimension": "customer_returns", "operator": "gte", "value": "2.5"},
     "A number of returns is a whole number, 0 or more."),
    ({"dimension": "customer_returns", "operator": "gte", "value": "-1"},
     "A number of returns is a whole number, 0 or more."),
    ({"dimension": "item_price", "operator": "lt", "value": "-5"}, "An amount is 0 or more."),
    ({"dimension": "customer_returned_value", "operator": "gt", "value": "²"},
     "“²” is not a number (use the digits 0 to 9)."),
    ({"dimension": "product_tag", "operator": "has", "value": "a, b"}, "Enter one value, or use “is any of”."),
    ({"dimension": "collection", "operator": "any_of", "value": " , "}, "Enter a value."),
    ({"dimension": "collection", "operator": "is", "value": "Outlet"}, "Choose how to compare the collection."),
])
def test_new_dimensions_refuse_slips_in_words_a_retailer_reads(condition, message):
    with pytest.raises(RuleInvalid) as refused:
        parse_condition(condition, 0)
    assert message in [m for _, m in refused.value.errors]

"""Rule definitions for the tests, written the way the spec writes them (returns to run them on:
``tests.factories.make_return`` of an order)."""


def condition(dimension, operator, value):
    """One condition of a rule."""
    return {"dimension": dimension, "operator": operator, "value": value}


FAULTY_REFUND = {"name": "Faulty items are refunded", "outcome": "refund", "enabled": True,
                 "conditions": [condition("return_reason", "is", "Faulty")]}
BIG_DISCOUNT_CREDIT = {"name": "Big discounts get a credit note", "outcome": "credit", "enabled": True,
                       "conditions": [condition("discount_percent", "gt", "50")]}
CANADA_NO_ACTION = {"name": "Canada: no automation", "outcome": "no_action", "enabled": True,
                    "conditions": [condition("country", "is", "Canada")]}

"""The vocabulary: each value is exactly the string the database holds, each has one label, and
templates show labels through the |label filter."""
import pytest

from app.domain.vocabulary import (DeclineReason, ItemResolution, Option, OptionMode, RestockState, ReturnAction,
                                   ReturnStatus, ReviewMode, RuleOutcome)
from app.templating import label

# The stored strings (columns are plain strings: changing a value would need a data migration).
STORED = {
    ReturnStatus: ["REQUESTED", "OPEN", "IN_TRANSIT", "RECEIVED", "PROCESSED", "CLOSED", "CANCELLED", "DECLINED"],
    ItemResolution: ["UNDECIDED", "DECIDED", "ISSUING", "ISSUED", "FAILED", "NO_ACTION"],
    Option: ["refund", "credit", "exchange"],
    RuleOutcome: ["refund", "credit", "no_action", "review", "keep_refund", "keep_credit", "exchange_only", "fee"],
    ReviewMode: ["none", "all", "rule"],
    # Shopify's enum ReturnDeclineReason (2026-04 schema), sent as is.
    DeclineReason: ["RETURN_PERIOD_ENDED", "FINAL_SALE", "OTHER"],
    OptionMode: ["customer_choice", "rules"],
    ReturnAction: ["first_scan", "processing", "manual"],
    RestockState: ["PENDING", "RESTOCKING", "DONE", "FAILED"],
}


@pytest.mark.parametrize("enum", STORED)
def test_values_are_the_stored_strings_and_compare_equal_to_them(enum):
    assert [member.value for member in enum] == STORED[enum]
    for member in enum:
        assert member == member.value and str(member) == member.value and f"{member}" == member.value
        assert enum(member.value) is member and member.label


def test_one_spelling_per_label():
    assert Option.CREDIT.label == RuleOutcome.CREDIT.label == "Credit note"
    assert Option.choices() == [("refund", "Refund"), ("credit", "Credit note"), ("exchange", "Exchange")]
    assert ReturnStatus.choices(ReturnStatus.CLOSED) == [("CLOSED", "Closed")]


def test_the_label_filter_names_a_stored_value_and_falls_back_for_others():
    assert label("IN_TRANSIT", ReturnStatus) == "In transit"
    assert label("credit", Option) == "Credit note"
    assert label(None, Option, "Not chosen yet") == "Not chosen yet"
    assert label("SOMETHING_NEW", ReturnStatus) == "SOMETHING_NEW"
    assert label(None, Option) == ""

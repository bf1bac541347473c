"""Which returns are reviewed, which become Shopify return requests, and what a decline carries."""
import pytest

from app.domain.returns import ReturnRefused
from app.domain.review import check_decline, review_applies, uses_request


@pytest.mark.parametrize("mode, outcomes, reviewed", [
    ("none", ["review"], False), ("all", [], True), ("all", [None], True),
    ("rule", [None, "refund"], False), ("rule", ["refund", "review"], True), ("rule", [], False)])
def test_review_applies_by_mode_and_the_items_first_matching_rules(mode, outcomes, reviewed):
    assert review_applies(mode, outcomes) is reviewed


def test_only_a_return_without_an_exchange_is_a_shopify_request():
    assert uses_request(["refund", "credit", None])
    assert not uses_request(["refund", "exchange"])


def test_a_decline_needs_shopifys_reason_and_a_message_of_at_most_500_characters():
    assert check_decline("FINAL_SALE", "  Sorry.  ") == ("FINAL_SALE", "Sorry.")
    assert check_decline("OTHER", "😀" * 500)[1] == "😀" * 500  # characters, not bytes, as Shopify counts
    for reason, note in (("final_sale", "x"), (None, "x"), ("OTHER", " "), ("OTHER", "x" * 501)):
        with pytest.raises(ReturnRefused):
            check_decline(reason, note)

"""Eligibility of order lines for return: every reason, and the returnable-quantity arithmetic."""
from datetime import datetime, timedelta, timezone

import pytest

from app.domain.eligibility import LineFacts, OrderFacts, Policy, Reason, line_eligibility

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
POLICY = Policy(return_window_days=30, storage_months=3, excluded_tags=("final-sale",))


def order(days_ago=5, cancelled=False):
    return OrderFacts(created_at=NOW - timedelta(days=days_ago), cancelled=cancelled)


def line(quantity=3, fulfilled=3, refunded=0, in_returns=0, tags=()):
    return LineFacts(quantity, fulfilled, refunded, in_returns, tuple(tags))


@pytest.mark.parametrize("facts, returnable", [
    (line(), 3),
    (line(refunded=1), 2),
    (line(in_returns=2), 1),
    (line(refunded=1, in_returns=1), 1),
    (line(fulfilled=2), 2),  # only what was shipped
    (line(quantity=2, fulfilled=5), 2),  # never more than was ordered
])
def test_returnable_quantity_is_fulfilled_minus_refunded_minus_in_returns(facts, returnable):
    result = line_eligibility(order(), facts, POLICY, NOW)
    assert (result.returnable, result.reason) == (returnable, None)


@pytest.mark.parametrize("the_order, facts, reason", [
    (order(days_ago=31), line(), Reason.OUTSIDE_WINDOW),
    (order(days_ago=91), line(), Reason.PAST_RETENTION),
    (order(cancelled=True), line(), Reason.ORDER_CANCELLED),
    (order(), line(tags=["Final-Sale "]), Reason.EXCLUDED),
    (order(), line(fulfilled=0), Reason.NOT_FULFILLED),
    (order(), line(refunded=3), Reason.ALREADY_RETURNED),
    (order(), line(in_returns=3), Reason.ALREADY_RETURNED),
    (order(), line(refunded=2, in_returns=1), Reason.ALREADY_RETURNED),
])
def test_each_reason_a_line_cannot_be_returned(the_order, facts, reason):
    result = line_eligibility(the_order, facts, POLICY, NOW)
    assert result.returnable == 0 and result.reason == reason
    assert result.message  # a sentence for the shopper


def test_the_window_holds_all_of_its_last_day():
    edge = OrderFacts(created_at=NOW - timedelta(days=30))
    end_of_day = NOW.replace(hour=23, minute=59, second=59, microsecond=999999)
    assert line_eligibility(edge, line(), POLICY, NOW).returnable == 3
    assert line_eligibility(edge, line(), POLICY, end_of_day).returnable == 3
    assert (line_eligibility(edge, line(), POLICY, end_of_day + timedelta(microseconds=1)).reason
            == Reason.OUTSIDE_WINDOW)


def test_over_refunded_data_never_gives_a_negative_quantity():
    result = line_eligibility(order(), line(refunded=5, in_returns=2), POLICY, NOW)
    assert result.returnable == 0


@pytest.mark.parametrize("shopify_returnable, ours_outside, returnable", [
    (None, 0, 3),   # never read: our own count stands
    (1, 0, 1),      # a return made in Shopify took two units our count never saw
    (3, 1, 2),      # one unit of ours is not yet in a Shopify return: Shopify still counts it
    (0, 0, 0),
    (5, 0, 3),      # Shopify never raises the cap above what was fulfilled and not yet ours
])
def test_shopify_is_the_authority_on_what_is_still_returnable(shopify_returnable, ours_outside, returnable):
    line = LineFacts(quantity=3, fulfilled=3, refunded=0, in_returns=0, shopify_returnable=shopify_returnable,
                     ours_outside_shopify=ours_outside)
    verdict = line_eligibility(OrderFacts(created_at=NOW - timedelta(days=1), cancelled=False), line, POLICY, NOW)
    assert verdict.returnable == returnable
    if returnable == 0:
        assert verdict.reason == Reason.ALREADY_RETURNED

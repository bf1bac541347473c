"""Which order lines can be returned, how many units, and why not (pure: plain values in and out).

Returnable quantity of a line = fulfilled − refunded in Shopify − units in every non-cancelled
return (open or closed: a credit note or exchange creates no Shopify refund, so counting only
open returns would let an item be returned twice). DESIGN §4.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta


class Reason:
    """Why a line cannot be returned; the message is what the shopper reads."""

    PAST_RETENTION = "past_retention"
    ORDER_CANCELLED = "order_cancelled"
    OUTSIDE_WINDOW = "outside_window"
    EXCLUDED = "excluded"
    NOT_FULFILLED = "not_fulfilled"
    ALREADY_RETURNED = "already_returned"

    MESSAGES = {
        PAST_RETENTION: "This order is too old to be returned online.",
        ORDER_CANCELLED: "This order was cancelled.",
        OUTSIDE_WINDOW: "The return window for this order has closed.",
        EXCLUDED: "This item is final sale and cannot be returned.",
        NOT_FULFILLED: "This item has not been shipped yet.",
        ALREADY_RETURNED: "This item has already been returned or refunded.",
    }


@dataclass(frozen=True)
class OrderFacts:
    """What eligibility needs of an order."""

    created_at: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class LineFacts:
    """What eligibility needs of one line."""

    quantity: int
    fulfilled: int
    refunded: int
    in_returns: int
    product_tags: tuple[str, ...] = ()
    # Shopify's own returnable quantity (units in any Shopify return, ours or the merchant's, are
    # not in it), when known; and our units not yet in a Shopify return, which it cannot know.
    shopify_returnable: int | None = None
    ours_outside_shopify: int = 0


@dataclass(frozen=True)
class Policy:
    """The retailer's settings that decide eligibility."""

    return_window_days: int
    storage_months: int
    excluded_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Eligibility:
    """How many units may be returned; when none, the reason code and its message."""

    returnable: int
    reason: str | None = None

    @property
    def message(self) -> str | None:
        """The shopper-facing sentence for `reason`."""
        return Reason.MESSAGES.get(self.reason) if self.reason else None


def window_closes_at(order: OrderFacts, policy: Policy) -> datetime:
    """The moment the return window ends (counted from the order date)."""
    return order.created_at + timedelta(days=policy.return_window_days)


def past_retention(order: OrderFacts, policy: Policy, now: datetime) -> bool:
    """Whether the order is older than the data we keep (a month counted as 30 days, as the purge)."""
    return now - order.created_at > timedelta(days=30 * policy.storage_months)


def order_problem(order: OrderFacts, policy: Policy, now: datetime) -> str | None:
    """A reason that applies to every line of the order, or None."""
    if past_retention(order, policy, now):
        return Reason.PAST_RETENTION
    if order.cancelled:
        return Reason.ORDER_CANCELLED
    if now > window_closes_at(order, policy):
        return Reason.OUTSIDE_WINDOW
    return None


def _normalise(tags) -> set[str]:
    return {t.strip().lower() for t in tags if t and t.strip()}


def line_eligibility(order: OrderFacts, line: LineFacts, policy: Policy, now: datetime) -> Eligibility:
    """How many units of the line can be returned now, or why none can."""
    problem = order_problem(order, policy, now)
    if problem:
        return Eligibility(0, problem)
    if _normalise(line.product_tags) & _normalise(policy.excluded_tags):
        return Eligibility(0, Reason.EXCLUDED)
    if line.fulfilled <= 0:
        return Eligibility(0, Reason.NOT_FULFILLED)
    returnable = max(0, min(line.fulfilled, line.quantity) - line.refunded - line.in_returns)
    if line.shopify_returnable is not None:
        # Shopify is the authority: a return made in its admin takes units our count never saw.
        returnable = min(returnable, max(0, line.shopify_returnable - line.ours_outside_shopify))
    if returnable == 0:
        return Eligibility(0, Reason.ALREADY_RETURNED)
    return Eligibility(returnable)

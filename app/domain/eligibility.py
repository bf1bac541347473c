"""Which order lines can be returned, how many units, and why not (pure: plain values in and out).

Returnable quantity of a line = fulfilled − refunded in Shopify − units in every non-cancelled
return (open or closed: a credit note or exchange creates no Shopify refund, so counting only
open returns would let an item be returned twice). DESIGN §4.

Each shipped unit has its own return window (``return_window``): units whose window closed are
not returnable, and the shopper is told the date of each window still open.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.domain.return_window import ORDER, UnitWindow, format_day, last_day, open_windows, return_by


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
    # The shipped units' return windows (return_window.line_windows); None: all of them count
    # from the order date.
    windows: tuple[UnitWindow, ...] | None = None


@dataclass(frozen=True)
class Policy:
    """The retailer's settings that decide eligibility."""

    return_window_days: int
    storage_months: int
    excluded_tags: tuple[str, ...] = ()
    window_basis: str = ORDER
    # No window may end after this day (issuing must stay inside what Shopify lets us read).
    latest_close: date | None = None


@dataclass(frozen=True)
class Eligibility:
    """How many units may be returned; when none, the reason code and its message."""

    returnable: int
    reason: str | None = None
    # The windows of the units still returnable, earliest first; when the window has closed,
    # the day it closed on (the latest of the line's windows).
    windows: tuple[UnitWindow, ...] = ()
    closed_on: date | None = None
    # Windows counted per parcel: one item's window may close before another's.
    per_item: bool = False

    @property
    def message(self) -> str | None:
        """The shopper-facing sentence for `reason`."""
        if not self.reason:
            return None
        if self.reason == Reason.OUTSIDE_WINDOW and self.closed_on:
            if self.per_item:
                return f"The return window for this item closed on {format_day(self.closed_on)}."
            return f"{Reason.MESSAGES[self.reason]} Returns were accepted until {format_day(self.closed_on)}."
        return Reason.MESSAGES.get(self.reason)

    @property
    def return_by(self) -> str | None:
        """"Return by 3 January 2027" for the units still returnable (None when none are)."""
        return return_by(self.windows) if self.returnable else None


def window_closes_at(order: OrderFacts, policy: Policy) -> datetime:
    """The last moment of the return window counted from the order date."""
    return order_window(order, policy, 1).closes_at


def order_window(order: OrderFacts, policy: Policy, units: int) -> UnitWindow:
    """`units` whose window counts from the order date."""
    return UnitWindow(last_day(order.created_at, policy.return_window_days, policy.latest_close), units)


def past_retention(order: OrderFacts, policy: Policy, now: datetime) -> bool:
    """Whether the order is older than the data we keep (a month counted as 30 days, as the purge)."""
    return now - order.created_at > timedelta(days=30 * policy.storage_months)


def order_problem(order: OrderFacts, policy: Policy, now: datetime) -> str | None:
    """A reason that applies to every line of the order, or None. (The return window is per
    unit: ``line_eligibility`` decides it.)"""
    if past_retention(order, policy, now):
        return Reason.PAST_RETENTION
    if order.cancelled:
        return Reason.ORDER_CANCELLED
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
    windows = line.windows if line.windows is not None else (order_window(order, policy, line.fulfilled),)
    still_open = open_windows(windows, now)
    if windows and not still_open:
        return Eligibility(0, Reason.OUTSIDE_WINDOW, closed_on=max(w.last_day for w in windows),
                           per_item=policy.window_basis != ORDER)
    returnable = max(0, min(line.fulfilled, line.quantity) - line.refunded - line.in_returns)
    if line.shopify_returnable is not None:
        # Shopify is the authority: a return made in its admin takes units our count never saw.
        returnable = min(returnable, max(0, line.shopify_returnable - line.ours_outside_shopify))
    # Which units were returned already is not known: they are taken from the closed windows
    # first, so the shopper may return every unit whose window is open while any is left.
    returnable = min(returnable, sum(w.units for w in still_open))
    if returnable == 0:
        return Eligibility(0, Reason.ALREADY_RETURNED)
    return Eligibility(returnable, windows=still_open)

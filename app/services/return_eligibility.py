"""What an order's lines can still return, and what a shopper may pick for them: the account's
eligibility policy, the units already in returns (ours, and ours Shopify does not count yet), each
line's eligibility now, the options on offer and the exchange variants. Read by the portal, the
staff's start-a-return page and the submission's own checks (return_submission.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from sqlalchemy import func, select

from app.domain.eligibility import Eligibility, LineFacts, OrderFacts, Policy, line_eligibility
from app.domain.return_window import ORDER, Parcel, line_windows
from app.domain.vocabulary import Option, OptionMode, ReturnStatus
from app.extensions import db
from app.models import Account, Order, OrderLine, Return, ReturnItem, ShopifyReturn
from app.services.connect import CAPPED_RETURN_WINDOW_DAYS, window_cap_applies
from app.shopify import parcels


def policy_for(account: Account, order: Order | None = None) -> Policy:
    """The account's settings that decide eligibility (for `order`: without read_all_orders no
    window may end later than the order stays issuable in Shopify; DESIGN §3)."""
    latest = None
    if order is not None and window_cap_applies(account):
        latest = (order.created_at + timedelta(days=CAPPED_RETURN_WINDOW_DAYS)).date()
    return Policy(return_window_days=account.return_window_days, storage_months=account.order_storage_months,
                  excluded_tags=tuple(account.excluded_product_tags or ()),
                  window_basis=account.return_window_basis or ORDER, latest_close=latest)


def order_parcels(order: Order) -> list[Parcel] | None:
    """The order's parcels for the return window; None when they were never read."""
    if order.fulfillments is None:
        return None
    return [Parcel(created, delivered, lines) for created, delivered, lines in parcels.starts(order.fulfillments)]


def order_facts(order: Order) -> OrderFacts:
    """The order-wide facts eligibility reads: when it was placed, and whether it was cancelled."""
    return OrderFacts(created_at=order.created_at, cancelled=order.cancelled_at is not None)


# A cancelled or declined return holds no units of its order: they can be returned again.
RELEASED = (ReturnStatus.CANCELLED, ReturnStatus.DECLINED)


def quantities_in_returns(order_id: int) -> dict[int, int]:
    """Units of each line already in a non-cancelled return (open or closed; DESIGN §4)."""
    rows = db.session.execute(
        select(ReturnItem.order_line_id, func.sum(ReturnItem.quantity))
        .join(Return, Return.id == ReturnItem.return_id)
        .where(Return.order_id == order_id, Return.status.notin_(RELEASED))
        .group_by(ReturnItem.order_line_id)).all()
    return {line_id: int(total) for line_id, total in rows if line_id is not None}


def quantities_outside_shopify(order_id: int) -> dict[int, int]:
    """Units of each line in our non-cancelled returns that are in no Shopify return yet (still
    being planned or created, refused by Shopify, or credited or exchanged the old way), so
    Shopify's returnable quantity still counts them."""
    placed = (ShopifyReturn.status.in_(("REQUESTED", "OPEN", "CLOSED")))
    rows = db.session.execute(
        select(ReturnItem.order_line_id, func.sum(ReturnItem.quantity))
        .join(Return, Return.id == ReturnItem.return_id)
        .outerjoin(ShopifyReturn, ShopifyReturn.id == ReturnItem.shopify_return_ref_id)
        .where(Return.order_id == order_id, Return.status.notin_(RELEASED),
               (ReturnItem.shopify_return_ref_id.is_(None) | ~placed),
               # A legacy refund was refunded in Shopify, which takes it out of the returnable count.
               ~((ReturnItem.issuing_method == "legacy") & (ReturnItem.option == Option.REFUND)))
        .group_by(ReturnItem.order_line_id)).all()
    return {line_id: int(total) for line_id, total in rows if line_id is not None}


def eligibility(account: Account, order: Order, now: datetime | None = None) -> dict[int, Eligibility]:
    """Per line id: how many units can be returned now, or why none."""
    now = now or datetime.now(timezone.utc)
    in_returns = quantities_in_returns(order.id)
    outside = quantities_outside_shopify(order.id)
    policy, facts = policy_for(account, order), order_facts(order)
    shipped = order_parcels(order) if policy.window_basis != ORDER else None
    return {line.id: line_eligibility(facts, LineFacts(
        quantity=line.quantity, fulfilled=line.fulfilled_quantity or 0, refunded=line.refunded_quantity or 0,
        in_returns=in_returns.get(line.id, 0), product_tags=tuple(line.product_tags or ()),
        shopify_returnable=line.returnable_quantity, ours_outside_shopify=outside.get(line.id, 0),
        windows=line_windows(line.shopify_line_id, line.fulfilled_quantity or 0, order.created_at, shipped,
                             policy.window_basis, policy.return_window_days, policy.latest_close)),
        policy, now) for line in order.lines}


def item_value(line: OrderLine, quantity: int) -> Decimal:
    """The estimate shown before submitting: what was paid per unit, after discounts, × units.
    (The issuing job asks Shopify for the exact suggested refund; DESIGN §3.)"""
    return (line.discounted_unit_price * quantity).quantize(Decimal("0.01"), ROUND_HALF_UP)


def allowed_options(account: Account) -> tuple[Option, ...]:
    """The options a customer may pick; none in rules mode (the retailer's rules decide)."""
    if account.option_mode == OptionMode.RULES.value:
        return ()
    return tuple(Option) if account.exchange_enabled else (Option.REFUND, Option.CREDIT)


def exchange_choices(line: OrderLine, variants: Iterable) -> list:
    """The variants a line may be exchanged for: same product, in stock, not the one bought."""
    return [v for v in variants if v.in_stock and v.variant_id != line.variant_id]


def variant_label(variant) -> str:
    """"Size: M, Colour: Blue" from the variant's options (its title when it has none)."""
    options = [(name, value) for name, value in variant.options if name != "Title"]
    return ", ".join(f"{name}: {value}" for name, value in options) or variant.title

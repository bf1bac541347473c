"""Derived order figures shared by the GraphQL views and the REST webhook bodies.

Money is held in minor units (cents) of the shop currency; presentment amounts
use the order's fixed rate.  Formatting follows Shopify: strings with two
decimals ("12.30").
"""
from __future__ import annotations

from datetime import datetime, timezone


def iso(ts: float | None) -> str | None:
    """GraphQL DateTime: ``2024-05-01T12:00:00Z``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_rest(ts: float | None) -> str | None:
    """REST/webhook timestamp with offset: ``2024-05-01T12:00:00+00:00``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_time(text: str) -> float:
    """Parse an ISO date or datetime (``2024-05-01``, ``…T12:00:00Z``, offsets)."""
    text = text.strip().strip("'\"")
    if len(text) == 10:
        text += "T00:00:00"
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def fmt(cents: int) -> str:
    """Minor units to Shopify's decimal string."""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def present(order, cents: int) -> int:
    """Shop-money minor units converted to the order's presentment currency."""
    return int(round(cents * (order.rate or 1.0)))


def refunded_qty(order) -> list[int]:
    """Units refunded per line index."""
    out = [0] * len(order.lines)
    for r in order.refunds:
        for idx, qty, _restock in r.lines:
            out[idx] += qty
    return out


def refund_money(r) -> int:
    """What a refund gave back: all of it, less the part sent to the payment method when that
    transaction failed (a pending one still counts: it is on its way). Store credit always
    arrives. (Unverified: how Shopify counts a failed refund in Order.totalRefundedSet.)"""
    if r.status == "FAILURE":
        return r.store_credit or 0
    return r.amount


def line_total(ln) -> int:
    """Line total after its discount allocation."""
    return ln.price * ln.quantity - ln.discount


def totals(order) -> dict:
    """Subtotal (after discounts), discounts, shipping, total, refunded — minor units."""
    own = [ln for ln in order.lines if not ln.exchange]
    gross = sum(ln.price * ln.quantity for ln in own)
    disc = sum(ln.discount for ln in own)
    subtotal = gross - disc
    refunded = sum(refund_money(r) for r in order.refunds)
    tax = sum(ln.tax or 0 for ln in own)
    total = subtotal + order.shipping + tax
    # Lines a processed exchange added are not part of what was first sold (totalPriceSet is
    # "before returns", schema: Order.totalPriceSet) but are part of the current total.
    exchanged = sum(line_total(ln) + (ln.tax or 0) for ln in order.lines if ln.exchange)
    return {"line_items": gross, "discounts": disc, "subtotal": subtotal,
            "shipping": order.shipping, "tax": tax, "total": total, "refunded": refunded,
            "current_total": total - refunded + exchanged}


def financial_status(order) -> str:
    """OrderDisplayFinancialStatus value."""
    if order.financial != "PAID":
        return order.financial
    t = totals(order)
    if order.refunds:
        return "REFUNDED" if t["refunded"] >= t["total"] else "PARTIALLY_REFUNDED"
    return "PAID"


def fulfillment_status(order) -> str:
    """OrderDisplayFulfillmentStatus value."""
    shipped = sum(ln.fulfilled for ln in order.lines)
    if shipped == 0:
        return "UNFULFILLED"
    if shipped >= sum(ln.quantity for ln in order.lines):
        return "FULFILLED"
    return "PARTIALLY_FULFILLED"

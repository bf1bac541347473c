"""`make demo`: the orders to try, printed for people to take to the portal.

Placed in the sandbox before the store connects, so the import brings them: one paid manually
(Shopify has no payment to refund to), one whose refund stays pending until it is settled on the
sandbox page, one whose refund fails, a guest order (a credit note becomes a gift card), and on Demo
Rules Co (classic customer accounts) one whose 60 % discount makes the rules give a credit note,
which is a gift card there. Same sandbox seed, same orders; each is placed once per email. Beside
them, stored orders that show the portal's everyday cases (exchange, partly refunded, too late).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import Account, Order

DEMO_COUNTRY = "US"  # the shop's currency, so amounts read the same everywhere


@dataclass(frozen=True)
class OrderToTry:
    """An order placed in the sandbox for one case; ``label`` is printed beside it."""

    email: str
    product: str
    label: str
    seed: int
    payment: str = "card"
    guest: bool = False
    refund_outcome: str | None = None
    discount_code: str | None = None


OUTFITTERS_ORDERS = (
    OrderToTry("paid.manually@example.com", "Linen Shirt", seed=501, payment="manual",
               label="paid manually: a Refund goes to staff (no payment to refund)"),
    OrderToTry("refund.pending@example.com", "Chino Trousers", seed=502, refund_outcome="pending",
               label="Refund: pending until marked paid on the sandbox page"),
    OrderToTry("refund.fails@example.com", "Denim Jacket", seed=503, refund_outcome="failure",
               label="Refund: the payment provider refuses it; staff see why"),
    OrderToTry("guest.checkout@example.com", "Canvas Sneaker", seed=504, guest=True,
               label="guest order: a Credit note becomes a gift card"),
)
RULES_ORDERS = (
    OrderToTry("big.discount@example.com", "Leather Boot", seed=601, discount_code="STAFF60",
               label="60% off: a rule gives a credit note, here a gift card"),
)
SPECIAL_EMAILS = {o.email for o in OUTFITTERS_ORDERS + RULES_ORDERS}


def place_orders_to_try(sandbox, domain: str, wanted) -> bool:
    """Place each order of ``wanted`` not in the shop yet (by email), shipped; True when any was."""
    have = {(o["email"] or "").lower() for o in
            sandbox.call("GET", f"/shops/{domain}/orders?limit=500")["orders"]}
    missing = [o for o in wanted if o.email not in have]
    if not missing:
        return False
    products = {p["title"]: p for p in sandbox.call("GET", f"/shops/{domain}/products")["products"]}
    for spec in missing:
        # The product's first variant with stock to spare (and others to exchange to).
        variant = next(v for v in sorted(products[spec.product]["variants"], key=lambda v: v["id"])
                       if v["inventory"] >= 3)
        placed = sandbox.call("POST", f"/shops/{domain}/orders", {
            "email": spec.email, "variant_ids": [variant["id"]], "quantity": 1, "seed": spec.seed,
            "country": DEMO_COUNTRY, "payment": spec.payment, "guest": spec.guest,
            "refund_outcome": spec.refund_outcome, "discount_code": spec.discount_code})
        sandbox.call("PATCH", f"/shops/{domain}/orders/{placed['id']}", {"fulfill": True})
    return True


def stored_orders_to_try(account: Account, wanted) -> list[tuple[str, Order]]:
    """(label, stored order) for each order of ``wanted`` the import brought in."""
    picks = []
    for spec in wanted:
        order = db.session.scalar(select(Order).where(Order.account_id == account.id, Order.email == spec.email)
                                  .order_by(Order.created_at.desc()))
        if order is not None:
            picks.append((spec.label, order))
    return picks


DEMO_WINDOW_DAYS = 21  # shorter than the 30 days imported, so some orders are outside it


def orders_to_try(account: Account) -> list[tuple[str, Order]]:
    """Three stored orders that show the portal's cases: one with items to exchange, one partly
    refunded, one outside the return window (the orders placed for one case each are left out)."""
    account.return_window_days = DEMO_WINDOW_DAYS
    db.session.commit()
    cutoff = datetime.now(timezone.utc) - timedelta(days=DEMO_WINDOW_DAYS)
    recent = select(Order).where(Order.account_id == account.id, Order.created_at >= cutoff,
                                 Order.email.is_not(None), Order.email.not_in(SPECIAL_EMAILS)
                                 ).order_by(Order.created_at.desc())
    picks = []
    exchangeable = db.session.scalars(recent.where(Order.fulfillment_status == "fulfilled",
                                                   Order.financial_status == "paid")).first()
    if exchangeable:
        rules = account.option_mode == "rules"
        picks.append(("items to return (the rules decide what comes back)" if rules else
                      "items to return or exchange", exchangeable))
    refunded = db.session.scalars(recent.where(Order.financial_status == "partially_refunded")).first()
    if refunded:
        picks.append(("partly refunded: refunded items cannot be returned again", refunded))
    late = db.session.scalars(
        select(Order).where(Order.account_id == account.id, Order.created_at < cutoff,
                            Order.fulfillment_status == "fulfilled", Order.email.is_not(None))
        .order_by(Order.created_at.desc())).first()
    if late:
        picks.append((f"outside the {DEMO_WINDOW_DAYS}-day return window", late))
    return picks

"""The demo retailer: its login and, for `flask demo seed` without the sandbox, three sample orders."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Account, Order, OrderLine, User
from app.services.accounts import sign_up
from app.services.units_sold import count_new_order

DEMO_EMAIL = "admin@demo-outfitters.com"
DEMO_PASSWORD = "boomerang-demo-2026"
DEMO_STORE = "Demo Outfitters"

# The sample orders' Shopify ids follow this one, far above what the sandbox gives its own.
SAMPLE_ORDER_IDS = 5_000_000_000_000
SAMPLE_ORDERS = [
    # name, email, days ago, country, [(title, variant, qty, unit price, paid per unit)]
    ("#1001", "ana.silva@example.com", 3, "PT", [("Merino Crew Jumper", "M / Navy", 1, "89.00", "89.00")]),
    ("#1002", "li.wei@example.com", 12, "CA", [("Trail Runner Shoes", "42 / Grey", 1, "120.00", "96.00"),
                                              ("Wool Socks", "One size", 3, "12.00", "9.60")]),
    ("#1003", "sam.jones@example.com", 45, "GB", [("Rain Shell Jacket", "L / Olive", 1, "150.00", "150.00")]),
]


def seed_demo(sample_orders: bool = True) -> User:
    """Create the demo account, admin and (unless ``sample_orders`` is off: the sandbox provides
    the orders then) three sample orders, unless they exist already."""
    user = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = sign_up(DEMO_STORE, DEMO_EMAIL, DEMO_PASSWORD)
    account = db.session.get(Account, user.account_id)
    if not sample_orders:
        return user
    now = datetime.now(timezone.utc)
    for number, (name, email, days_ago, country, lines) in enumerate(SAMPLE_ORDERS, start=1):
        shopify_id = SAMPLE_ORDER_IDS + number
        exists = db.session.scalar(select(Order.id).where(
            Order.account_id == account.id, Order.shopify_order_id == shopify_id))
        if exists:
            continue
        created = now - timedelta(days=days_ago)
        subtotal = sum(Decimal(paid) * qty for _, _, qty, _, paid in lines)
        order = Order(account_id=account.id, shopify_order_id=shopify_id, name=name, email=email,
                      customer_name=email.split("@")[0].replace(".", " ").title(), shipping_country=country,
                      currency="USD", total_price=subtotal, subtotal_price=subtotal,
                      total_discounts=sum(((Decimal(p) - Decimal(d)) * q for _, _, q, p, d in lines), Decimal("0")),
                      discount_codes=[], tags=[], financial_status="paid", fulfillment_status="fulfilled",
                      created_at=created, updated_at=created)
        for line_no, (title, variant, qty, price, paid) in enumerate(lines, start=1):
            order.lines.append(OrderLine(
                shopify_line_id=shopify_id * 10 + line_no, title=title, variant_title=variant, quantity=qty,
                unit_price=Decimal(price), discounted_unit_price=Decimal(paid), fulfilled_quantity=qty,
                refunded_quantity=0))
        db.session.add(order)
        count_new_order(order)  # the analytics page's units sold
    db.session.commit()
    return user

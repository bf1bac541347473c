"""Small factories for test data (plain functions; values a test does not care about are filled)."""
from datetime import datetime, timezone
from decimal import Decimal
from itertools import count

from app.extensions import db
from app.models import Account, Order, OrderLine, User
from app.services.accounts import hash_password

_sequence = count(1)
PASSWORD = "correct horse battery"


def make_account(**fields) -> Account:
    """An account (not committed)."""
    n = next(_sequence)
    values = {"name": f"Store {n}", "slug": f"store-{n}", "shop_domain": f"store-{n}.myshopify.com"}
    values.update(fields)
    account = Account(**values)
    db.session.add(account)
    db.session.flush()
    return account


def make_user(account: Account, role: str = "admin", email: str | None = None, password: str = PASSWORD) -> User:
    """A login of the account (not committed)."""
    user = User(account_id=account.id, email=email or f"user{next(_sequence)}@example.com",
                password_hash=hash_password(password), role=role)
    db.session.add(user)
    db.session.flush()
    return user


def make_order(account: Account, **fields) -> Order:
    """An order with one line (not committed)."""
    n = next(_sequence)
    now = datetime.now(timezone.utc)
    values = {"account_id": account.id, "shopify_order_id": 6_000_000_000_000 + n, "name": f"#{1000 + n}",
              "email": f"buyer{n}@example.com", "currency": "USD", "total_price": Decimal("96.00"),
              "subtotal_price": Decimal("96.00"), "total_discounts": Decimal("24.00"),
              "created_at": now, "updated_at": now}
    values.update(fields)
    order = Order(**values)
    order.lines.append(OrderLine(shopify_line_id=7_000_000_000_000 + n, title="Trail Runner",
                                 variant_title="42 / Grey", quantity=1, unit_price=Decimal("120.00"),
                                 discounted_unit_price=Decimal("96.00"), fulfilled_quantity=1))
    db.session.add(order)
    db.session.flush()
    return order

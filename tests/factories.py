"""Small factories for test data (plain functions; values a test does not care about are filled)."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import count

from sqlalchemy import select

from app.extensions import db
from app.models import Account, Order, OrderLine, PendingDelivery, Return, ReturnItem, User, WebhookDelivery
from app.services.accounts import hash_password

_sequence = count(1)
# Returns count apart: one without an order numbers its order name and lines from its count, and one of
# an order is made that many seconds from now (a count kept small, so it stays within minutes).
_returns = count(1)
_order_returns = count(1)
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


def make_return(account: Account, order: Order | None = None, reasons=("Faulty",), *, status: str = "OPEN",
                items=(("refund", "DECIDED"),), days_ago: float = 0, created_at: datetime | None = None,
                email: str | None = None, tracking: str | None = None, option_source: str | None = None,
                **fields) -> Return:
    """A return of ``account`` written straight to the tables (no portal, no rules; flushed, not
    committed); ``fields`` are any other columns.

    Of ``order``: one item per reason in ``reasons``, on the order's first line, to be decided by
    the rules unless ``option_source`` says otherwise; made ``n`` seconds from now, ``n`` counting
    the returns made here, so later returns sort later.

    Without an order: any status and age (``days_ago``), one item per ``(option, resolution)`` pair
    in ``items`` (20.00 each), and an RMA number like the app's."""
    n = next(_returns if order is None else _order_returns)
    now = datetime.now(timezone.utc)
    if order is not None:
        created = created_at or now + timedelta(seconds=n)
        values = {"order_id": order.id, "rma_number": f"T-{n}", "option_source": option_source or "rules",
                  "shopify_order_id": order.shopify_order_id, "order_name": order.name,
                  "customer_email": email or order.email, "currency": order.currency}
        line = order.lines[0]
        lines = [ReturnItem(order_line_id=line.id, shopify_line_id=line.shopify_line_id,
                            title=f"{line.title} {index + 1}", unit_value=line.discounted_unit_price,
                            quantity=1, reason=reason) for index, reason in enumerate(reasons)]
    else:
        created = created_at or now - timedelta(days=days_ago)
        values = {"rma_number": f"T-{account.id}-{n}", "shopify_order_id": 8_000_000_000_000 + n,
                  "order_name": f"#{5000 + n}", "customer_email": email or f"shopper{n}@example.com",
                  "customer_name": f"Shopper {n}", "currency": "USD", "tracking_number": tracking}
        if option_source is not None:
            values["option_source"] = option_source
        lines = [ReturnItem(shopify_line_id=9_000_000_000_000 + n * 10 + k, title=f"Item {n}.{k}",
                            unit_value=Decimal("20.00"), quantity=1, reason="Too small", option=option,
                            resolution=resolution) for k, (option, resolution) in enumerate(items)]
    values.update(fields)
    ret = Return(account_id=account.id, status=status, created_at=created, updated_at=created, **values)
    ret.items.extend(lines)
    db.session.add(ret)
    db.session.flush()
    if order is None:
        ret.rma_number = f"R-{100_000 + ret.id}"
        db.session.flush()
    return ret


def make_delivery(account: Account | None = None, *, pending: bool = True, attempts: int = 0,
                  last_error: str | None = None, dispatched_at: datetime | None = None, **fields) -> WebhookDelivery:
    """A stored webhook delivery (flushed, not committed): pending, as intake leaves it, with the
    attempts and error given, or processed (`pending=False`)."""
    n = next(_sequence)
    values = {"topic": "orders/create", "event_id": f"event-{n}", "body": "{}"}
    if account is not None:
        values.update(account_id=account.id, shop_domain=account.shop_domain)
    values.update(fields)
    delivery = WebhookDelivery(**values)
    db.session.add(delivery)
    db.session.flush()
    if pending:
        db.session.add(PendingDelivery(delivery_id=delivery.id, attempts=attempts, last_error=last_error,
                                       dispatched_at=dispatched_at))
        db.session.flush()
    return delivery


def pending_row(delivery_id: int):
    """The delivery's pending row as the database holds it now — its attempts, last_error and
    dispatched_at — or None: processed. (Read as columns: the session may hold a stale copy.)"""
    return db.session.execute(select(PendingDelivery.attempts, PendingDelivery.last_error,
                                     PendingDelivery.dispatched_at)
                              .where(PendingDelivery.delivery_id == delivery_id)).first()


def is_processed(delivery_id: int) -> bool:
    """Whether the delivery's work is done (it has no pending row left)."""
    return pending_row(delivery_id) is None

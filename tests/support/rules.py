"""Test helpers for the rules: returns made directly in the database (no portal), and rule
definitions written the way the spec writes them."""
from datetime import datetime, timedelta, timezone
from itertools import count

from app.extensions import db
from app.models import Return, ReturnItem

_rma = count(1)


def make_return(account, order, reasons=("Faulty",), option_source="rules", created_at=None, **fields) -> Return:
    """A return of `order` with one item per reason (flushed, not committed)."""
    n = next(_rma)
    now = created_at or datetime.now(timezone.utc) + timedelta(seconds=n)
    ret = Return(account_id=account.id, order_id=order.id, rma_number=f"T-{n}", status="OPEN",
                 option_source=option_source, shopify_order_id=order.shopify_order_id, order_name=order.name,
                 customer_email=order.email, currency=order.currency, created_at=now, updated_at=now, **fields)
    line = order.lines[0]
    for index, reason in enumerate(reasons):
        ret.items.append(ReturnItem(order_line_id=line.id, shopify_line_id=line.shopify_line_id,
                                    title=f"{line.title} {index + 1}", unit_value=line.discounted_unit_price,
                                    quantity=1, reason=reason))
    db.session.add(ret)
    db.session.flush()
    return ret


def condition(dimension, operator, value):
    return {"dimension": dimension, "operator": operator, "value": value}


FAULTY_REFUND = {"name": "Faulty items are refunded", "outcome": "refund", "enabled": True,
                 "conditions": [condition("return_reason", "is", "Faulty")]}
BIG_DISCOUNT_CREDIT = {"name": "Big discounts get a credit note", "outcome": "credit", "enabled": True,
                       "conditions": [condition("discount_percent", "gt", "50")]}
CANADA_NO_ACTION = {"name": "Canada: no automation", "outcome": "no_action", "enabled": True,
                    "conditions": [condition("country", "is", "Canada")]}

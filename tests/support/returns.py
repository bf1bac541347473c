"""Returns for the staff-list tests, written straight to the tables (no portal, no rules): any
status, age, and items in any option and issue state."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import count

from app.extensions import db
from app.models import Return, ReturnItem

_numbers = count(1)


def make_return(account, *, status="OPEN", days_ago: float = 0, items=(("refund", "DECIDED"),),
                email: str | None = None, tracking: str | None = None, **fields) -> Return:
    """A return of `account` with one item per (option, resolution) pair (flushed, not committed)."""
    n = next(_numbers)
    created = datetime.now(timezone.utc) - timedelta(days=days_ago)
    ret = Return(account_id=account.id, rma_number=f"T-{account.id}-{n}", status=status,
                 shopify_order_id=8_000_000_000_000 + n, order_name=f"#{5000 + n}",
                 customer_email=email or f"shopper{n}@example.com", customer_name=f"Shopper {n}",
                 currency="USD", created_at=created, updated_at=created, tracking_number=tracking, **fields)
    for k, (option, resolution) in enumerate(items):
        ret.items.append(ReturnItem(shopify_line_id=9_000_000_000_000 + n * 10 + k, title=f"Item {n}.{k}",
                                    unit_value=Decimal("20.00"), quantity=1, reason="Too small",
                                    option=option, resolution=resolution))
    db.session.add(ret)
    db.session.flush()
    ret.rma_number = f"R-{100_000 + ret.id}"
    db.session.flush()
    return ret

"""Running the initial order import at once, and what it stored."""
from sqlalchemy import select

from app.extensions import db
from app.models import ImportRun, Order
from app.services import imports


def snapshot(account_id):
    """Every stored order and line of an account, as plain comparable values."""
    orders = db.session.scalars(select(Order).where(Order.account_id == account_id)
                                .order_by(Order.shopify_order_id)).all()
    return [(o.shopify_order_id, o.name, o.email, o.updated_at, o.total_price, tuple(o.tags),
             tuple((line.shopify_line_id, line.quantity, line.discounted_unit_price,
                    line.fulfilled_quantity, line.refunded_quantity) for line in o.lines))
            for o in orders]


def run_now(account) -> ImportRun:
    """Start the account's import and run it here, without a job; the finished run."""
    run = imports.start_import(account, enqueue=False)
    imports.run_import(run.id)
    db.session.expire_all()
    return db.session.get(ImportRun, run.id)

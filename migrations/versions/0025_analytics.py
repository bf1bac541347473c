"""Analytics: units sold per day, product and variant (kept after the orders are purged), filled
from the orders stored now.

Revision ID: 0025_analytics
Revises: 0024_rule_outcomes
Create Date: 2026-12-06 07:15:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0025_analytics"
down_revision = "0024_rule_outcomes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "units_sold_daily",
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "day", "product_id", "variant_id"),
    )
    # What is stored now is counted once here; from now on each order write adds its difference.
    if op.get_bind().dialect.name == "postgresql":
        day = "CAST(timezone('UTC', o.created_at) AS DATE)"
    else:
        day = "date(o.created_at)"
    op.execute(
        "INSERT INTO units_sold_daily (account_id, day, product_id, variant_id, units) "
        f"SELECT o.account_id, {day}, COALESCE(l.product_id, 0), COALESCE(l.variant_id, 0), SUM(l.quantity) "
        "FROM orders o JOIN order_lines l ON l.order_id = o.id "
        "WHERE o.cancelled_at IS NULL AND l.quantity <> 0 "
        f"GROUP BY o.account_id, {day}, COALESCE(l.product_id, 0), COALESCE(l.variant_id, 0)")


def downgrade():
    op.drop_table("units_sold_daily")

"""Delivery dispatch: a delivery claimed by a dispatcher (batched into a job), and the orders
waiting to be confirmed from the Admin API in batches, with the per-shop lease that keeps one
confirmer at a time within the shop's rate limit.

Revision ID: 0017_delivery_dispatch
Revises: 0016_status_link_lifetime
Create Date: 2026-12-05 12:10:00
"""
from alembic import op
import sqlalchemy as sa

import app.models.types

revision = "0017_delivery_dispatch"
down_revision = "0016_status_link_lifetime"
branch_labels = None
depends_on = None


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", app.models.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "order_confirmations",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("account_id", big_id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("shopify_order_id", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("account_id", "shopify_order_id", name="uq_order_confirmations_account_order"),
    )
    op.create_table(
        "confirm_leases",
        sa.Column("account_id", big_id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("expires_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bucket_available", sa.Float(), nullable=True),
        sa.Column("bucket_maximum", sa.Float(), nullable=True),
        sa.Column("bucket_restore_rate", sa.Float(), nullable=True),
        sa.Column("bucket_seen_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_table("confirm_leases")
    op.drop_table("order_confirmations")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("dispatched_at")

"""Fulfillment dates: each order's parcels (shipped, delivered, which units) and the store's
choice of what the return window counts from (the order date, as before, or delivery).

Stored orders get their parcels from `flask orders fill-fulfillments` (and the periodic job);
until then their windows count from the order date.

Revision ID: 0013_fulfillment_dates
Revises: 0012_webhook_signals
Create Date: 2026-12-05 09:10:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0013_fulfillment_dates"
down_revision = "0012_webhook_signals"
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fulfillments", json_type, nullable=True))
        batch_op.add_column(sa.Column("fulfillments_known", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_window_basis", sa.String(length=16), server_default="order",
                                      nullable=False))


def downgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("return_window_basis")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("fulfillments_known")
        batch_op.drop_column("fulfillments")

"""Return fees: the account's restocking fee per reason and flat return shipping fee, and the fees
a return was submitted with (an item's restocking percentage, the return's shipping fee), which
the Shopify return is created with.

Revision ID: 0021_return_fees
Revises: 0018_return_photos
Create Date: 2026-12-06 04:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.types

revision = "0021_return_fees"
down_revision = "0018_return_photos"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restocking_fees", sa.JSON().with_variant(
            postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True))
        batch_op.add_column(sa.Column("return_shipping_fee", app.models.types.Money(), nullable=True))
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_shipping_fee", app.models.types.Money(), nullable=True))
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restocking_fee_percentage", app.models.types.Money(), nullable=True))


def downgrade():
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.drop_column("restocking_fee_percentage")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("return_shipping_fee")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("return_shipping_fee")
        batch_op.drop_column("restocking_fees")

"""Where returns go: each store's return address and instructions for the shopper, and the shop's
own address as Shopify gives it (the default return address).

Revision ID: 0011_return_address
Revises: 0010_rma_per_store
Create Date: 2026-12-05 08:50:00.000000
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0011_return_address"
down_revision = "0010_rma_per_store"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shop_address", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("return_address", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("return_instructions", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("return_instructions")
        batch_op.drop_column("return_address")
        batch_op.drop_column("shop_address")

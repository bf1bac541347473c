"""Rule outcomes: a Restocking fee rule's own percentage, and the item a Keep item rule let the
shopper keep (no parcel; disposed of in Shopify as not restocked).

Revision ID: 0024_rule_outcomes
Revises: 0023_rule_facts
Create Date: 2026-12-06 05:30:00
"""
from alembic import op
import sqlalchemy as sa

import app.models.types

revision = "0024_rule_outcomes"
down_revision = "0023_rule_facts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fee_percentage", app.models.types.Money(), nullable=True))
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keep_item", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.drop_column("keep_item")
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.drop_column("fee_percentage")

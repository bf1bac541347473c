"""Bonus credit: what the account offers for choosing a credit note or an exchange, the bonus an
item earned at submission, and the gift card that carried it.

Revision ID: 0022_bonus_credit
Revises: 0021_return_fees
Create Date: 2026-12-06 04:20:00
"""
from alembic import op
import sqlalchemy as sa

import app.models.types

revision = "0022_bonus_credit"
down_revision = "0021_return_fees"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credit_bonus", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("exchange_bonus", sa.String(length=16), nullable=True))
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bonus_amount", app.models.types.Money(), nullable=True))
        batch_op.add_column(sa.Column("bonus_gift_card_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("bonus_code_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("bonus_state", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.drop_column("bonus_state")
        batch_op.drop_column("bonus_code_encrypted")
        batch_op.drop_column("bonus_gift_card_id")
        batch_op.drop_column("bonus_amount")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("exchange_bonus")
        batch_op.drop_column("credit_bonus")

"""Review before approval: the account's review mode, and a return's review (who, when, and a
decline's reason and message). New statuses (REQUESTED, DECLINED) fit the existing column.

Revision ID: 0020_return_review
Revises: 0019_return_labels
Create Date: 2026-12-06 04:10:00
"""
from alembic import op
import sqlalchemy as sa

import app.models.types

revision = "0020_return_review"
down_revision = "0019_return_labels"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_mode", sa.String(length=16), nullable=False, server_default="none"))
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_at", app.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("decline_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("decline_note", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("decline_note")
        batch_op.drop_column("decline_reason")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("reviewed_at")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("review_mode")

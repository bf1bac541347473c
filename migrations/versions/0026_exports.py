"""Exports: whether staff, not only admins, may download the returns list as CSV.

Revision ID: 0026_exports
Revises: 0025_analytics
Create Date: 2026-12-06 07:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0026_exports"
down_revision = "0025_analytics"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_may_export", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("staff_may_export")

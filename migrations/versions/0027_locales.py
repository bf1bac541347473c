"""Locales: the shop's portal language and the languages it offers, each return's language, and
the shop's own portal text.

Revision ID: 0027_locales
Revises: 0026_exports
Create Date: 2026-12-06 07:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.types

revision = "0027_locales"
down_revision = "0026_exports"
branch_labels = None
depends_on = None


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(8), nullable=False, server_default="en"))
        batch_op.add_column(sa.Column("languages", json, nullable=True))
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(8), nullable=False, server_default="en"))
    op.create_table(
        "portal_texts",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("account_id", big_id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("msgid", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("account_id", "locale", "msgid", name="uq_portal_texts_account_locale_msgid"),
    )


def downgrade():
    op.drop_table("portal_texts")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("locale")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("languages")
        batch_op.drop_column("locale")

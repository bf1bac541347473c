"""Shopper emails: which kinds an account switched off, and each outbox email's kind and the key
that lets it be written once (a replayed webhook or a second click writes nothing more); an index
to find the exchange items a shipped order carries.

Revision ID: 0028_email_settings
Revises: 0027_locales
Create Date: 2026-12-06 07:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0028_email_settings"
down_revision = "0027_locales"
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shopper_emails_off", json_type, nullable=True))
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("once_key", sa.String(length=120), nullable=True))
        batch_op.create_index("uq_outbox_emails_once_key", ["once_key"], unique=True)
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.create_index("ix_return_items_exchange_order", ["exchange_order_id"], unique=False)


def downgrade():
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.drop_index("ix_return_items_exchange_order")
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_index("uq_outbox_emails_once_key")
        batch_op.drop_column("once_key")
        batch_op.drop_column("kind")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("shopper_emails_off")

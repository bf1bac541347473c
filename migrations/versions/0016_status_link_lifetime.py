"""Status links that expire and gift card codes shown once: when the shopper's status page first
showed each item's full gift card code (masked after that); and deliveries set aside because
Shopify triggered them too long ago (or ahead of this server's clock), per store.

Revision ID: 0016_status_link_lifetime
Revises: 0014_tracking_unique
Create Date: 2026-12-05 12:00:00
"""
from alembic import op
import sqlalchemy as sa

import app.models.types

revision = "0016_status_link_lifetime"
down_revision = "0014_tracking_unique"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gift_card_code_shown_at", app.models.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhooks_stale_at", app.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("webhooks_stale_count", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("webhooks_stale_count")
        batch_op.drop_column("webhooks_stale_at")
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.drop_column("gift_card_code_shown_at")

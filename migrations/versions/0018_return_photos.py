"""Return photos: per-reason photo settings on accounts, and the photos shoppers add to items.

Revision ID: 0018_return_photos
Revises: 0017_delivery_dispatch
Create Date: 2026-12-06 04:10:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.types

revision = "0018_return_photos"
down_revision = "0017_delivery_dispatch"
branch_labels = None
depends_on = None


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_modes", json, nullable=True))
        batch_op.add_column(sa.Column("photos_per_item", sa.Integer(), nullable=False, server_default="5"))
    op.create_table(
        "return_photos",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("account_id", big_id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("order_id", big_id, sa.ForeignKey("orders.id", ondelete="SET NULL"), nullable=True),
        sa.Column("order_line_id", big_id, sa.ForeignKey("order_lines.id", ondelete="SET NULL"), nullable=True),
        sa.Column("return_item_id", big_id, sa.ForeignKey("return_items.id", ondelete="CASCADE"), nullable=True),
        sa.Column("session_key", sa.String(64), nullable=True),
        sa.Column("storage_key", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("storage_key", name="uq_return_photos_storage_key"),
    )
    op.create_index("ix_return_photos_pending", "return_photos", ["account_id", "session_key", "order_line_id"])
    op.create_index("ix_return_photos_order_id", "return_photos", ["order_id"])
    op.create_index("ix_return_photos_return_item_id", "return_photos", ["return_item_id"])
    op.create_index("ix_return_photos_created_at", "return_photos", ["created_at"])


def downgrade():
    op.drop_table("return_photos")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("photos_per_item")
        batch_op.drop_column("photo_modes")

"""Prepaid return labels: the account's label settings and one label row per return.

Revision ID: 0019_return_labels
Revises: 0018_return_photos
Create Date: 2026-12-06 04:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.types

revision = "0019_return_labels"
down_revision = "0018_return_photos"
branch_labels = None
depends_on = None


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label_provider", sa.String(length=16), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("label_api_key_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("label_api_base", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("label_issue_on", sa.String(length=16), nullable=False, server_default="submission"))
        batch_op.add_column(sa.Column("label_weight_oz", app.models.types.Money(precision=19, scale=4), nullable=True))
        batch_op.add_column(sa.Column("label_carrier", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("label_ship_to", json_type, nullable=True))
    op.create_table(
        "return_labels",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("account_id", big_id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("return_id", big_id, sa.ForeignKey("returns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("shipment_id", sa.String(length=64), nullable=True),
        sa.Column("rate_id", sa.String(length=64), nullable=True),
        sa.Column("rate_amount", app.models.types.Money(precision=19, scale=4), nullable=True),
        sa.Column("purchase_id", sa.String(length=64), nullable=True),
        sa.Column("carrier", sa.String(length=64), nullable=True),
        sa.Column("service", sa.String(length=64), nullable=True),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("tracking_url", sa.String(length=1000), nullable=True),
        sa.Column("label_url", sa.String(length=1000), nullable=True),
        sa.Column("label_pdf_url", sa.String(length=1000), nullable=True),
        sa.Column("label_png_url", sa.String(length=1000), nullable=True),
        sa.Column("qr_url", sa.String(length=1000), nullable=True),
        sa.Column("cost", app.models.types.Money(precision=19, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("tracker_id", sa.String(length=64), nullable=True),
        sa.Column("shopify_delivery", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("bought_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("return_id", name="uq_return_labels_return"),
    )
    op.create_index("ix_return_labels_account_id", "return_labels", ["account_id"])


def downgrade():
    op.drop_index("ix_return_labels_account_id", table_name="return_labels")
    op.drop_table("return_labels")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        for column in ("label_ship_to", "label_carrier", "label_weight_oz",
                       "label_issue_on", "label_api_base", "label_api_key_encrypted", "label_provider"):
            batch_op.drop_column(column)

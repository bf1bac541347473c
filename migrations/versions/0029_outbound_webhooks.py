"""Outbound webhooks: the retailer's endpoints and the deliveries sent to them.

Revision ID: 0029_outbound_webhooks
Revises: 0028_email_settings
Create Date: 2026-12-06 07:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.types

revision = "0029_outbound_webhooks"
down_revision = "0028_email_settings"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "outbound_endpoints",
        sa.Column("id", PK, primary_key=True),
        sa.Column("account_id", PK, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("description", sa.String(120), nullable=True),
        sa.Column("topics", JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("previous_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("previous_secret_expires_at", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("secret_rotated_at", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_outbound_endpoints_account_id", "outbound_endpoints", ["account_id"])
    op.create_table(
        "outbound_deliveries",
        sa.Column("id", PK, primary_key=True),
        sa.Column("account_id", PK, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("endpoint_id", PK, sa.ForeignKey("outbound_endpoints.id", ondelete="CASCADE"), nullable=False),
        sa.Column("return_id", PK, sa.ForeignKey("returns.id", ondelete="SET NULL"), nullable=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("claimed_until", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_attempt_at", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_response", sa.Text(), nullable=True),
        sa.Column("last_duration_ms", sa.Integer(), nullable=True),
        sa.Column("attempt_log", JSON, nullable=True),
    )
    op.create_index("ix_outbound_deliveries_account_id", "outbound_deliveries", ["account_id"])
    op.create_index("ix_outbound_deliveries_return_id", "outbound_deliveries", ["return_id"])
    op.create_index("ix_outbound_deliveries_due", "outbound_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_outbound_deliveries_endpoint_created", "outbound_deliveries", ["endpoint_id", "created_at"])


def downgrade():
    op.drop_table("outbound_deliveries")
    op.drop_table("outbound_endpoints")

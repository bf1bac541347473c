"""Webhook health: deliveries refused for a bad signature, subscriptions found gone and made
again, and orders the reconciliation found that no webhook brought, per store; a store's latest
delivery is read from one index (account, received at), which replaces the account-only one.

Revision ID: 0012_webhook_signals
Revises: 0011_return_address
Create Date: 2026-12-05 08:50:00
"""
from alembic import op
import sqlalchemy as sa

import app.models.types

# revision identifiers, used by Alembic.
revision = "0012_webhook_signals"
down_revision = "0011_return_address"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhooks_refused_at", app.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("webhooks_refused_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("webhooks_recreated_at", app.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("webhooks_recreated", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("webhooks_missed_at", app.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("webhooks_missed_count", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_account_received", ["account_id", "received_at"], unique=False)
        batch_op.drop_index("ix_webhook_deliveries_account_id")


def downgrade():
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_account_id", ["account_id"], unique=False)
        batch_op.drop_index("ix_webhook_deliveries_account_received")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        for column in ("webhooks_missed_count", "webhooks_missed_at", "webhooks_recreated", "webhooks_recreated_at",
                       "webhooks_refused_count", "webhooks_refused_at"):
            batch_op.drop_column(column)

"""Pending deliveries: the work still to do on a webhook delivery (its dispatcher's claim, its
attempts and last error) moves off the delivery row into a narrow row of its own, deleted when
the work is done; the delivery row is written once. What processing notes on a delivery it did
process stays on the delivery, as `note`.

Deliveries unprocessed now get a pending row with their attempts and last error, unclaimed (a
batch still queued for them finds them pending and does their work once).

Columns are dropped and renamed with plain ALTER TABLE, which PostgreSQL and SQLite (3.35 and
later) both run in place. Alembic's batch mode would copy the table on SQLite and drop the old
one, and with foreign keys on, dropping it would delete every pending row through the cascade.

Revision ID: 0031_pending_deliveries
Revises: 0030_analytics_daily
Create Date: 2026-12-06 14:20:00
"""
from alembic import op
import sqlalchemy as sa

import app.models.types

revision = "0031_pending_deliveries"
down_revision = "0030_analytics_daily"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_deliveries",
        sa.Column("delivery_id", sa.BigInteger(), sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("dispatched_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.execute("INSERT INTO pending_deliveries (delivery_id, attempts, last_error) "
               "SELECT id, COALESCE(attempts, 0), last_error FROM webhook_deliveries WHERE processed_at IS NULL")
    op.execute("UPDATE webhook_deliveries SET last_error = NULL WHERE processed_at IS NULL")
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")
    op.execute("ALTER TABLE webhook_deliveries RENAME COLUMN last_error TO note")
    for column in ("processed_at", "dispatched_at", "attempts"):
        op.execute(f"ALTER TABLE webhook_deliveries DROP COLUMN {column}")


def downgrade():
    op.execute("ALTER TABLE webhook_deliveries RENAME COLUMN note TO last_error")
    op.add_column("webhook_deliveries", sa.Column("processed_at", app.models.types.UTCDateTime(timezone=True)))
    op.add_column("webhook_deliveries", sa.Column("dispatched_at", app.models.types.UTCDateTime(timezone=True)))
    op.add_column("webhook_deliveries", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE webhook_deliveries SET processed_at = received_at WHERE id NOT IN "
               "(SELECT delivery_id FROM pending_deliveries)")
    op.execute("UPDATE webhook_deliveries SET "
               "attempts = (SELECT attempts FROM pending_deliveries WHERE delivery_id = webhook_deliveries.id), "
               "last_error = (SELECT last_error FROM pending_deliveries WHERE delivery_id = webhook_deliveries.id) "
               "WHERE id IN (SELECT delivery_id FROM pending_deliveries)")
    op.create_index("ix_webhook_deliveries_pending", "webhook_deliveries", ["processed_at", "received_at"])
    op.drop_table("pending_deliveries")

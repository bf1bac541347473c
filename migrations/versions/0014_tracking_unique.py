"""One parcel, one return: a tracking number is held by one return of a store until that return
is closed or cancelled (a partial unique index over the stored, already normalised number).

Open returns that share a number today are kept as they are and marked `tracking_shared`: the
index leaves them out, the carrier events for their number are parked for staff, and staff see
the other return on each one's page.

Revision ID: 0014_tracking_unique
Revises: 0013_fulfillment_dates
Create Date: 2026-12-05 12:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_tracking_unique"
down_revision = "0013_fulfillment_dates"
branch_labels = None
depends_on = None

# A copy of domain.returns.HOLDS_TRACKING as it was when this ran.
HOLDING = "status IN ('OPEN', 'IN_TRANSIT', 'RECEIVED', 'PROCESSED')"


def upgrade():
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking_shared", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text(
        "UPDATE returns SET tracking_shared = true WHERE tracking_number IS NOT NULL AND " + HOLDING + " AND EXISTS ("
        "SELECT 1 FROM returns AS other WHERE other.account_id = returns.account_id AND other.id <> returns.id "
        "AND other.tracking_number = returns.tracking_number AND other." + HOLDING + ")"))
    where = sa.text("tracking_number IS NOT NULL AND NOT tracking_shared AND " + HOLDING)
    op.create_index("uq_returns_account_open_tracking", "returns", ["account_id", "tracking_number"], unique=True,
                    sqlite_where=where, postgresql_where=where)


def downgrade():
    op.drop_index("uq_returns_account_open_tracking", table_name="returns")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("tracking_shared")

"""RMA numbers per store: each store counts its own returns (R-1001, R-1002…), so one store's
numbers never show how many returns the others on this installation take.

Existing returns keep their numbers (R-<100000 + id>); each store's counter continues after its
highest one, so no number is given twice in a store.

Revision ID: 0010_rma_per_store
Revises: 0009_shopify_returns
Create Date: 2026-12-05 08:24:53.113854
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0010_rma_per_store"
down_revision = "0009_shopify_returns"
branch_labels = None
depends_on = None

OLD_BASE = 100_000  # numbers were R-<OLD_BASE + id> until now


def upgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_rma_seq", sa.Integer(), server_default="1000", nullable=False))
    op.execute(sa.text(
        "UPDATE accounts SET last_rma_seq = (SELECT :base + MAX(r.id) FROM returns r WHERE r.account_id = accounts.id) "
        "WHERE EXISTS (SELECT 1 FROM returns r WHERE r.account_id = accounts.id)").bindparams(base=OLD_BASE))
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_returns_rma_number"), type_="unique")
        batch_op.create_unique_constraint("uq_returns_account_rma", ["account_id", "rma_number"])


def downgrade():
    # Numbers must be unique across stores again: returns numbered per store get the old form.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, rma_number FROM returns")).all()
    for return_id, number in rows:
        digits = number[2:] if number.startswith("R-") else ""
        if not digits.isdecimal() or int(digits) <= OLD_BASE:
            bind.execute(sa.text("UPDATE returns SET rma_number = :n WHERE id = :id"),
                         {"n": f"R-{OLD_BASE + return_id}", "id": return_id})
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_constraint("uq_returns_account_rma", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_returns_rma_number"), ["rma_number"])
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("last_rma_seq")

"""Items whose option the customer chose are decided (so the return action issues them)

Returns made in customer-choice mode stored their items as UNDECIDED although the option was
chosen; the return action issues only DECIDED items, so those would never be issued. This marks
them DECIDED; rules-mode items and items without an option are left alone.

Revision ID: 0007_customer_choices_decided
Revises: 0006_returns_list_indexes
Create Date: 2026-12-01 15:55:00
"""
from alembic import op

revision = "0007_customer_choices_decided"
down_revision = "0006_returns_list_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE return_items SET resolution = 'DECIDED' "
        "WHERE resolution = 'UNDECIDED' AND option IS NOT NULL AND return_id IN "
        "(SELECT id FROM returns WHERE option_source = 'customer' AND status <> 'CANCELLED')")


def downgrade():
    # Nothing to undo: DECIDED is what these items always meant.
    pass

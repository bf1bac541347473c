"""Indexes for the staff returns list: filters, sorts and pages that stay fast at 100,000 returns

Revision ID: 0006_returns_list_indexes
Revises: 0005_return_actions
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_returns_list_indexes"
down_revision = "0005_return_actions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_returns_account_status_created", "returns", ["account_id", "status", "created_at"])
    op.create_index("ix_returns_account_id", "returns", ["account_id", "id"])
    op.create_index("ix_return_items_resolution_return", "return_items", ["resolution", "return_id"])
    op.create_index("ix_return_items_option_return", "return_items", ["option", "return_id"])


def downgrade():
    op.drop_index("ix_return_items_option_return", table_name="return_items")
    op.drop_index("ix_return_items_resolution_return", table_name="return_items")
    op.drop_index("ix_returns_account_id", table_name="returns")
    op.drop_index("ix_returns_account_status_created", table_name="returns")

"""Rule facts: a products table (type, tags and collections per Shopify product, for the rules'
product dimensions) and indexes to count a customer's returns over the last year.

Revision ID: 0023_rule_facts
Revises: 0022_bonus_credit
Create Date: 2026-12-06 05:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.types

revision = "0023_rule_facts"
down_revision = "0022_bonus_credit"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "products",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shopify_product_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("product_type", sa.String(length=255), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("collections", JSON, nullable=False),
        sa.Column("shopify_updated_at", app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stored_at", app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_products_account_id_accounts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("account_id", "shopify_product_id", name="uq_products_account_product"),
    )
    op.create_index("ix_returns_account_customer_created", "returns",
                    ["account_id", "customer_shopify_id", "created_at"])
    op.create_index("ix_returns_account_email_created", "returns", ["account_id", "customer_email", "created_at"])


def downgrade():
    op.drop_index("ix_returns_account_email_created", table_name="returns")
    op.drop_index("ix_returns_account_customer_created", table_name="returns")
    op.drop_table("products")

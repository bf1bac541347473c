"""What the rules read about a shop's products: type, tags and collections, per Shopify product.

Filled by the product sync at connect / import (app.services.product_facts) and kept current by
the products/create, products/update and products/delete webhooks. Order lines keep only the
product's id; these facts are the product's as they are now, not as they were when it sold.
"""
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import JSONType, UTCDateTime, utcnow
from app.models.types import BigIntPK


class Product(db.Model):
    """One Shopify product's facts for the rules."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("account_id", "shopify_product_id", name="uq_products_account_product"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    shopify_product_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(255), default="")
    product_type: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list] = mapped_column(JSONType, default=list)
    # The titles of the collections the product is in.
    collections: Mapped[list] = mapped_column(JSONType, default=list)
    # Shopify's updatedAt of what we stored: an older webhook arriving late is not applied.
    shopify_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

"""Orders as a return needs them: copied from Shopify, kept for the retention period."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, JSON, Text, UniqueConstraint, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import JSONType, UTCDateTime, utcnow
from app.models.types import BigIntPK, Money

# JSON whose None is SQL NULL (not JSON null), so "never read" can be looked for.
NULLABLE_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Order(db.Model):
    """A Shopify order's return-relevant facts."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "shopify_order_id"),
        # The portal's lookup: order name + email within one store.
        Index("ix_orders_portal_lookup", "account_id", "name", "email"),
        # Retention purges and date-range lists scan by creation date within a store.
        Index("ix_orders_account_created", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    customer_shopify_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_name: Mapped[str | None] = mapped_column(String(255))
    shipping_address: Mapped[dict | None] = mapped_column(JSONType)
    shipping_country: Mapped[str | None] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    total_price: Mapped[Decimal] = mapped_column(Money)
    subtotal_price: Mapped[Decimal] = mapped_column(Money)
    total_discounts: Mapped[Decimal] = mapped_column(Money)
    discount_codes: Mapped[list] = mapped_column(JSONType, default=list)
    tags: Mapped[list] = mapped_column(JSONType, default=list)
    financial_status: Mapped[str | None] = mapped_column(String(32))
    fulfillment_status: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The order's parcels, oldest first: [{"id", "created_at", "delivered_at",
    # "estimated_delivery_at", "status", "lines": {"<line id>": units} or null}] (ISO instants;
    # "lines" null when only the dates were read, as the bulk export gives them). None: never read.
    fulfillments: Mapped[list | None] = mapped_column(NULLABLE_JSON)
    # Whether every parcel's units are known (or there is at most one parcel): what the fill job
    # looks for.
    fulfillments_known: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True,
        order_by="OrderLine.id",
    )

    def __repr__(self) -> str:
        return f"<Order {self.id} {self.name}>"


class OrderLine(db.Model):
    """One line item of an order, with what has been fulfilled and refunded in Shopify."""

    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "shopify_line_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    shopify_line_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int | None] = mapped_column(BigInteger)
    variant_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(255))
    variant_title: Mapped[str | None] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(255))
    product_tags: Mapped[list] = mapped_column(JSONType, default=list)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    # What one unit actually cost after its share of line and order discounts.
    discounted_unit_price: Mapped[Decimal] = mapped_column(Money)
    fulfilled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)
    # Units Shopify still lets a return take (returnableFulfillments, summed over the line's
    # fulfillment line items); None until first read. Units of ours already in a Shopify return
    # are not in it, so eligibility subtracts only ours not yet sent (app.services.return_eligibility).
    returnable_quantity: Mapped[int | None] = mapped_column(Integer)
    image_url: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="lines")

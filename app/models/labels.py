"""Prepaid return labels: one per return, bought from the shop's label provider.

Exactly once: the shipment and the chosen rate are committed (SHIPMENT_CREATED) and the row is
marked BUYING (committed) before the provider is asked to buy; a run that finds BUYING reads the
purchase back by the stored id before it may buy again (app.services.labels).
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.vocabulary import LabelState
from app.extensions import db
from app.models._common import UTCDateTime, utcnow
from app.models.types import BigIntPK, Money


class ReturnLabel(db.Model):
    """A return's prepaid label and where its purchase stands."""

    __tablename__ = "return_labels"
    __table_args__ = (UniqueConstraint("return_id", name="uq_return_labels_return"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(20), default=LabelState.CREATING.value)
    shipment_id: Mapped[str | None] = mapped_column(String(64))
    rate_id: Mapped[str | None] = mapped_column(String(64))
    # The chosen rate's price, stored with the rate: the cost when the buy's answer names no price.
    rate_amount: Mapped[Decimal | None] = mapped_column(Money)
    # The provider's id of the purchase (EasyPost: the shipment; Shippo: the transaction).
    purchase_id: Mapped[str | None] = mapped_column(String(64))
    carrier: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    tracking_url: Mapped[str | None] = mapped_column(String(1000))
    label_url: Mapped[str | None] = mapped_column(String(1000))
    label_pdf_url: Mapped[str | None] = mapped_column(String(1000))
    label_png_url: Mapped[str | None] = mapped_column(String(1000))
    qr_url: Mapped[str | None] = mapped_column(String(1000))
    cost: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    tracker_id: Mapped[str | None] = mapped_column(String(64))
    # The reverse delivery sent to Shopify (None: not yet; "sent"; or why it could not be).
    shopify_delivery: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    # Runs of the label job on this row (a failing provider is not asked forever).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    bought_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def bought(self) -> bool:
        """Bought and not voided: the shopper can print it."""
        return self.state == LabelState.BOUGHT.value

    def __repr__(self) -> str:
        return f"<ReturnLabel {self.id} return={self.return_id} {self.state}>"

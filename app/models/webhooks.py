"""Inbound deliveries: Shopify webhooks and carrier tracking events, stored before any work."""
from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import JSONType, UTCDateTime, utcnow
from app.models.types import BigIntPK


class WebhookDelivery(db.Model):
    """A Shopify webhook as received. Written once by intake and then only read: the work still
    to do on it is a `PendingDelivery` row, deleted when the work is done."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # Shopify may deliver one event more than once; the event id says so.
        UniqueConstraint("shop_domain", "topic", "event_id"),
        # A shop's latest delivery (webhook health) in one index probe; it also serves the
        # account's foreign key, so intake maintains no more indexes than before.
        Index("ix_webhook_deliveries_account_received", "account_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    shop_domain: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    webhook_id: Mapped[str | None] = mapped_column(String(128))
    api_version: Mapped[str | None] = mapped_column(String(16))
    triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What processing noted on a delivery it did process (an order body that did not map, though
    # the Admin API's copy was stored); errors of failed attempts are on the pending row.
    note: Mapped[str | None] = mapped_column(Text)
    # None once the delivery is processed.
    pending: Mapped["PendingDelivery | None"] = relationship(back_populates="delivery", passive_deletes=True)


class PendingDelivery(db.Model):
    """A delivery whose work is not done yet: written by intake in the same statement as the
    delivery, claimed by a dispatcher, counted per attempt, and deleted with the work's commit.

    Why a row of its own: the claim, the attempt counts and the "processed" mark are writes, and
    on the wide delivery row (a body of several KB, then four indexes) each was a new row version
    and a new entry in every index, on the very pages intake was inserting into during a flash
    sale. This row is narrow and none of its updated columns is indexed, so PostgreSQL can update
    it in place (HOT), and "processed" is its deletion."""

    __tablename__ = "pending_deliveries"

    delivery_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
                                             primary_key=True, autoincrement=False)
    # Set when a dispatcher claimed the delivery into a batch job (app/services/dispatch.py).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivery: Mapped[WebhookDelivery] = relationship(back_populates="pending")


class OrderConfirmation(db.Model):
    """An order stored from a webhook body, waiting to be confirmed from the Admin API."""

    __tablename__ = "order_confirmations"
    __table_args__ = (UniqueConstraint("account_id", "shopify_order_id", name="uq_order_confirmations_account_order"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConfirmLease(db.Model):
    """Which confirmer may spend a shop's API points now: one at a time, until `expires_at`."""

    __tablename__ = "confirm_leases"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The shop's bucket as Shopify last reported it (throttleStatus), so the next confirmer —
    # often a fresh process — paces from the first call instead of finding out by a THROTTLED.
    bucket_available: Mapped[float | None] = mapped_column(Float)
    bucket_maximum: Mapped[float | None] = mapped_column(Float)
    bucket_restore_rate: Mapped[float | None] = mapped_column(Float)
    bucket_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrackingEvent(db.Model):
    """A carrier event for a return parcel; parked (no return) when its number is unknown."""

    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("provider", "provider_event_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id", ondelete="SET NULL"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_event_id: Mapped[str] = mapped_column(String(255))
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(32))
    raw_status: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    raw: Mapped[dict | None] = mapped_column(JSONType)


class TrackingConnection(db.Model):
    """How one tracking provider reaches one account: the secret URL token that names the
    connection, the provider's signing secret (encrypted), and SEKO's optional basic credentials."""

    __tablename__ = "tracking_connections"
    __table_args__ = (UniqueConstraint("account_id", "provider"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    url_token: Mapped[str] = mapped_column(String(64), unique=True)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

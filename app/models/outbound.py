"""The retailer's own webhook endpoints and what is sent to them (outbound webhooks).

Not Shopify's webhooks: those arrive at us and are `WebhookDelivery` rows (`app/models/webhooks.py`).
"""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import JSONType, UTCDateTime, utcnow
from app.models.types import BigIntPK


class OutboundEndpoint(db.Model):
    """A URL of the retailer's that receives the topics it subscribes to, signed with its secret."""

    __tablename__ = "outbound_endpoints"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(120))
    topics: Mapped[list] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Encrypted (app/crypto.py). During a rotation's overlap the previous secret still signs, until
    # previous_secret_expires_at.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<OutboundEndpoint {self.id} {self.url}>"


class OutboundDelivery(db.Model):
    """One event for one endpoint: its body (built when the milestone was announced, so every
    attempt sends the same bytes), where it goes, and how its attempts went.

    States: pending (due at next_attempt_at), sending (claimed by a job until claimed_until),
    delivered, failed (every attempt failed)."""

    __tablename__ = "outbound_deliveries"
    __table_args__ = (
        Index("ix_outbound_deliveries_due", "state", "next_attempt_at"),
        Index("ix_outbound_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("outbound_endpoints.id", ondelete="CASCADE"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id", ondelete="SET NULL"), index=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(40))
    # The URL when the event happened: retries go there even if the endpoint's URL changes since,
    # as Shopify's do (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism).
    url: Mapped[str] = mapped_column(String(2048))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_response: Mapped[str | None] = mapped_column(Text)  # the answer's first EXCERPT_CHARS
    last_duration_ms: Mapped[int | None] = mapped_column(Integer)
    # Every attempt, oldest first: {"at", "status", "error", "ms"} (the answer only of the last).
    attempt_log: Mapped[list | None] = mapped_column(JSONType)

    def __repr__(self) -> str:
        return f"<OutboundDelivery {self.id} {self.topic} {self.state}>"

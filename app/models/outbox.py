"""Emails the app sends, kept as rows: the embedded default only stores them (shown on the
dashboard's Outbox page); with SMTP configured a job sends each one and records the result."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import UTCDateTime, utcnow
from app.models.types import BigIntPK


class OutboxEmail(db.Model):
    """One email to one address. Written in the same transaction as whatever it announces, so an
    email is never lost (nor sent for something that was rolled back)."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_account_created", "account_id", "created_at"),
                      Index("uq_outbox_emails_once_key", "once_key", unique=True))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The return the email is about, when there is one (kept when the return is deleted).
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The last SMTP failure, shown on the Outbox page; cleared when a later attempt succeeds.
    error: Mapped[str | None] = mapped_column(Text)
    # Which shopper email this is (vocabulary.EmailKind; None for one written before kinds), and
    # the key that makes it once per return (and kind, and items where a kind repeats): a second
    # row with the same key is never written (app.services.shopper_emails).
    kind: Mapped[str | None] = mapped_column(String(32))
    once_key: Mapped[str | None] = mapped_column(String(120))

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} to {self.to_address}>"

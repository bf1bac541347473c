"""A retailer's own wording of a portal or email message, per language (app/i18n.py reads it)."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import UTCDateTime, utcnow
from app.models.types import BigIntPK


class PortalText(db.Model):
    """The shop's text for one message (its English source, `msgid`) in one language."""

    __tablename__ = "portal_texts"
    __table_args__ = (UniqueConstraint("account_id", "locale", "msgid", name="uq_portal_texts_account_locale_msgid"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    # The English source text, as extracted into app/translations/messages.pot.
    msgid: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

"""Photos a shopper added to a returned item. A row is pending (tied to the portal session that
uploaded it and the order line it shows) until the return is submitted, then belongs to its
return item. The bytes live in the photo store under `storage_key`, a random key."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import UTCDateTime, utcnow
from app.models.types import BigIntPK


class ReturnPhoto(db.Model):
    """One re-encoded photo (no metadata) of a returned item."""

    __tablename__ = "return_photos"
    __table_args__ = (
        Index("ix_return_photos_pending", "account_id", "session_key", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # Deleted with their order (retention, redaction) by services/photos.py, which removes the
    # stored object first; SET NULL only keeps a row whose order went another way readable.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id", ondelete="SET NULL"))
    return_item_id: Mapped[int | None] = mapped_column(ForeignKey("return_items.id", ondelete="CASCADE"),
                                                       index=True)
    # The portal session that uploaded it, while pending; NULL once it belongs to a return item.
    session_key: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

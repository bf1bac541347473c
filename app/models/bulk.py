"""A staff action over many returns at once (bulk close): its progress and a result per return."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import JSONType, UTCDateTime, utcnow
from app.models.types import BigIntPK


class BulkAction(db.Model):
    """One "Close selected": the returns asked for, how far the job has got, and per return
    whether it closed (or why not). The page polls it for the progress bar."""

    __tablename__ = "bulk_actions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="close")
    actor: Mapped[str | None] = mapped_column(String(254))
    return_ids: Mapped[list] = mapped_column(JSONType, default=list)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # {return id (str): {"ok": bool, "message": str}}; filled as the job goes.
    results: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

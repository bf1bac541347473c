"""Initial order imports: one row per run, read by the dashboard's progress bar."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import UTCDateTime, utcnow
from app.models.types import BigIntPK


class ImportStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ImportRun(db.Model):
    """One import of a store's recent orders (bulk operation first, paginated fallback)."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.QUEUED.value)
    method: Mapped[str | None] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    # Why the window is shorter than asked (no read_all_orders), shown beside the progress bar.
    window_note: Mapped[str | None] = mapped_column(Text)
    bulk_operation_id: Mapped[str | None] = mapped_column(String(255))
    total: Mapped[int | None] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Paginated fallback: creation time of the last order committed, where a re-run continues.
    resume_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Touched while a worker holds the run; a run left RUNNING with an old heartbeat was abandoned.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def finished(self) -> bool:
        """Completed or failed: the progress bar stops polling."""
        return self.status in (ImportStatus.COMPLETED.value, ImportStatus.FAILED.value)

"""Small pieces every model module uses."""
from datetime import datetime, timezone

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB

from app.models.types import UTCDateTime  # noqa: F401  (re-exported for the model modules)

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Timezone-aware now, the only kind of datetime we store."""
    return datetime.now(timezone.utc)

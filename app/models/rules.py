"""The retailer's automation rules, in priority order."""
from datetime import datetime

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import JSONType, UTCDateTime, utcnow
from app.models.types import BigIntPK, Money


class Rule(db.Model):
    """A named set of AND-ed conditions and an outcome; position 1 is tried first."""

    __tablename__ = "rules"
    __table_args__ = (Index("ix_rules_account_position", "account_id", "position"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[list] = mapped_column(JSONType, default=list)
    outcome: Mapped[str] = mapped_column(String(16))
    # The Restocking fee outcome's percentage (0 < p ≤ 100); None for every other outcome.
    fee_percentage: Mapped[Decimal | None] = mapped_column(Money)
    # Bumped on every edit; a decision records the version it used.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

"""Shopify returns as Boomerang keeps them, and the writes made to them.

A Boomerang return becomes one or more Shopify returns (``ShopifyReturn``); a return made in
Shopify's admin or self-serve returns is kept too, with no Boomerang return. Every write to a
Shopify return that Shopify takes without an idempotency key is a ``ShopifyCall``: claimed by one
insert (unique per return, phase and round, so racing workers never send it twice), its exact
variables stored before it is sent, and its effect read back before it is ever sent again.
"""
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.issuing import CallState, ShopifyReturnStatus
from app.extensions import db
from app.models._common import JSONType, UTCDateTime, utcnow
from app.models.types import BigIntPK


class ShopifyReturn(db.Model):
    """One return on a Shopify order."""

    __tablename__ = "shopify_returns"
    __table_args__ = (
        UniqueConstraint("return_id", "seq"),
        UniqueConstraint("account_id", "shopify_return_id"),
        Index("ix_shopify_returns_account_order", "account_id", "shopify_order_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # None for a return made in Shopify (the merchant's admin, Shopify's self-serve returns).
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    # 1 for a Boomerang return's first Shopify return; an exchange decided later makes a 2nd, …
    seq: Mapped[int] = mapped_column(Integer, default=1)
    # Written at the start of every return line note (app.domain.issuing.return_marker).
    marker: Mapped[str | None] = mapped_column(String(48))
    shopify_return_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ShopifyReturnStatus.PENDING.value)
    made_in_shopify: Mapped[bool] = mapped_column(Boolean, default=False)
    # For returns made in Shopify: [{"line_item_id", "quantity", "processed"}] as last read.
    lines: Mapped[list | None] = mapped_column(JSONType)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # Runs of its job that ended in an error in a row: the sweeper stops re-queueing it at a cap
    # (a staff action still queues it), so no job is retried forever.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    calls: Mapped[list["ShopifyCall"]] = relationship(
        back_populates="shopify_return", cascade="all, delete-orphan", order_by="ShopifyCall.id")


class ShopifyCall(db.Model):
    """One claimed write to a Shopify return (a phase and its round)."""

    __tablename__ = "shopify_calls"
    __table_args__ = (UniqueConstraint("shopify_return_ref_id", "phase", "round"),
                      Index("ix_shopify_calls_state_claimed", "state", "claimed_at"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shopify_return_ref_id: Mapped[int] = mapped_column(ForeignKey("shopify_returns.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default=CallState.CLAIMED.value)
    # The exact variables of the first request: a retry sends them verbatim, or not at all.
    variables: Mapped[dict] = mapped_column(JSONType)
    # What the effect looks like once applied (read back before any second send).
    expect: Mapped[dict | None] = mapped_column(JSONType)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)

    shopify_return: Mapped[ShopifyReturn] = relationship(back_populates="calls")

"""Returns, their items (each a snapshot of the order line it returns) and their timeline."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.returns import HOLDS_TRACKING
from app.domain.vocabulary import ItemResolution, ReturnStatus
from app.extensions import db
from app.models._common import JSONType, UTCDateTime, utcnow
from app.models.types import BigIntPK, Money


OPEN_TRACKING = ("tracking_number IS NOT NULL AND NOT tracking_shared AND status IN ("
                 + ", ".join(f"'{status}'" for status in HOLDS_TRACKING) + ")")


class Return(db.Model):
    """One return (RMA) against one order."""

    __tablename__ = "returns"
    __table_args__ = (
        Index("ix_returns_account_created", "account_id", "created_at"),
        Index("ix_returns_account_status", "account_id", "status"),
        # The staff list (migration 0006): one status read newest first (the status filter, and
        # the status sort, which walks the statuses in lifecycle order), and the RMA sort (RMA
        # numbers follow the id).
        Index("ix_returns_account_status_created", "account_id", "status", "created_at"),
        Index("ix_returns_account_id", "account_id", "id"),
        UniqueConstraint("account_id", "rma_number", name="uq_returns_account_rma"),
        # One parcel, one return: a number is held by one return of the store until that return
        # is closed or cancelled (domain.returns.HOLDS_TRACKING; migration 0014). Rows that
        # shared a number before the rule are marked `tracking_shared` and left out.
        Index("uq_returns_account_open_tracking", "account_id", "tracking_number", unique=True,
              sqlite_where=text(OPEN_TRACKING), postgresql_where=text(OPEN_TRACKING)),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # SET NULL: purging an order past retention never breaks its returns; they keep snapshots.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    # Unique per store (see Account.last_rma_seq).
    rma_number: Mapped[str] = mapped_column(String(32))
    # One-time token from the submit form: a double click or resubmission finds the first return.
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ReturnStatus.OPEN.value)
    option_source: Mapped[str | None] = mapped_column(String(16))
    shopify_order_id: Mapped[int] = mapped_column(BigInteger)
    order_name: Mapped[str] = mapped_column(String(64))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    customer_name: Mapped[str | None] = mapped_column(String(255))
    # The portal's language when the return was submitted: every email about it is written in it.
    locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # Snapshots of the order (which may be purged first): the customer a credit goes to, and the
    # payment's status (staff are warned about returns on orders only authorised).
    customer_shopify_id: Mapped[int | None] = mapped_column(BigInteger)
    payment_status: Mapped[str | None] = mapped_column(String(32))
    shipping_address: Mapped[dict | None] = mapped_column(JSONType)
    currency: Mapped[str] = mapped_column(String(3))
    # The return shipping fee fixed at submission (app.domain.fees), sent with the Shopify return.
    return_shipping_fee: Mapped[Decimal | None] = mapped_column(Money)
    tracking_number: Mapped[str | None] = mapped_column(String(64), index=True)
    tracking_provider: Mapped[str | None] = mapped_column(String(32))
    # Set only by migration 0014 on open returns that already shared a number with another: the
    # unique index leaves them out, and carrier events for their number wait for staff.
    tracking_shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    tracking_exception: Mapped[str | None] = mapped_column(String(255))
    # The furthest carrier state seen (LABEL_CREATED … DELIVERED); it only moves forward.
    tracking_state: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    in_transit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Review (Account.review_mode): when staff approved or declined it, who, and for a decline
    # Shopify's reason (DeclineReason) and the message the shopper reads (at most 500 characters).
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(254))
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    decline_note: Mapped[str | None] = mapped_column(Text)
    # Set once, by the conditional update that fires the return action.
    action_triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list["ReturnItem"]] = relationship(
        back_populates="return_", cascade="all, delete-orphan", order_by="ReturnItem.id"
    )
    events: Mapped[list["ReturnEvent"]] = relationship(
        back_populates="return_", cascade="all, delete-orphan", order_by="ReturnEvent.id"
    )

    def add_event(self, kind: str, message: str, actor: str | None = None, data: dict | None = None,
                  now: datetime | None = None) -> "ReturnEvent":
        """Append to the return's timeline (the caller commits)."""
        event = ReturnEvent(kind=kind, message=message, actor=actor, data=data, created_at=now or utcnow())
        self.events.append(event)
        return event

    @property
    def keep_only(self) -> bool:
        """Every item is one the shopper keeps (a Keep item rule): there is no parcel to send."""
        return bool(self.items) and all(item.keep_item for item in self.items)


# A customer's returns over the last year, for the rules' Customer Returns dimensions
# (app.services.rule_facts): by Shopify customer, and for guests by lower-cased email.
Index("ix_returns_account_customer_created", Return.account_id, Return.customer_shopify_id, Return.created_at)
Index("ix_returns_account_email_created", Return.account_id, Return.customer_email, Return.created_at)


class ReturnItem(db.Model):
    """A returned quantity of one order line, with its option, decision trace and issuing result."""

    __tablename__ = "return_items"
    __table_args__ = (
        # The list's "issue state" and "option" filters (EXISTS per return, or a semi-join from here).
        Index("ix_return_items_resolution_return", "resolution", "return_id"),
        Index("ix_return_items_option_return", "option", "return_id"),
        # A shipped order's exchange items (app.services.exchange_shipments), on every fulfillment.
        Index("ix_return_items_exchange_order", "exchange_order_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_lines.id", ondelete="SET NULL"), index=True
    )
    # Snapshot of the order line, so the item outlives the order.
    shopify_line_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int | None] = mapped_column(BigInteger)
    variant_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(255))
    variant_title: Mapped[str | None] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(255))
    image_url: Mapped[str | None] = mapped_column(Text)
    unit_value: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    # The restocking fee percentage its reason carried at submission (app.domain.fees); stored
    # with Money's exact decimal storage (SQLite's NUMERIC would be a float).
    restocking_fee_percentage: Mapped[Decimal | None] = mapped_column(Money)
    # A Keep item rule matched it at submission (app/services/submission_rules.py): the shopper
    # keeps it, nothing is shipped back, and Shopify disposes of it as not restocked.
    keep_item: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The bonus credit its option earned at submission (app.domain.bonus), and the gift card that
    # carried it once issued.
    bonus_amount: Mapped[Decimal | None] = mapped_column(Money)
    bonus_gift_card_id: Mapped[int | None] = mapped_column(BigInteger)
    bonus_code_encrypted: Mapped[str | None] = mapped_column(Text)
    bonus_state: Mapped[str | None] = mapped_column(String(16))

    option: Mapped[str | None] = mapped_column(String(16))
    exchange_variant_id: Mapped[int | None] = mapped_column(BigInteger)
    exchange_variant_title: Mapped[str | None] = mapped_column(String(255))
    decision_trace: Mapped[dict | None] = mapped_column(JSONType)
    decided_by_rule_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_rule_version: Mapped[int | None] = mapped_column(Integer)
    resolution: Mapped[str] = mapped_column(String(16), default=ItemResolution.UNDECIDED.value)
    failure_reason: Mapped[str | None] = mapped_column(Text)

    # Created once, carried by the one Shopify call that issues this item.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The variables of the item's first keyed request (refundCreate, inventoryAdjustQuantities):
    # Shopify refuses one key with other variables, so a retry resends these verbatim.
    keyed_input: Mapped[dict | None] = mapped_column(JSONType)
    issuing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_amount: Mapped[Decimal | None] = mapped_column(Money)
    shopify_refund_id: Mapped[int | None] = mapped_column(BigInteger)
    shopify_gift_card_id: Mapped[int | None] = mapped_column(BigInteger)
    gift_card_last_characters: Mapped[str | None] = mapped_column(String(8))
    shopify_draft_order_id: Mapped[int | None] = mapped_column(BigInteger)
    exchange_order_id: Mapped[int | None] = mapped_column(BigInteger)
    exchange_order_name: Mapped[str | None] = mapped_column(String(64))
    # The credit note's full code, for the customer's email and status page (encrypted at rest).
    gift_card_code_encrypted: Mapped[str | None] = mapped_column(Text)
    # When the status page first showed that code in full; afterwards it shows its last characters.
    gift_card_code_shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issue_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A refund issued at first scan leaves the stock alone (the parcel is travelling); the items
    # are restocked once the return is received: PENDING → DONE (or FAILED with the reason).
    restock_state: Mapped[str | None] = mapped_column(String(16))
    restocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # --- issuing through Shopify returns (app.domain.issuing) ---
    issuing_method: Mapped[str] = mapped_column(String(16), default="returns", server_default="returns")
    shopify_return_ref_id: Mapped[int | None] = mapped_column(
        ForeignKey("shopify_returns.id", ondelete="SET NULL"), index=True)
    # Where the item's units sit in Shopify: [{"fli", "qty", "rli", "rfoli", "location"}], one per
    # fulfillment line item the quantity was spread over.
    shopify_lines: Mapped[list | None] = mapped_column(JSONType)
    # One exchange line of quantity 1 per exchanged unit.
    exchange_line_ids: Mapped[list | None] = mapped_column(JSONType)
    exchange_variant_price: Mapped[Decimal | None] = mapped_column(Money)
    # The processing call that issued (or is issuing) the item.
    process_call_id: Mapped[int | None] = mapped_column(ForeignKey("shopify_calls.id", ondelete="SET NULL"))
    credit_method: Mapped[str | None] = mapped_column(String(16))
    refund_state: Mapped[str | None] = mapped_column(String(16))
    refund_error: Mapped[str | None] = mapped_column(Text)
    # A refund staff made outside Shopify and recorded here (who, how much, how, when).
    outside_refund_amount: Mapped[Decimal | None] = mapped_column(Money)
    outside_refund_method: Mapped[str | None] = mapped_column(String(120))
    outside_refund_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outside_refund_by: Mapped[str | None] = mapped_column(String(254))

    return_: Mapped[Return] = relationship(back_populates="items")


class ReturnEvent(db.Model):
    """One entry of a return's timeline: a status change, a decision, a Shopify call, an email."""

    __tablename__ = "return_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(254))
    data: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    return_: Mapped[Return] = relationship(back_populates="events")

"""The retailer's account (one per connected store) and the people who log into it."""
import enum
from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.returns import RMA_SEQ_START
from app.domain.vocabulary import OptionMode, ReturnAction, ReviewMode
from app.extensions import db
from app.models._common import JSONType, UTCDateTime, utcnow
from app.models.types import BigIntPK, Money

DEFAULT_RETURN_REASONS = [
    "Faulty",
    "Too small",
    "Too large",
    "Not as described",
    "Changed my mind",
    "Arrived too late",
    "Wrong item sent",
]


class Role(str, enum.Enum):
    ADMIN = "admin"
    STAFF = "staff"


class ConnectionMethod(str, enum.Enum):
    OAUTH = "oauth"
    CLIENT_CREDENTIALS = "client_credentials"
    LEGACY_TOKEN = "legacy_token"


class Account(db.Model):
    """One retailer: its store connection, its settings and its portal branding."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The portal lives at /r/<slug>.
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    shop_domain: Mapped[str | None] = mapped_column(String(255), unique=True)
    shopify_shop_id: Mapped[int | None] = mapped_column(BigInteger)
    # Where the Admin API lives when it is not https://<shop_domain> (the sandbox).
    api_origin: Mapped[str | None] = mapped_column(String(500))
    connection_method: Mapped[str | None] = mapped_column(String(32))
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(255))
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # Webhook HMAC key; the previous one stays valid during a secret rotation.
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_webhook_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    granted_scopes: Mapped[list] = mapped_column(JSONType, default=list)
    shop_plan: Mapped[str | None] = mapped_column(String(64))
    # The store's own name as Shopify reports it (the connect check), shown on the Store page.
    shop_name: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the store is disconnected (app uninstalled, token revoked), shown in a banner.
    disconnect_reason: Mapped[str | None] = mapped_column(Text)
    # Whether Shopify returns customer email, name and address to this app (protected data).
    protected_data_readable: Mapped[bool | None] = mapped_column(Boolean)
    # The reconciliation job asks for orders updated since this moment.
    reconciled_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Webhook subscriptions: when they were last checked and made complete, or why that failed.
    webhooks_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhooks_error: Mapped[str | None] = mapped_column(Text)
    # Signs of webhook trouble (app.services.webhook_health): deliveries from this shop refused for
    # a bad signature (the last, and how many in that run of refusals); subscriptions the
    # periodic check found gone and made again; orders the reconciliation found that no webhook
    # brought (the last sweep that found some, and how many in that run); deliveries set aside
    # because Shopify triggered them too long ago or ahead of this server's clock (intake).
    webhooks_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhooks_refused_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    webhooks_recreated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhooks_recreated: Mapped[str | None] = mapped_column(String(500))
    webhooks_missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhooks_missed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    webhooks_stale_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhooks_stale_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    option_mode: Mapped[str] = mapped_column(String(32), default=OptionMode.CUSTOMER_CHOICE.value)
    exchange_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Which returns staff approve or decline before the shopper sends anything (ReviewMode).
    review_mode: Mapped[str] = mapped_column(String(16), default=ReviewMode.NONE.value,
                                             server_default=ReviewMode.NONE.value)
    return_action: Mapped[str] = mapped_column(String(32), default=ReturnAction.PROCESSING.value)
    # Where returned items go back into stock (a Shopify location id), and whether refunds restock.
    restock_location_id: Mapped[int | None] = mapped_column(BigInteger)
    # Whether returned units go back into stock (every option: refund, credit note, exchange).
    restock_returned_units: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Read from Shopify (the connect check, the settings page): whether store credit is possible
    # (new customer accounts: docs/reference/shopify-returns.md §6.4) and the gift card limit.
    customer_accounts_version: Mapped[str | None] = mapped_column(String(32))
    gift_card_issue_limit: Mapped[Decimal | None] = mapped_column(Money)
    # Exchanges as Shopify exchanges (default) or as a separate $0 order.
    exchange_mode: Mapped[str] = mapped_column(String(16), default="shopify", server_default="shopify")
    # Who tells the shopper that money or credit was issued: Shopify ("shopify") or our email.
    issued_notice: Mapped[str] = mapped_column(String(16), default="shopify", server_default="shopify")
    # Shopify's return reason definition ids by handle (they differ per shop), read once.
    return_reason_definitions: Mapped[dict | None] = mapped_column(JSONType)
    return_window_days: Mapped[int] = mapped_column(Integer, default=30)
    # What the return window counts from: "order" (the order date) or "delivery" (each parcel's
    # delivery, its shipping date while delivery is unknown); app.domain.return_window.
    return_window_basis: Mapped[str] = mapped_column(String(16), default="order", server_default="order")
    order_storage_months: Mapped[int] = mapped_column(Integer, default=3)
    initial_import_days: Mapped[int] = mapped_column(Integer, default=30)
    excluded_product_tags: Mapped[list] = mapped_column(JSONType, default=lambda: ["final-sale"])
    return_reasons: Mapped[list] = mapped_column(JSONType, default=lambda: list(DEFAULT_RETURN_REASONS))
    # Fees (app.domain.fees): a restocking fee percentage per reason ({"Changed my mind": "10"}) and
    # a flat return shipping fee in the shop's currency, both taken from refunds and credit notes.
    restocking_fees: Mapped[dict | None] = mapped_column(JSONType, default=dict)
    return_shipping_fee: Mapped[Decimal | None] = mapped_column(Money)
    # Bonus credit (app.domain.bonus) for choosing a credit note or an exchange: "10%" or "5.00".
    credit_bonus: Mapped[str | None] = mapped_column(String(16))
    exchange_bonus: Mapped[str | None] = mapped_column(String(16))
    # Photos asked per reason: reason -> "optional" | "required" (app.domain.photos.PhotoMode);
    # a reason not in the map is not asked. At most `photos_per_item` photos per returned item.
    photo_modes: Mapped[dict | None] = mapped_column(JSONType)
    photos_per_item: Mapped[int] = mapped_column(Integer, default=5, server_default="5")

    # The last RMA number given in this store (numbers count per store: one store's numbers never
    # show another's volume). Taken with an atomic increment as each return is made.
    last_rma_seq: Mapped[int] = mapped_column(Integer, default=RMA_SEQ_START, server_default=str(RMA_SEQ_START))

    # Where shoppers send their parcels: the shop's address as Shopify shows it to buyers (read at
    # connect), unless the retailer gives a return address of their own; one line per line.
    shop_address: Mapped[str | None] = mapped_column(Text)
    return_address: Mapped[str | None] = mapped_column(Text)
    # What to put in the parcel, how to pack it, which carrier: shown with the address.
    return_instructions: Mapped[str | None] = mapped_column(Text)

    # Prepaid return labels (app.services.labels): the provider ("" none, "easypost", "shippo"),
    # its API key (encrypted, never shown back), where its API lives when not at the provider (the
    # sandbox), when a label is bought, who pays (free, or the flat fee below, which Shopify takes
    # when the return is created: ReturnInput.returnShippingFee), the parcel's default weight, and
    # where labels send parcels: a structured address (name, company, street1, street2, city,
    # state, zip, country, phone), which providers need and the text return address is not.
    label_provider: Mapped[str] = mapped_column(String(16), default="", server_default="")
    label_api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    label_api_base: Mapped[str | None] = mapped_column(String(500))
    label_issue_on: Mapped[str] = mapped_column(String(16), default="submission", server_default="submission")
    label_weight_oz: Mapped[Decimal | None] = mapped_column(Money)
    label_carrier: Mapped[str | None] = mapped_column(String(64))
    label_ship_to: Mapped[dict | None] = mapped_column(JSONType)

    # Whether staff (not only admins) may download the returns list as CSV (app/dashboard/exports.py):
    # an export holds every customer's name and email at once, so admins decide.
    staff_may_export: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The shopper emails switched off (vocabulary.EmailKind values); every other kind is sent. A list
    # of what is off, not a column per kind: a kind added later is on for every account at once.
    shopper_emails_off: Mapped[list | None] = mapped_column(JSONType)

    logo_url: Mapped[str | None] = mapped_column(String(500))
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f6feb")
    # The portal's language when the shopper's browser asks for none it has (app/i18n.py).
    locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The languages the portal offers shoppers (app/i18n.py LANGUAGES codes); None: all of them.
    # The shop's own language (`locale`) is always offered.
    languages: Mapped[list | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    users: Mapped[list["User"]] = relationship(back_populates="account", cascade="all, delete-orphan")

    @property
    def is_connected(self) -> bool:
        """Connected to a store and not since disconnected (uninstalled, token revoked)."""
        return bool(self.shop_domain and self.access_token_encrypted and self.disconnected_at is None)

    @property
    def parcel_address(self) -> str | None:
        """Where shoppers send their parcels: the retailer's return address, else the shop's."""
        return self.return_address or self.shop_address

    @property
    def labels_enabled(self) -> bool:
        """Whether returns get a prepaid label: a provider chosen and its key stored."""
        return bool(self.label_provider and self.label_api_key_encrypted)

    def has_scope(self, scope: str) -> bool:
        """Whether Shopify granted this access scope (write_x implies read_x, as on Shopify)."""
        granted = set(self.granted_scopes or [])
        return scope in granted or (scope.startswith("read_") and "write_" + scope[5:] in granted)

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.slug}>"


class User(UserMixin, db.Model):
    """A person who logs into the dashboard: the retailer's admin or a staff member."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.STAFF.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(back_populates="users")

    @property
    def is_admin(self) -> bool:
        """Admins change settings, rules and staff; staff work the returns."""
        return self.role == Role.ADMIN.value

    @property
    def is_active(self) -> bool:  # Flask-Login asks this before letting a session in.
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

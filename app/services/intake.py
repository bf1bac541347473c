"""Shopify webhook intake: record a verified delivery once, then process it in a job."""
import functools
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import bindparam, create_engine, delete, insert, literal_column, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.crypto import decrypt_secret
from app.extensions import db
from app.models import Account, PendingDelivery, WebhookDelivery
from app.services.webhook_health import record_refused, record_stale
from app.shopify.webhooks import DeliveryBodyError, WebhookHeaders, delivery_text, verify_webhook

log = logging.getLogger(__name__)

ORDER_TOPICS = {"orders/create", "orders/updated"}
PRIVACY_TOPICS = {"customers/redact", "shop/redact", "customers/data_request"}
RETURN_TOPICS = {"returns/approve", "returns/request", "returns/process", "returns/close", "returns/cancel",
                 "returns/decline", "returns/reopen", "returns/update"}
# A parcel shipped or changed (delivered): the return window may count from it.
FULFILLMENT_TOPICS = {"fulfillments/create", "fulfillments/update"}
# A product changed or went: its facts for the rules (app.services.product_facts).
PRODUCT_TOPICS = {"products/create", "products/update", "products/delete"}
KNOWN_TOPICS = ORDER_TOPICS | PRIVACY_TOPICS | RETURN_TOPICS | FULFILLMENT_TOPICS | PRODUCT_TOPICS | {"app/uninstalled"}


class IntakeRefused(Exception):
    """The delivery is refused; `status` is the HTTP answer and the message says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def account_for_shop(shop_domain: str | None) -> Account | None:
    """The account connected to (or once connected to) that shop."""
    if not shop_domain:
        return None
    return db.session.scalar(select(Account).where(Account.shop_domain == shop_domain.lower()))


class StaleDelivery(IntakeRefused):
    """A signed delivery Shopify triggered too long ago, or ahead of this server's clock: set aside
    unstored, and answered 200 (see `check_fresh`)."""

    def __init__(self, message: str):
        super().__init__(200, message)


class StaleShopKeys(Exception):
    """The cached account of a shop is gone; verify again with fresh keys."""


@dataclass(frozen=True)
class ShopKeys:
    """What intake needs to know of a shop: its account and its webhook secrets."""

    account_id: int
    secrets: tuple[str, ...]


# Per-process cache of ShopKeys: intake is the hottest path, and a shop's secrets rarely change.
# A signature that fails against cached secrets is re-checked against fresh ones, so a rotated
# secret works at once; an entry lives at most KEYS_TTL seconds.
KEYS_TTL = 60.0
_keys_cache: dict[str, tuple[float, ShopKeys | None]] = {}
_keys_lock = threading.Lock()


def _load_keys(shop_domain: str) -> ShopKeys | None:
    account = account_for_shop(shop_domain)
    if account is None:
        return None
    secrets = (decrypt_secret(account.webhook_secret_encrypted),
               decrypt_secret(account.previous_webhook_secret_encrypted))
    return ShopKeys(account.id, tuple(s for s in secrets if s))


def _shop_keys(shop_domain: str, fresh: bool = False) -> ShopKeys | None:
    now = time.monotonic()
    cached = None if fresh else _keys_cache.get(shop_domain)
    if cached is not None and now - cached[0] < KEYS_TTL:
        return cached[1]
    keys = _load_keys(shop_domain)
    with _keys_lock:
        _keys_cache[shop_domain] = (now, keys)
    return keys


def forget_shop_keys(shop_domain: str | None = None) -> None:
    """Drop cached keys (one shop's, or all): after a reconnect, or when the cache is stale."""
    with _keys_lock:
        if shop_domain is None:
            _keys_cache.clear()
        else:
            _keys_cache.pop(shop_domain.lower(), None)


def verify_delivery(headers: WebhookHeaders, body: bytes) -> int:
    """The delivery's account id, once its HMAC checks out under the shop's current or previous
    secret. Unknown shops get the same 401 as bad signatures: nothing to learn from probing."""
    if not headers.hmac or not headers.shop_domain:
        raise IntakeRefused(401, "HMAC signature missing or invalid")
    keys = _shop_keys(headers.shop_domain)
    if keys is None or not verify_webhook(body, headers.hmac, keys.secrets):
        keys = _shop_keys(headers.shop_domain, fresh=True)  # the secret may have just changed
        if keys is None or not verify_webhook(body, headers.hmac, keys.secrets):
            if keys is not None:
                _note_signal("refused", keys.account_id)
            raise IntakeRefused(401, "HMAC signature missing or invalid")
    if not headers.topic:
        raise IntakeRefused(400, "X-Shopify-Topic header missing")
    check_fresh(headers, keys.account_id)
    return keys.account_id


def check_fresh(headers: WebhookHeaders, account_id: int, now: datetime | None = None) -> None:
    """Refuse (StaleDelivery) a delivery triggered more than WEBHOOK_MAX_AGE_HOURS ago or more than
    WEBHOOK_CLOCK_SKEW_MINUTES ahead of this server's clock.

    Shopify retries a failed delivery 8 times over 4 hours, always with the original payload and
    X-Shopify-Triggered-At, and says to judge staleness by that header
    (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism); in rare cases a delivery
    comes up to a day late (https://shopify.dev/docs/apps/build/webhooks/best-practices). The
    default of 48 hours is twice that day, so no genuine retry or late delivery is set aside.

    A refused delivery is answered 200: any other answer makes Shopify retry it (with the same
    header, so it would be refused again) and, after 8 failures in a row, delete a subscription
    made through the API. Nothing is lost: the reconciliation reads every order updated since its
    last sweep, so whatever such a delivery carried was read by an earlier sweep or is read by the
    next one. Each refusal is a webhook trouble signal (a server clock far off shows there first).

    The header is not covered by the HMAC (only the body is), so this stops a replay that keeps
    Shopify's headers, not one that forges a fresh time; such a replay carries nothing new, since
    every delivery is processed against the order read back from the Admin API. A delivery
    without the header (Shopify always sends one) is not judged."""
    triggered = headers.triggered_at
    if triggered is None:
        return
    config = current_app.config
    now = now or datetime.now(timezone.utc)
    oldest = now - timedelta(hours=config["WEBHOOK_MAX_AGE_HOURS"])
    newest = now + timedelta(minutes=config["WEBHOOK_CLOCK_SKEW_MINUTES"])
    if oldest <= triggered <= newest:
        return
    _note_signal("stale", account_id)
    when = "too long ago" if triggered < oldest else "ahead of this server's clock"
    raise StaleDelivery(f"delivery triggered {when} ({triggered.isoformat()}): set aside, not stored")


# Refusals of a known shop are a sign its secret is wrong, stale deliveries that its clock or
# this server's is off, or that someone replays old deliveries (app.services.webhook_health). They
# are written at most once per REFUSAL_WRITE_SECONDS per shop, kind and process, carrying the
# refusals seen meanwhile, so a flood of forged deliveries cannot turn into a flood of writes.
REFUSAL_WRITE_SECONDS = 10.0
# (kind, account id) → (monotonic time of the last write, unwritten)
_refusals: dict[tuple[str, int], tuple[float, int]] = {}


def forget_refusals() -> None:
    """Drop this process's unwritten refusal counts (the database they belong to was rolled back)."""
    with _keys_lock:
        _refusals.clear()


def _note_signal(kind: str, account_id: int) -> None:
    now = time.monotonic()
    with _keys_lock:
        written, pending = _refusals.get((kind, account_id), (-REFUSAL_WRITE_SECONDS, 0))
        pending += 1
        due = now - written >= REFUSAL_WRITE_SECONDS
        _refusals[(kind, account_id)] = (now, 0) if due else (written, pending)
    if due:
        try:
            (record_refused if kind == "refused" else record_stale)(account_id, pending)
        except Exception:  # the refusal is answered whatever happens to the note
            db.session.rollback()
            log.warning("could not record a %s delivery of account %s", kind, account_id, exc_info=True)


def record_delivery(account_id: int, headers: WebhookHeaders, body: bytes) -> int | None:
    """Store the delivery (committed) and return its id; None when this event was stored before.

    One INSERT … ON CONFLICT DO NOTHING RETURNING id: a duplicate costs no error and no savepoint,
    and on PostgreSQL the whole write is a single autocommitted round trip."""
    if not body.strip():
        raise IntakeRefused(400, "empty body")
    try:
        text = delivery_text(body)
    except DeliveryBodyError as refused:
        raise IntakeRefused(400, str(refused)) from None
    # Shopify always sends an event id; fall back to the webhook id, then the body's digest.
    event_id = headers.event_id or headers.webhook_id or hashlib.sha256(body).hexdigest()
    values = dict(
        shop_domain=headers.shop_domain, topic=headers.topic[:64], event_id=event_id[:128],
        webhook_id=(headers.webhook_id or "")[:128] or None, api_version=(headers.api_version or "")[:16] or None,
        triggered_at=headers.triggered_at, body=text, received_at=datetime.now(timezone.utc))
    params = {"p_account_id": account_id, **{f"p_{name}": value for name, value in values.items()}}
    bind = db.engine  # not the session's bind: no session is made for the common case
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        delivery_id = _insert_autocommitted(bind, params)
    else:
        # SQLite (whose explicit BEGIN would defeat autocommit), or a test's outer transaction.
        delivery_id = db.session.execute(_insert_delivery_statement(bind.dialect.name), params).scalar()
        if delivery_id is not None:
            db.session.execute(insert(PendingDelivery.__table__).values(delivery_id=delivery_id, attempts=0))
        db.session.commit()
    if delivery_id is None and not db.session.scalar(
            select(Account.id).where(Account.id == account_id, Account.shop_domain == headers.shop_domain)):
        forget_shop_keys(headers.shop_domain)
        raise StaleShopKeys(headers.shop_domain)
    return delivery_id  # None: a repeat of an event we already have, nothing more to do


def _insert_autocommitted(engine: Engine, params: dict) -> int | None:
    """Run the insert as one autocommitted statement: a single round trip, where a transaction
    would take three (BEGIN, INSERT, COMMIT) and the pool's pre-ping a fourth.

    The intake engine does not ping; a connection found dead (the database restarted) is
    dropped and the insert sent once more on a fresh one, which is safe because a repeated
    insert of one event is a no-op. In the rare case that the first attempt committed before its
    answer was lost, the second finds a duplicate and nothing is queued: the sweeper queues it."""
    sql = _compiled_sql(engine.dialect)

    def insert() -> int | None:
        with intake_engine(engine).connect() as connection:
            return connection.exec_driver_sql(sql, params).scalar()

    try:
        return insert()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        log.warning("the intake connection was dead; sending the delivery again on a fresh one")
    return insert()


_engine_lock = threading.Lock()


def intake_engine(engine: Engine) -> Engine:
    """The app's engine for intake inserts: the same database as `engine`, in autocommit and
    without pre-ping (created on first use, so in each server process after the fork)."""
    extensions = current_app.extensions
    if "intake_engine" not in extensions:
        with _engine_lock:
            if "intake_engine" not in extensions:
                extensions["intake_engine"] = create_engine(
                    engine.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False, skip_autocommit_rollback=True)
    return extensions["intake_engine"]


_DELIVERY_FIELDS = ("shop_domain", "topic", "event_id", "webhook_id", "api_version", "triggered_at", "body",
                    "received_at")


@functools.cache
def _insert_delivery_statement(dialect: str):
    """INSERT … SELECT from the account row, built once per dialect (this is the hot path).

    The delivery is only written if that account still owns the shop (a cached id can be
    stale), and ON CONFLICT makes a repeated event a no-op returning no id."""
    table = WebhookDelivery.__table__  # the table, not the entity: no ORM bulk-insert semantics
    columns = table.c
    # Parameters are prefixed: an INSERT would take parameters named like its columns as VALUES.
    source = select(Account.id, *[bindparam(f"p_{name}", type_=columns[name].type) for name in _DELIVERY_FIELDS]
                    ).where(Account.id == bindparam("p_account_id"), Account.shop_domain == bindparam("p_shop_domain"))
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (insert(table).from_select(["account_id", *_DELIVERY_FIELDS], source)
            .on_conflict_do_nothing(index_elements=["shop_domain", "topic", "event_id"])
            .returning(columns.id))


@functools.cache
def _insert_with_pending_statement():
    """PostgreSQL: the delivery and its pending row in one statement (the delivery's insert as a
    data-modifying CTE), so that intake stays a single autocommitted round trip. A repeated event
    inserts no delivery, hence no pending row, and returns no id."""
    stored = _insert_delivery_statement("postgresql").cte("stored")
    pending = PendingDelivery.__table__
    new_rows = select(stored.c.id, literal_column("0"))  # a literal, not a parameter: the SQL is sent as it is
    return (postgresql_insert(pending).from_select(["delivery_id", "attempts"], new_rows)
            .returning(pending.c.delivery_id))


@functools.cache
def _compiled_sql(dialect) -> str:
    """The PostgreSQL statement as driver SQL, so the hot path skips SQLAlchemy's per-call
    compilation and type processing (every value is a plain str, int or aware datetime)."""
    return str(_insert_with_pending_statement().compile(dialect=dialect))


def mark_processed(delivery_ids: list[int]) -> None:
    """Record that the deliveries' work is done, by deleting their pending rows in one statement
    (the caller commits with that work)."""
    if not delivery_ids:
        return
    db.session.execute(delete(PendingDelivery).where(PendingDelivery.delivery_id.in_(list(delivery_ids)))
                       .execution_options(synchronize_session=False))


def redo_if_lost() -> None:
    """Let the current transaction commit without waiting for the disk (PostgreSQL's
    asynchronous commit; nothing changes on SQLite). Only for work that a crash may undo because
    it is done again: the dispatcher's claim and a batch job's writes, never the delivery itself,
    which is on disk before Shopify gets its 200.

    Why losing such a commit is harmless: a crash within a fraction of a second of it (three
    times wal_writer_delay at most) undoes the transaction whole, as if it had never committed;
    a lost claim leaves its deliveries unclaimed for the next pass (a batch queued twice skips
    what is processed or locked), lost batch writes leave their deliveries unprocessed for the
    sweeper, which queues them again. Nothing durable can depend on a lost commit: PostgreSQL
    writes its log in order, so any later synchronous commit that read what it wrote (a return
    submitted for the order, a confirmation) puts it on disk first; and what left the database
    meanwhile is harmless (a job's outcome in Redis, the Admin API reads of the confirmer).

    Why bother: every synchronous commit flushes the log and waits for the disk, and intake's own
    commits wait behind those flushes (a flash sale's webhooks were mostly seen waiting on the
    log, not running)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit = off"))

"""Unbound Flask extensions, bound to an app in `create_app` (FlaskBB's pattern)."""
import sqlite3
import time

from flask import current_app, has_app_context, has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from app.config import DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS

# Stable constraint names, so Alembic can alter and drop them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# create_savepoint: a test's outer transaction survives the app's own commit/rollback calls;
# against a plain Engine (production) it changes nothing.
db = SQLAlchemy(model_class=Base, session_options={"join_transaction_mode": "create_savepoint"})
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    """SQLite: enforce foreign keys (ON DELETE CASCADE / SET NULL), allow a reader beside the
    writer, and let SQLAlchemy own transactions so SAVEPOINTs work (pysqlite's own handling
    breaks them). How long a statement waits for a lock is the connection's timeout
    (SQLITE_BUSY_TIMEOUT_SECONDS, given to pysqlite by `create_app`)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection):
    """Start SQLite transactions explicitly (see _configure_sqlite).

    A request that may write (any method but GET/HEAD/OPTIONS) takes the write lock up front. A
    transaction that read first cannot upgrade once another writer committed after its read:
    SQLite answers "database is locked" at once, without the busy wait
    (https://www.sqlite.org/lang_transaction.html, "Read transactions"), so a login stamping
    last_login_at failed while webhooks were being stored. With the lock taken first it waits its
    turn, for SQLITE_BUSY_TIMEOUT_SECONDS at most (`take_write_lock`). Page reads keep deferred
    transactions, so pages are read beside a writer; so do jobs, which may hold a transaction
    across a call to Shopify and must not block requests meanwhile (a job whose write SQLite
    refuses is run again, app/queue/backends.py; a job about to write after a call to Shopify
    asks for the lock first, `begin_write`)."""
    if connection.dialect.name == "sqlite":
        if connection.get_execution_options().get(WRITE_LOCK_OPTION) or (
                has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")):
            take_write_lock(connection)
        else:
            connection.exec_driver_sql("BEGIN")


WRITE_LOCK_OPTION = "sqlite_write_lock"


def begin_write(session) -> None:
    """End the session's transaction and begin the next one ready to write.

    For a job that has read, then waited on Shopify, and now records what Shopify did: on SQLite
    its read transaction could not become a write once another connection had committed meanwhile
    (the write is refused at once), so the next transaction takes the write lock first and waits
    its turn. Call it only with nothing unsaved that should not be committed. On PostgreSQL it
    does nothing: a read-committed statement sees what others committed and waits for their row
    locks, so there is no refusal to avoid."""
    if session.get_bind().dialect.name == "sqlite":
        session.commit()
        session.connection(execution_options={WRITE_LOCK_OPTION: True})


def take_write_lock(connection) -> None:
    """BEGIN IMMEDIATE, waiting up to SQLITE_BUSY_TIMEOUT_SECONDS for the lock in all.

    SQLite's own busy wait covers most of it, but under a burst of writers a BEGIN IMMEDIATE was
    seen answering "database is locked" at once; it is tried again, with short pauses, until the
    bound. Past the bound the error is raised as any other (app/errors.py answers 503)."""
    bound = (current_app.config.get("SQLITE_BUSY_TIMEOUT_SECONDS", DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS)
             if has_app_context() else DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS)
    deadline = time.monotonic() + bound
    raw = connection.connection.dbapi_connection
    pause = 0.002
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if not is_database_busy(error) or time.monotonic() + pause > deadline:
                raise exc.OperationalError("BEGIN IMMEDIATE", (), error) from error
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def is_database_busy(error: BaseException) -> bool:
    """Whether an error is SQLite's "database is locked" (a writer held the lock past the wait)."""
    if isinstance(error, exc.DBAPIError):
        error = error.orig
    return isinstance(error, sqlite3.OperationalError) and "database is locked" in str(error)

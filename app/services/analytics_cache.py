"""The analytics page's figures kept per (account, range) until the account's returns or units
sold change: read afresh they are a few tens of milliseconds of GROUP BY over the daily aggregates
(app/services/analytics.py), which a repeated read of unchanged figures is spared.

Invalidation: every session write that touches a return, an item or the units sold (an ORM flush,
or an UPDATE/INSERT/DELETE statement run through the session) marks the account (or, when the
account is not at hand, every account) changed, and a commit bumps that account's version: in
Redis where it is configured, so a change a job makes in a worker process reaches every web
process, else in this process (the embedded configuration runs its jobs here). The figures are
kept in the process that computed them under (account, range, versions), and for at most
TTL_SECONDS besides: a write made outside the session (none is known) is seen within that time.
A Redis that does not answer means no cache, never an error.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from typing import Callable

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Return, ReturnItem, UnitsSoldDaily
from app.redis_client import connect

log = logging.getLogger(__name__)

TTL_SECONDS = 600  # unless ANALYTICS_CACHE_SECONDS says otherwise
MAX_ENTRIES = 256
EVERY_ACCOUNT = 0  # the version every account's figures also depend on
# The columns the figures read: a change to any other (a carrier's state, a label, a gift card
# code) leaves them as they are, so it keeps the cache.
_READ = {Return: {"account_id", "status", "created_at"},
         ReturnItem: {"return_id", "option", "quantity", "unit_value", "reason", "resolution", "issued_at",
                      "product_id", "variant_id", "title", "variant_title"},
         UnitsSoldDaily: {"units"}}
_READ_BY_TABLE = {model.__tablename__: columns for model, columns in _READ.items()}
_KEY = "analytics:version:{}"
_local_versions: Counter = Counter()
_figures: OrderedDict = OrderedDict()
_lock = threading.Lock()


def cached(account_id: int, start, end, compute: Callable):
    """`compute()`'s answer for this account and range, from the cache while nothing changed."""
    ttl = current_app.config.get("ANALYTICS_CACHE_SECONDS", TTL_SECONDS)
    versions = _versions(account_id) if ttl > 0 else None
    if versions is None:
        return compute()
    key = (account_id, start, end, versions)
    now = time.monotonic()
    with _lock:  # requests run on threads: the order of the entries is changed under the lock
        hit = _figures.get(key)
        if hit is not None and hit[0] > now:
            _figures.move_to_end(key)
            return hit[1]
    value = compute()  # outside the lock: a slow read never holds up another account's page
    with _lock:
        _figures[key] = (now + ttl, value)
        while len(_figures) > MAX_ENTRIES:
            _figures.popitem(last=False)
    return value


def _redis():
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        return None
    client = app.extensions.get("analytics_redis")
    if client is None:
        client = app.extensions["analytics_redis"] = connect(app.config)
    return client


def _versions(account_id: int) -> tuple | None:
    client = _redis()
    if client is None:
        return (_local_versions[account_id], _local_versions[EVERY_ACCOUNT])
    try:
        return tuple(client.mget(_KEY.format(account_id), _KEY.format(EVERY_ACCOUNT)))
    except RedisError as error:
        log.warning("analytics cache skipped, Redis did not answer: %s", error)
        return None


def _bump(account_ids: set[int]) -> None:
    client = _redis()
    if client is None:
        for account_id in account_ids:
            _local_versions[account_id] += 1
        return
    try:
        with client.pipeline(transaction=False) as pipe:
            for account_id in account_ids:
                pipe.incr(_KEY.format(account_id))
            pipe.execute()
    except RedisError as error:  # the TTL still bounds how long the figures stay stale
        log.warning("analytics cache not told of a change, Redis did not answer: %s", error)


def _account_of(obj) -> int:
    """The account a changed row belongs to, when known without a query (else EVERY_ACCOUNT)."""
    if isinstance(obj, (Return, UnitsSoldDaily)):
        return obj.account_id or EVERY_ACCOUNT
    parent = inspect(obj).attrs.return_.loaded_value
    return getattr(parent, "account_id", None) or EVERY_ACCOUNT


def _read_changed(obj) -> bool:
    """Whether a dirty row changed a column the figures read (the history still holds the
    flushed changes in after_flush)."""
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in _READ[type(obj)])


def _after_flush(session, _context) -> None:
    changed = session.info.setdefault("analytics_changed", set())
    for obj in (*session.new, *session.deleted, *(o for o in session.dirty if type(o) in _READ and _read_changed(o))):
        if type(obj) in _READ:
            changed.add(_account_of(obj))


def _on_execute(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    # The units sold name their account themselves (units_sold.add_difference, count_new_orders).
    if name not in _READ_BY_TABLE or name == UnitsSoldDaily.__tablename__:
        return
    values = getattr(state.statement, "_values", None) or {}
    setting = {getattr(column, "key", column) for column in values}
    # An UPDATE that sets only columns the figures do not read (a carrier's state) changes nothing
    # here; one whose values come with its parameters may set anything.
    if state.is_update and setting and not setting & _READ_BY_TABLE[name]:
        return
    state.session.info.setdefault("analytics_changed", set()).add(EVERY_ACCOUNT)


def _after_commit(session) -> None:
    changed = session.info.pop("analytics_changed", None)
    if changed:
        try:
            _bump(changed)
        except RuntimeError:  # no app context (a script's own session): nothing is cached there
            pass


def changed(account_id: int) -> None:
    """Mark the account's figures changed once the session's transaction commits."""
    db.session.info.setdefault("analytics_changed", set()).add(account_id)


def _after_rollback(session) -> None:
    session.info.pop("analytics_changed", None)


def init_app(app) -> None:
    """Listen to every session's writes (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)

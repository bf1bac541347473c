"""The portal's idea of who the shopper is: nobody, only "whoever found this order".

A successful lookup opens a portal session scoped to that one order of that one shop (kept in
Flask's signed session cookie, expiring after PORTAL_SESSION_MINUTES). The status page is reached
instead through a signed link (itsdangerous, own salt) in the confirmation email, which names one
return of one shop and needs no session at all; the returns of the looked-up order are linked
with the same tokens (the lookup proved the order is the shopper's). A link carries the day it was
made and lasts PORTAL_STATUS_LINK_DAYS after that or after the return's last step, whichever is
later; a lookup makes a fresh one. The session also keeps the
shopper's unfinished choices for that order (a draft), so the items page comes back as it was left.
"""
import json
import re
import secrets
import time
from datetime import datetime, timedelta, timezone

from flask import current_app, session
from itsdangerous import BadSignature
from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import Account, Order, Return
from app.services import status_links
from app.services.status_links import STATUS_SALT, status_token  # noqa: F401 - the portal's names for them

SESSION_KEY = "portal"
DRAFT_KEY = "portal_draft"
# The session is a cookie (browsers drop one over ~4 KB, and the whole session with it): a draft
# larger than this keeps its choices but not its notes, and one larger still is not kept.
DRAFT_MAX_CHARS = 2400
_SPACES = re.compile(r"\s+")


def normalise_order_number(raw: str | None) -> tuple[str, ...]:
    """The two order names a typed number may mean: "1001", "#1001" and "# 1001" all mean "#1001"
    (Shopify's default), and a shop whose names have no "#" ("EU1001") is matched too."""
    bare = _SPACES.sub("", raw or "").lstrip("#")
    return (f"#{bare}", bare) if bare else ()


def normalise_email(raw: str | None) -> str:
    """Emails are stored lowercased; people type them with capitals and stray spaces."""
    return _SPACES.sub("", raw or "").lower()


# Built once: the lookup is the portal's hottest query, and building a statement per request costs
# more than running it (bench/portal_lookup.py compares it with raw SQL).
_orders = Order.__table__
_LOOKUP = (select(_orders.c.id)
           .where(_orders.c.account_id == bindparam("account_id"),
                  _orders.c.name.in_([bindparam("hash_name"), bindparam("bare_name")]),
                  _orders.c.email == bindparam("email"))
           .order_by(_orders.c.created_at.desc()).limit(1))


def find_order_id(account_id: int, order_number: str, email: str) -> int | None:
    """The lookup the portal runs: one probe of ix_orders_portal_lookup (account_id, name, email).

    Only the id is read (the session keeps nothing else); newest first should a shop reuse a name."""
    names, address = normalise_order_number(order_number), normalise_email(email)
    if not names or not address:
        return None
    return db.session.connection().execute(_LOOKUP, {
        "account_id": account_id, "hash_name": names[0], "bare_name": names[1], "email": address}).scalar()


def open_session(account: Account, order_id: int) -> None:
    """Scope the browser to this one order (any earlier portal session, and its choices, is replaced)."""
    session[SESSION_KEY] = {"a": account.id, "o": order_id, "t": int(time.time())}
    session.pop(DRAFT_KEY, None)


def photo_key() -> str | None:
    """A random key naming this portal session's uploaded photos (made on first use): photos
    are shown, removed and attached only for the browser holding it."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    if not isinstance(data.get("k"), str):
        data["k"] = secrets.token_urlsafe(24)
        session[SESSION_KEY] = data
        session.modified = True
    return data["k"]


def close_session() -> None:
    """Forget the order this browser looked up, and its unfinished choices."""
    session.pop(SESSION_KEY, None)
    session.pop(DRAFT_KEY, None)


def save_draft(order: Order, state: dict[int, dict[str, str]]) -> None:
    """Keep the shopper's unfinished choices for this order (the lines it has, values as posted),
    so the items page comes back as they left it: after the review, browser Back, a reload."""
    line_ids = {line.id for line in order.lines}
    kept = {str(line_id): {name: value for name, value in fields.items() if value}
            for line_id, fields in state.items() if line_id in line_ids}
    kept = {line_id: fields for line_id, fields in kept.items() if fields}
    if _size(kept) > DRAFT_MAX_CHARS:
        kept = {line_id: {name: value for name, value in fields.items() if name != "note"}
                for line_id, fields in kept.items()}
    if _size(kept) > DRAFT_MAX_CHARS:
        session.pop(DRAFT_KEY, None)
        return
    session[DRAFT_KEY] = {"o": order.id, "s": kept}


def _size(draft: dict) -> int:
    return len(json.dumps(draft, separators=(",", ":")))


def draft(order: Order) -> dict[int, dict[str, str]]:
    """The choices kept by `save_draft` for this order (empty when there are none)."""
    data = session.get(DRAFT_KEY)
    if not isinstance(data, dict) or data.get("o") != order.id or not isinstance(data.get("s"), dict):
        return {}
    return {int(line_id): {str(k): str(v) for k, v in fields.items()}
            for line_id, fields in data["s"].items()
            if line_id.isascii() and line_id.isdigit() and isinstance(fields, dict)}


def drop_draft() -> None:
    """The choices became a return: nothing is left to come back to."""
    session.pop(DRAFT_KEY, None)


def session_order(account: Account) -> Order | None:
    """The order this browser looked up in this shop, or None (no lookup, other shop, expired,
    or the order was purged since)."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or data.get("a") != account.id:
        return None
    minutes = current_app.config["PORTAL_SESSION_MINUTES"]
    if not isinstance(data.get("t"), int) or time.time() - data["t"] > minutes * 60:
        return None
    return db.session.scalar(select(Order).where(Order.id == data.get("o"), Order.account_id == account.id))


class ExpiredLink(Exception):
    """A genuine status link past its lifetime: the shopper finds the order again for a fresh one."""


# The tokens are made in app/services/status_links.py (emails carry them, written outside requests).
_serializer, _EPOCH = status_links.serializer, status_links.EPOCH


def _read_token(token: str) -> tuple[int, int, datetime | None] | None:
    """(account id, return id, when the link was made) of a well-signed token; links made before
    links carried their day have none (they count from the return's creation)."""
    try:
        data = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):  # TypeError, ValueError: not a token (lone surrogates…)
        return None
    if not isinstance(data, list) or len(data) not in (2, 3) or not all(isinstance(n, int) for n in data):
        return None
    made = _EPOCH + timedelta(days=data[2]) if len(data) == 3 else None
    return data[0], data[1], made


def link_expires_at(ret: Return, made: datetime | None) -> datetime:
    """When a status link made at `made` stops working: PORTAL_STATUS_LINK_DAYS after it was made
    or after the return's last step (started, sent, received, processed, closed, cancelled),
    whichever is later, so a link keeps working while its return moves."""
    days = current_app.config["PORTAL_STATUS_LINK_DAYS"]
    steps = (made, ret.created_at, ret.in_transit_at, ret.received_at, ret.processed_at, ret.closed_at,
             ret.cancelled_at)
    return max(step for step in steps if step is not None) + timedelta(days=days)


def return_from_token(account: Account, token: str, now: datetime | None = None) -> Return | None:
    """The return a status-link token names, if the signature holds and it is this shop's;
    ExpiredLink when the link is past its lifetime."""
    read = _read_token(token)
    if read is None:
        return None
    account_id, return_id, made = read
    if account_id != account.id:
        return None
    ret = db.session.scalar(select(Return).where(Return.id == return_id, Return.account_id == account.id))
    if ret is not None and (now or datetime.now(timezone.utc)) > link_expires_at(ret, made):
        raise ExpiredLink()
    return ret

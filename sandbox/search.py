"""Orders listing: Shopify's search syntax, 60-day visibility, search lag, cursors.

Supported ``query:`` terms (Shopify order search syntax): ``created_at``,
``processed_at``, ``updated_at`` (with ``:``, ``:>``, ``:>=``, ``:<``, ``:<=``;
ISO dates or datetimes, quoted or not), ``name``, ``email``, ``tag``,
``financial_status``, ``fulfillment_status``, ``status`` (open/cancelled/any),
``id`` (with comparators), bare words (match name or email), ``-term`` /
``NOT term`` negation, implicit ``AND`` and top-level ``OR``.
"""
from __future__ import annotations

import base64
import bisect
import json
import re
import shlex

from . import calc

SIXTY_DAYS = 60 * 86400
TERM = re.compile(r"^(-)?([a-z_]+):(>=|<=|>|<|=)?(.*)$", re.S)


class SearchError(ValueError):
    """A term whose value cannot be parsed (bad date)."""


def _tokens(query: str) -> list[str]:
    try:
        lexer = shlex.shlex(query, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:
        return query.split()


def parse_query(query: str | None):
    """Parse a search string into OR-groups of (negate, field, op, value) terms."""
    if not query or not query.strip():
        return []
    groups, current, negate_next = [], [], False
    for tok in _tokens(query):
        if tok == "OR":
            groups.append(current)
            current = []
            continue
        if tok == "AND":
            continue
        if tok == "NOT":
            negate_next = True
            continue
        m = TERM.match(tok)
        if m:
            neg, field, op, value = m.groups()
            term = (bool(neg) ^ negate_next, field, op or ":", value.strip("'\""))
        else:
            neg = tok.startswith("-")
            term = (neg ^ negate_next, "_text", ":", tok.lstrip("-"))
        negate_next = False
        if term[1] in ("created_at", "processed_at", "updated_at"):
            try:
                term = term[:3] + (calc.parse_time(term[3]),)
            except ValueError as exc:
                raise SearchError(f"Invalid date in '{tok}'") from exc
        current.append(term)
    groups.append(current)
    return [g for g in groups if g]


def compare(a, op, b) -> bool:
    """``a op b`` for a search comparator (``:`` and ``=`` are equality)."""
    return {":": a == b, "=": a == b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]


def _match_term(order, term, updated_at, tags) -> bool:
    neg, field, op, value = term
    if field in ("created_at", "processed_at"):
        ok = compare(order.created_at, op, value)
    elif field == "updated_at":
        ok = compare(updated_at, op, value)
    elif field == "id":
        try:
            ok = compare(order.id, op, int(str(value).rsplit("/", 1)[-1]))
        except ValueError:
            ok = False
    elif field == "name":
        ok = f"#{order.number}" == value or str(order.number) == value.lstrip("#")
    elif field == "email":
        ok = (order.email or "").lower() == value.lower()
    elif field == "tag":
        ok = value.lower() in (t.lower() for t in tags)
    elif field == "financial_status":
        ok = calc.financial_status(order).lower() == value.lower()
    elif field == "fulfillment_status":
        want = {"shipped": "fulfilled", "unshipped": "unfulfilled",
                "partial": "partially_fulfilled"}.get(value.lower(), value.lower())
        ok = calc.fulfillment_status(order).lower() == want
    elif field == "status":
        v = value.lower()
        ok = v == "any" or (v == "cancelled") == (order.cancelled_at is not None)
    elif field == "_text":
        v = value.lower()
        ok = v in (order.email or "").lower() or v.lstrip("#") == str(order.number)
    else:
        ok = True  # Shopify ignores unknown filters (with a warning)
    return ok != neg


def matches(order, groups, now: float) -> bool:
    """Does the order match the parsed query as the *search index* sees it now?"""
    updated, tags = order.updated_at, order.tags
    if order.search_at is not None and now < order.search_at:
        if order.search_prev_updated is None:
            return False  # not indexed yet
        # The index still holds the previous version: (updated_at, tags) snapshot.
        updated, tags = order.search_prev_updated
    return any(all(_match_term(order, t, updated, tags) for t in g) for g in groups)


def encode_cursor(key) -> str:
    """Opaque cursor for a sort key tuple."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str):
    """Inverse of encode_cursor; raises ValueError for garbage."""
    try:
        return tuple(json.loads(base64.urlsafe_b64decode(cursor.encode())))
    except Exception as exc:
        raise ValueError("Invalid cursor") from exc


SORTS = {"CREATED_AT": lambda o: (o.created_at, o.id), "PROCESSED_AT": lambda o: (o.created_at, o.id),
         "UPDATED_AT": lambda o: (o.updated_at, o.id), "ID": lambda o: (o.id, o.id),
         "ORDER_NUMBER": lambda o: (o.number, o.id)}


def list_orders(shop, now: float, all_orders: bool, first: int, after: str | None = None,
                query: str | None = None, sort_key: str = "PROCESSED_AT",
                reverse: bool = False):
    """One page of orders: returns (orders, cursors, has_next, has_previous)."""
    groups = parse_query(query)
    floor = None if all_orders else now - SIXTY_DAYS
    keyf = SORTS.get(sort_key or "PROCESSED_AT", SORTS["ID"])
    after_key = decode_cursor(after) if after else None

    def visible(o) -> bool:
        if floor is not None and o.created_at < floor:
            return False
        return not groups or matches(o, groups, now)

    chosen = []
    base = shop.order_list
    if keyf is SORTS["CREATED_AT"] or keyf is SORTS["PROCESSED_AT"]:
        # Fast path: order_list is kept sorted by (created_at, id).
        keys = None
        if reverse:
            hi = len(base)
            if after_key is not None:
                keys = [(o.created_at, o.id) for o in base]
                hi = bisect.bisect_left(keys, after_key)
            i = hi - 1
            while i >= 0 and len(chosen) <= first:
                if floor is not None and base[i].created_at < floor:
                    break
                if visible(base[i]):
                    chosen.append(base[i])
                i -= 1
        else:
            lo = 0
            if floor is not None:
                lo = bisect.bisect_left([o.created_at for o in base], floor)
            if after_key is not None:
                lo = max(lo, bisect.bisect_right([(o.created_at, o.id) for o in base],
                                                 tuple(after_key)))
            i = lo
            while i < len(base) and len(chosen) <= first:
                if visible(base[i]):
                    chosen.append(base[i])
                i += 1
    else:
        items = sorted((o for o in base if visible(o)), key=keyf, reverse=reverse)
        if after_key is not None:
            ak = tuple(after_key)
            items = [o for o in items if (keyf(o) < ak if reverse else keyf(o) > ak)]
        chosen = items[:first + 1]
    has_next = len(chosen) > first
    chosen = chosen[:first]
    cursors = [encode_cursor(keyf(o)) for o in chosen]
    return chosen, cursors, has_next, after_key is not None

"""``@idempotent(key:)`` (API 2026-01): keys per shop, replayed results, refused reuse.

A repeated key returns the original result without acting again (shopify.dev changelog
"adding-idempotency-for-inventory-adjustments-and-refund-mutations"); the same key with other
arguments is refused (IDEMPOTENCY_KEY_PARAMETER_MISMATCH), and so is a repeat while the first
call is still in progress (IDEMPOTENCY_CONCURRENT_REQUEST) — docs/reference/shopify-returns.md
§3, §6.12. A call that ended in userErrors is not remembered, so it can be retried.
"""
from __future__ import annotations

import json
import threading

from graphql import GraphQLError
from graphql.execution.values import get_directive_values

from .issuing import state


def idempotency_key(info) -> str | None:
    """The ``@idempotent(key:)`` given on this mutation field, or None."""
    directive = info.schema.get_directive("idempotent")
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    return values["key"] if values else None


def _fingerprint(field: str, args: dict) -> str:
    return field + ":" + json.dumps(args, sort_keys=True, default=str)


class KeyConflict(GraphQLError):
    """A keyed call Shopify refuses: ``code`` is IDEMPOTENCY_KEY_PARAMETER_MISMATCH or
    IDEMPOTENCY_CONCURRENT_REQUEST (texts: the codes' schema descriptions, §6.12). Mutations
    whose userErrors carry codes report it there; refundCreate's UserError has no code, so it
    stays a top-level error there (unverified)."""

    def __init__(self, code: str, message: str):
        super().__init__(message, extensions={"code": code})
        self.code = code


def replay(info, field: str, args: dict):
    """The remembered result for this call's key (None when new); raises KeyConflict for a key
    reused with other arguments, or repeated while the first call is still in progress."""
    key = idempotency_key(info)
    if key is None:
        return None
    entry = state(info.context["shop"])["keys"].get(key)
    if entry is None:
        return None
    if entry["fingerprint"] != _fingerprint(field, args):
        raise KeyConflict("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "The same idempotency key cannot "
                          "be used with different operation parameters.")
    if info.context["now"] < (entry.get("in_progress_until") or 0):
        raise KeyConflict("IDEMPOTENCY_CONCURRENT_REQUEST",
                          "This request is currently in progress, please try again.")
    return entry["result"]


def remember(info, field: str, args: dict, result) -> None:
    """Record a successful keyed call's result (plain data) under its key.

    Fault ``keyed_in_progress_seconds``: the call stays "in progress" that long (a repeat gets
    IDEMPOTENCY_CONCURRENT_REQUEST) and its answer is lost on the way back (HTML 502), as when
    Shopify is still finishing the first request while the client retries."""
    key = idempotency_key(info)
    if key is not None:
        shop, now = info.context["shop"], info.context["now"]
        busy = float(shop.faults.get("keyed_in_progress_seconds") or 0)
        state(shop)["keys"][key] = {
            "fingerprint": _fingerprint(field, args), "result": result, "at": now,
            "in_progress_until": now + busy if busy else None}
        if busy:
            _lost.answer = True


_lost = threading.local()


def take_lost_answer() -> bool:
    """Was this thread's last mutation answer marked lost (and clear the mark)?"""
    lost = getattr(_lost, "answer", False)
    _lost.answer = False
    return lost

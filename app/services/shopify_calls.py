"""Exactly once for Shopify writes that take no idempotency key (DESIGN §5).

The Returns API, gift cards and store credit take no ``@idempotent`` key in 2026-04
(docs/reference/shopify-returns.md §5), so a lost answer leaves it unknown whether Shopify acted.
Each such write is a ``ShopifyCall``, and goes through ``run_call``:

1. Claim: one INSERT of (Shopify return, phase, round) under a unique constraint, carrying the exact
   variables built for it. Two workers: one row; the other is told "in progress".
2. Send. Shopify's answer is recorded (DONE), or its refusal (REFUSED: userErrors mean nothing
   happened, so the next round may try something else).
3. A call still CLAIMED after its lease (a worker died, an answer was lost) is taken over by one
   conditional UPDATE, and its effect is *read* first (``find``). Only when the read shows nothing
   are the stored variables sent again, verbatim.
The lease is longer than any Shopify call and than Shopify's search lag.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.domain.issuing import CallState
from app.extensions import db
from app.models import ShopifyCall
from app.shopify import errors as E

IN_PROGRESS = "in progress"
# Calls this worker claimed, by id → their claimed_at: if recording Shopify's answer fails (SQLite
# refusing a write from a moved snapshot), the same worker reads the effect back at once instead of
# leaving the call to wait out its lease.
_mine = threading.local()


def _own() -> dict:
    if not hasattr(_mine, "calls"):
        _mine.calls = {}
    return _mine.calls


class Refused(Exception):
    """A check before the call, or Shopify itself, refused it; the message is for staff. ``items``
    names the return items the refusal is about, when it is about some of them only."""

    def __init__(self, message: str, items: tuple[int, ...] = ()):
        super().__init__(message)
        self.items = items


@dataclass
class Outcome:
    """How a call ended: DONE with Shopify's answer, REFUSED with the reason, or in progress."""

    state: str
    result: Any = None
    error: str | None = None
    call: ShopifyCall | None = None

    @property
    def done(self) -> bool:
        """Shopify applied the call."""
        return self.state == CallState.DONE.value


def lease() -> timedelta:
    """How long a claimed call belongs to the worker that claimed it."""
    return timedelta(seconds=current_app.config["ISSUE_LEASE_SECONDS"])


def current_call(ref_id: int, phase: str) -> ShopifyCall | None:
    """The newest call of this phase for a Shopify return."""
    return db.session.scalar(select(ShopifyCall).where(
        ShopifyCall.shopify_return_ref_id == ref_id, ShopifyCall.phase == phase)
        .order_by(ShopifyCall.round.desc()).limit(1))


def claim(ref_id: int, phase: str, round_: int, variables: dict, expect: dict | None = None,
          also: Callable[[ShopifyCall], bool] | None = None) -> ShopifyCall | None:
    """Insert the call (the claim) and commit; None when another worker holds it already.
    ``also`` runs in the same transaction (e.g. moving items to ISSUING) and may veto the claim by
    returning False, rolling everything back."""
    call = ShopifyCall(shopify_return_ref_id=ref_id, phase=phase, round=round_, variables=variables,
                       expect=expect, state=CallState.CLAIMED.value,
                       claimed_at=datetime.now(timezone.utc), attempts=1)
    db.session.add(call)
    try:
        db.session.flush()
        if also is not None and not also(call):
            db.session.rollback()
            return None
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    _own()[call.id] = call.claimed_at
    return call


def take_over(call: ShopifyCall) -> bool:
    """Take a CLAIMED call whose lease ran out, or that this worker claimed itself and has not been
    taken since (one conditional UPDATE: one worker wins)."""
    now = datetime.now(timezone.utc)
    mine = _own().get(call.id)
    free = ShopifyCall.claimed_at <= now - lease()
    if mine is not None:
        free = free | (ShopifyCall.claimed_at == mine)
    taken = db.session.execute(
        update(ShopifyCall).where(ShopifyCall.id == call.id, ShopifyCall.state == CallState.CLAIMED.value, free)
        .values(claimed_at=now, attempts=ShopifyCall.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if taken:
        db.session.refresh(call)
        _own()[call.id] = call.claimed_at
    return bool(taken)


def finish(call: ShopifyCall, state: CallState, error: str | None = None) -> None:
    """Record how the call ended (the caller commits, with whatever the answer changed)."""
    call.state, call.error = state.value, (error or None) and error[:2000]
    call.finished_at = datetime.now(timezone.utc)


def run_call(call: ShopifyCall, *, send: Callable[[dict], Any], find: Callable[[ShopifyCall], Any],
             reconcile: bool) -> Outcome:
    """Send a claimed call, or — when ``reconcile`` (it was taken over) — first look for its
    effect with ``find`` and send the stored variables again only if there is none.

    Returns DONE with the answer (or what ``find`` found), or REFUSED with Shopify's reason. The
    caller records the answer and commits. Transport failures, throttling and lost answers raise:
    the call stays CLAIMED and is reconciled after its lease."""
    if reconcile:
        found = find(call)
        if found is not None:
            return Outcome(CallState.DONE.value, found, call=call)
    try:
        answer = send(call.variables)
    except (E.UserErrorsError, E.MissingScopeError) as refused:
        # Refused before anything happened: userErrors, or ACCESS_DENIED for a scope the store
        # has not granted (the mutation never ran).
        return Outcome(CallState.REFUSED.value, refused, error=user_error_text(refused), call=call)
    return Outcome(CallState.DONE.value, answer, call=call)


def user_error_text(refused: E.ShopifyError) -> str:
    """Shopify's refusal in words for staff."""
    if isinstance(refused, E.MissingScopeError):
        scope = refused.scope or "a further"
        return (f"Boomerang needs the {scope} access scope to record returns in Shopify. Grant it on the Store "
                "page (reconnect the store), then retry the item.")
    return "Shopify refused: " + "; ".join(i.message for i in refused.items)


def due_for_takeover(call: ShopifyCall, now: datetime | None = None) -> bool:
    """Whether a CLAIMED call may be taken now: its lease ran out, or it is this worker's own
    (claimed here and not taken by anyone since)."""
    now = now or datetime.now(timezone.utc)
    if call.state != CallState.CLAIMED.value:
        return False
    return call.claimed_at <= now - lease() or _own().get(call.id) == call.claimed_at


def forget_own_calls() -> None:
    """Start a job afresh: calls claimed by an earlier job of this thread are no longer its own."""
    _own().clear()

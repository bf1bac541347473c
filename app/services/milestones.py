"""A return's milestones, told to whoever acts on them: the shopper's emails, the retailer's webhooks.

A service announces a milestone inside the transaction that reaches it (`announce`), before its
commit. Each listener writes what it owes (an outbox email, a webhook delivery row) into that same
transaction, so the row commits or rolls back with the change it reports: a crash can lose neither
one without the other. Sending is never done inside the transaction: a listener hands a callback to
`after_commit`, which runs once the transaction has committed (and is dropped if it rolls back);
such a callback only queues a job by name, it never touches the session.

Listeners register with `@listen` in their own service module; `app/__init__.py` imports those
modules so they are registered in every process (web, worker, commands).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db


class Milestone:
    """The milestones (also the topics of the retailer's webhooks)."""

    CREATED = "return.created"              # data: status (OPEN, or REQUESTED when reviewed first)
    STATUS_CHANGED = "return.status_changed"  # data: previous, status
    ITEM_ISSUED = "item.issued"             # data: item_ids (money, credit or an exchange issued)
    CLOSED = "return.closed"                # announced beside STATUS_CHANGED to CLOSED
    LABEL_READY = "label.ready"             # data: label_id (a prepaid label was bought)
    # data: item_ids, tracking_number, tracking_url, carrier (the exchange's items were fulfilled;
    # once per return: app.services.exchange_shipments)
    EXCHANGE_SHIPPED = "exchange.shipped"

    ALL = (CREATED, STATUS_CHANGED, ITEM_ISSUED, CLOSED, LABEL_READY, EXCHANGE_SHIPPED)


@dataclass(frozen=True)
class Announcement:
    """One milestone of one return, as listeners receive it."""

    name: str
    return_id: int
    account_id: int
    data: dict = field(default_factory=dict)


_LISTENERS: list[Callable] = []
_AFTER_COMMIT = "milestones.after_commit"


def listen(func: Callable) -> Callable:
    """Register `func(ret, announcement)`, called for every milestone inside its transaction."""
    if func not in _LISTENERS:
        _LISTENERS.append(func)
    return func


def announce(ret, name: str, **data) -> Announcement:
    """Tell every listener that `ret` reached milestone `name` (the caller commits afterwards).
    The return must have its id (flush first when it is new)."""
    if name not in Milestone.ALL:
        raise ValueError(f"unknown milestone {name!r}")
    announcement = Announcement(name, ret.id, ret.account_id, data)
    for listener in tuple(_LISTENERS):
        listener(ret, announcement)
    return announcement


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction of the app's session commits (never if it
    rolls back). The callback queues work; it must not use the session."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    # Only the whole transaction's rollback drops the work; a savepoint's leaves it standing.
    if previous_transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)

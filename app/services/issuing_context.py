"""What every step of issuing through a Shopify return works with, and the item changes they share.

A step (create, process, dispose, …; app/services/return_shape.py and return_money.py) gets a
``Ctx``: the account, the Boomerang return, the Shopify return record and a client. Items change
only through the helpers here, so every change leaves its line on the return's timeline.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select

from app.domain.issuing import IssuingMethod
from app.domain.vocabulary import ItemResolution, ReturnStatus
from app.extensions import db
from app.models import Account, Return, ReturnItem, ShopifyReturn
from app.shopify.client import ShopifyClient

DONE, IN_PROGRESS = "done", "in progress"
RECEIVED_OR_LATER = (ReturnStatus.RECEIVED, ReturnStatus.PROCESSED, ReturnStatus.CLOSED)


class ReleasingClient:
    """A Shopify client that ends the session's transaction before each call, so no database lock
    or snapshot is held while Shopify answers (SQLite has one writer at a time: a webhook or a
    staff click must not wait on a job's network call; PostgreSQL keeps no snapshot open)."""

    def __init__(self, client: ShopifyClient):
        self._client = client

    def run(self, name: str, variables: dict | None = None, **options) -> dict:
        """``ShopifyClient.run``, after committing what the step wrote so far."""
        db.session.commit()
        return self._client.run(name, variables, **options)

    def __getattr__(self, name):
        return getattr(self._client, name)


@dataclass
class Ctx:
    """One Shopify return being worked on."""

    account: Account
    ret: Return
    ref: ShopifyReturn
    client: ShopifyClient

    @property
    def received(self) -> bool:
        """Whether the parcel is back (the units can be disposed of now)."""
        return self.ret.status in RECEIVED_OR_LATER

    def items(self, *resolutions: str) -> list[ReturnItem]:
        """The items in this Shopify return (with one of ``resolutions``, when given)."""
        query = select(ReturnItem).where(ReturnItem.shopify_return_ref_id == self.ref.id,
                                         ReturnItem.issuing_method == IssuingMethod.RETURNS.value)
        if resolutions:
            query = query.where(ReturnItem.resolution.in_(resolutions))
        return list(db.session.scalars(query.order_by(ReturnItem.id)))


def lines_of(item: ReturnItem) -> list[dict]:
    """The item's units in Shopify: one dict per fulfillment line item (see the model)."""
    return list(item.shopify_lines or [])


def in_shopify_return(item: ReturnItem) -> bool:
    """Whether every unit of the item sits in a return line of its current Shopify return."""
    lines = lines_of(item)
    return bool(lines) and all(ln.get("rli") and ln.get("ref") == item.shopify_return_ref_id
                               for ln in lines)


def fail_item(item: ReturnItem, reason: str, *, detach: bool = False) -> None:
    """The item goes to staff with the reason (the caller commits). ``detach``: it leaves its
    Shopify return (its units were never placed in it)."""
    item.resolution, item.failure_reason = ItemResolution.FAILED.value, reason[:2000]
    if detach:
        item.shopify_return_ref_id = None
        item.shopify_lines = None
        item.exchange_line_ids = None
    item.return_.add_event("issue_failed", f"{item.title}: could not be issued. {reason}", "system",
                           data={"item_id": item.id})


def note(ret: Return, kind: str, message: str, **data) -> None:
    """A line on the return's timeline from the system (the caller commits)."""
    ret.add_event(kind, message, "system", data=data or None)


def now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(timezone.utc)

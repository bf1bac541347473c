"""One order the database refuses never holds back its batch: what counts as such a refusal,
and the counts of a batch that left some orders out (``order_batches.upsert_orders``)."""
from __future__ import annotations

import logging
from collections import Counter

import psycopg
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from app.domain.order_data import OrderData
from app.text import clean_text

log = logging.getLogger(__name__)

SKIPPED = "skipped"
# What the database may refuse of one order (a value past a column's range, a constraint): that
# order is left out, not its batch. Lost connections and the like still fail the batch.
# (SQLAlchemy reports a value its column type refuses as a StatementError.)
REFUSED = (IntegrityError, DataError, psycopg.IntegrityError, psycopg.DataError, ValueError, TypeError,
           StatementError)


def lost(error: BaseException) -> bool:
    """The database went away or broke (not a refusal of this batch's values)."""
    return isinstance(error, DBAPIError) and not isinstance(error, (IntegrityError, DataError))


class BatchCounts(Counter):
    """A batch's counts by outcome, and the orders left out: (name, error) each."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skipped: list[tuple[str, str]] = []

    def skip(self, data: OrderData, error: BaseException) -> None:
        """Count an order the database refused, and say which and why (logged too)."""
        log.error("order %s (%s) could not be stored and was skipped: %s", data.shopify_order_id, data.name, error)
        self[SKIPPED] += 1
        self.skipped.append((clean_text(data.name)[:64], clean_text(f"{type(error).__name__}: {error}")[:300]))

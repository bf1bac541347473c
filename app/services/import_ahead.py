"""The bulk import's read-ahead: a thread parses and maps the next batch of order nodes into
COPY text while the importing thread has PostgreSQL store the current one.

The machine's second core is where PostgreSQL's backend does its COPY work; without this, Python
(parsing, mapping) and the backend (parsing the rows, writing heap, indexes and WAL) take turns.
The reader thread touches no database: the importing thread draws each batch's order ids from
the sequence ahead of it and hands them over, so that the reader writes the complete rows and
the importing thread only sends them (psycopg releases the GIL while it waits on the server).
"""
from __future__ import annotations

import marshal
import queue
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Iterable, Iterator

from app.services.order_copy import NumberedRows, draw_order_ids, node_rows
from app.shopify.bulk import reread_bulk_object

_pack, _unpack = marshal.dumps, marshal.loads
_END = object()

class PreparedBatch(Sequence):
    """A batch of order nodes, read as a sequence of nodes, mapped as they are added (``add``)
    into COPY rows (``order_copy.node_rows``; ``unreadable`` counts the nodes that could not
    be read), then sealed with its order ids into ``copy_data`` (the orders' and the lines' COPY
    text, and how many orders) for ``order_batches.upsert_graphql_orders``. The nodes are kept
    compact — the JSONL lines they were read from, else marshalled — for the full way, should
    the batch meet a stored order. With ``lean`` false (SQLite) the nodes are kept as they are
    and nothing is mapped: the full way maps."""

    def __init__(self, account_id: int, lean: bool = True):
        self.account_id, self.lean = account_id, lean
        self.unreadable = 0
        self.copy_data: tuple[str, str, int] | None = None
        self.ids: list[int] = []
        self._rows: list = []
        self._items: list = []

    def add(self, node: dict) -> None:
        """Take one node (mapping it now when lean)."""
        if not self.lean:
            self._items.append(node)
            return
        lines = getattr(node, "lines", None)  # first: nothing relies on the mappers not altering it
        self._items.append(_pack(node) if lines is None else lines)
        rows = node_rows(node)
        if rows is None:
            self.unreadable += 1
        else:
            self._rows.append(rows)

    def seal(self, ids: list[int]) -> None:
        """Write the COPY text, the orders numbered with ``ids`` (at least one per node)."""
        rows = NumberedRows(self.account_id, ids, self._rows)
        orders = "".join(rows)  # one id per node, and unreadable nodes have no rows: ids left over
        self.copy_data = (orders, "".join(rows.lines), rows.count)
        self.ids = ids[:rows.count]  # the ids given to the orders written (for the units sold)
        self._rows = []

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        item = self._items[index]
        if not self.lean:
            return item
        return _unpack(item) if type(item) is bytes else reread_bulk_object(item)


@contextmanager
def batches_ahead(nodes: Iterable[dict], size: int, account_id: int, *, skip: int = 0,
                  lean: bool = True):
    """Batches of ``size`` nodes (after the first ``skip``) as ``PreparedBatch``es, read, mapped
    and (when ``lean``: PostgreSQL) sealed by a thread one batch ahead of the caller, who writes
    them.

    The first node is read before the thread starts, so the whole bulk file is downloaded and
    checked (``iter_bulk_objects``'s first pass) in the caller's thread. The ids are drawn in the
    caller's thread, the next batch's as it takes one (those drawn for a batch that never
    comes are left unused: a gap in the sequence, as a rolled-back COPY leaves). An error in the
    thread is raised to the caller at the batch it would have come with. At most two batches
    besides the caller's are in memory. Leaving the block stops the thread (and closes ``nodes``)."""
    iterator = iter(nodes)
    first = next(iterator, _END)
    handoff: queue.Queue = queue.Queue(maxsize=1)
    id_lists: queue.Queue = queue.Queue()
    stop = threading.Event()

    def finish(batch: PreparedBatch) -> None:
        if lean:
            batch.seal(id_lists.get())
        handoff.put(batch)

    def read() -> None:
        try:
            if first is _END:
                return
            batch, index = PreparedBatch(account_id, lean), 0
            for node in _chain(first, iterator):
                index += 1
                if index <= skip:
                    continue
                batch.add(node)
                del node  # mapped and packed: the dicts go now, not with the next node
                if len(batch) >= size:
                    finish(batch)
                    batch = PreparedBatch(account_id, lean)
                    if stop.is_set():
                        return
            if len(batch):
                finish(batch)
        except BaseException as error:  # noqa: BLE001 - handed to the caller, raised there
            handoff.put(error)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            handoff.put(_END)

    def batches():
        if lean:
            id_lists.put(draw_order_ids(size))  # the first batch's
        while (item := handoff.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            if lean:
                id_lists.put(draw_order_ids(size))  # the next one's, read while this is written
            yield item

    thread = threading.Thread(target=read, name="import-reader", daemon=True)
    thread.start()
    try:
        yield batches()
    finally:
        stop.set()
        for _ in range(2):
            id_lists.put([])  # a reader waiting for ids goes on (and stops)
        while thread.is_alive():  # unblock a put() so that the reader sees ``stop``
            try:
                handoff.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()


def _chain(first, rest: Iterator) -> Iterator:
    yield first
    yield from rest

"""Bulk export of orders: run → poll → stream the JSONL result → orders with their line items.

Facts (shopify.dev bulk-operations guide; reference §3): ``bulkOperationRunQuery(query:)`` starts
an export; poll ``bulkOperation(id:)`` until COMPLETED; the result is JSONL at
``url`` (valid 7 days). Each object of a nested connection is its own line carrying
``__parentId``. Children always come *after* their parent, but since 2026-01 output is no longer
grouped by default (``groupObjects`` false; changelog "bulk-operations-group-objects-default-changed-
to-false"), so an order's line items may come after later orders. To reassemble in constant memory
whatever the grouping, the stream is read through once first, every line parsed and copied to a
temporary file; then orders are read back one by one with their children — straight from that
file when each child directly follows its parent (the grouped layout), else through a temporary
SQLite spool. A side effect we want: a truncated or corrupt line is found before a single order is
handed to the caller.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Iterable, Iterator

import msgspec
from orjson import loads as _fast_loads

from app.shopify import errors as E
from app.shopify.bulk_lines import child_field, iter_spooled, parse_line
from app.shopify.client import ShopifyClient
from app.shopify.documents import load_document
from app.shopify.operations import orders_search_query, raise_for_user_errors

_FILTER_PLACEHOLDER = '"BOOMERANG_FILTER"'
# gid type of a child line → the connection field it belongs to on its parent.
ORDER_CHILD_FIELDS = {"LineItem": "lineItems"}
_RUNNING = {"CREATED", "RUNNING", "CANCELING"}


@dataclass(frozen=True)
class BulkOperation:
    """A bulk operation's state as Shopify reported it."""

    id: str
    status: str
    error_code: str | None = None
    object_count: int = 0
    url: str | None = None
    partial_data_url: str | None = None


def bulk_orders_query(search: str) -> str:
    """The bulk export document with the search filter put in as a GraphQL string literal."""
    # json.dumps yields a valid GraphQL string literal (same escapes for ", \\ and controls).
    return load_document("bulk_orders").replace(_FILTER_PLACEHOLDER, json.dumps(search))


def start_bulk_orders(client: ShopifyClient, *, created_at_min=None, created_at_max=None,
                      updated_at_min=None, updated_at_max=None) -> BulkOperation:
    """Start a bulk export of the orders in the date range; returns the operation (CREATED)."""
    search = orders_search_query(created_at_min=created_at_min, created_at_max=created_at_max,
                                 updated_at_min=updated_at_min, updated_at_max=updated_at_max)
    data = client.run("bulk_run_query", {"query": bulk_orders_query(search)})
    payload = data.get("bulkOperationRunQuery") or {}
    raise_for_user_errors("bulkOperationRunQuery", payload)
    op = payload.get("bulkOperation") or {}
    if not op.get("id"):
        raise E.BulkOperationError("bulkOperationRunQuery returned no operation")
    return BulkOperation(id=op["id"], status=op.get("status") or "CREATED")


def _operation(raw: dict) -> BulkOperation:
    return BulkOperation(
        id=raw["id"], status=raw.get("status") or "",
        error_code=raw.get("errorCode"), object_count=int(raw.get("objectCount") or 0),
        url=raw.get("url"), partial_data_url=raw.get("partialDataUrl"),
    )


def get_bulk_operation(client: ShopifyClient, operation_id: str) -> BulkOperation:
    """Fetch one bulk operation's current state by id."""
    node = client.run("bulk_operation", {"id": operation_id}).get("bulkOperation")
    if not node:
        raise E.BulkOperationError(f"bulk operation {operation_id} not found")
    return _operation(node)


def latest_bulk_query(client: ShopifyClient) -> BulkOperation | None:
    """The app's bulk query on this shop to pick up after a restart: its newest running one,
    else its newest of any status; None if it never ran one (see latest_bulk_query.graphql)."""
    data = client.run("latest_bulk_query")
    for alias in ("running", "latest"):
        nodes = (data.get(alias) or {}).get("nodes") or ()
        if nodes:
            return _operation(nodes[0])
    return None


def wait_for_bulk_operation(client: ShopifyClient, operation_id: str, *,
                            poll_interval: float = 2.0, max_interval: float = 30.0,
                            timeout: float = 6 * 3600.0, on_progress=None) -> BulkOperation:
    """Poll until the operation is COMPLETED; raise ``BulkOperationError`` if it ends otherwise.

    The interval grows by half each poll up to ``max_interval`` (a big export runs for minutes;
    polling costs points). ``on_progress(op)`` is called after each poll (for a progress bar).
    Sleeping uses the client's injected clock.
    """
    started = client.monotonic()
    interval = poll_interval
    while True:
        op = get_bulk_operation(client, operation_id)
        if on_progress is not None:
            on_progress(op)
        if op.status == "COMPLETED":
            return op
        if op.status not in _RUNNING:
            raise E.BulkOperationError(
                f"bulk operation {op.status.lower() or 'ended'}"
                + (f" ({op.error_code})" if op.error_code else ""),
                status=op.status, error_code=op.error_code, partial_data_url=op.partial_data_url)
        if client.monotonic() - started + interval > timeout:
            raise E.BulkOperationError(f"bulk operation still {op.status} after {timeout:.0f}s",
                                       status=op.status)
        client.sleep(interval)
        interval = min(max_interval, interval * 1.5)


def iter_bulk_objects(lines: Iterable[bytes | str], child_fields: dict[str, str] | None = None,
                      *, spool_dir: str | None = None) -> Iterator[dict]:
    """Top-level objects of a bulk JSONL stream, each with its children re-attached.

    A child (a line with ``__parentId``) is put on its parent under
    ``child_fields[<gid type of the child>]`` as ``{"nodes": [...]}`` in file order — the shape a
    normal query returns, so one mapper reads both. Raises ``BulkResultError`` (with the line
    number) for a line that is not a JSON object — e.g. the truncated last line of a broken
    download — and for a child whose parent is not in the file. Nothing is yielded before the
    whole stream has been read and checked.

    Speed: pass 1 parses every line (to check it) and copies it as it came to a plain temporary
    file; parsing again in pass 2 costs less than storing parsed objects (``marshal``/SQLite).
    When every child directly follows its parent (Shopify's grouped layout, the common one),
    pass 2 reassembles while reading that file; otherwise the lines go through the SQLite spool,
    which joins children to their parents wherever they are.
    """
    child_fields = child_fields or ORDER_CHILD_FIELDS
    fd, path = tempfile.mkstemp(prefix="bulk-", suffix=".jsonl", dir=spool_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            grouped = _check_and_copy(lines, out)
        with open(path, "rb") as raw:
            if grouped:
                yield from _reassemble_grouped(raw, child_fields)
            else:
                yield from iter_spooled(raw, child_fields, spool_dir)
    finally:
        os.unlink(path)


class _Head(msgspec.Struct, rename={"parent": "__parentId"}):
    """What pass 1 needs of a line: its ``id`` and ``__parentId``, nothing else built."""

    id: object = None
    parent: object = None


# Checks a whole line's JSON but builds only the two keys: a third of orjson's full parse.
_read_head = msgspec.json.Decoder(_Head).decode


def _check_and_copy(lines: Iterable[bytes | str], out) -> bool:
    """Pass 1: check every line, copy it to ``out`` (line numbers kept: blank lines too). Returns
    whether every child directly follows its parent (or a sibling that does).

    A line passes when it is a JSON object that pass 2 can parse: msgspec checks the syntax
    without building the values, but takes invalid UTF-8 inside strings, so a line that is not
    plain ASCII is also decoded; what msgspec refuses gets the full parse (the stdlib takes a
    few inputs the fast parsers refuse), which decides."""
    grouped = True
    gid = None  # the current parent's id
    write = out.write
    read_head = _read_head
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogatepass")
        write(raw)
        if not raw.endswith(b"\n"):  # one line per line in the copy: line numbers stay right
            write(b"\n")
        try:
            head = read_head(raw)
            if not raw.isascii():
                raw.decode("utf-8")
        except ValueError:  # msgspec's errors (not an object too), UnicodeDecodeError
            if not raw.strip():
                continue
            item = parse_line(raw, number)
            if type(item) is not dict:
                # The ValueError only sent the line down this path; the message says what is wrong.
                raise E.BulkResultError(f"line {number} is not a JSON object", line_number=number) from None
            parent, own = item.get("__parentId"), item.get("id")
        else:
            parent, own = head.parent, head.id
        if parent is None:
            gid = own
        elif grouped and (gid is None or parent != gid):
            grouped = False
    return grouped


class BulkObject(dict):
    """A top-level object as ``iter_bulk_objects`` yields it from the grouped layout: a plain
    dict, plus ``lines``, the JSONL lines it was put together from (``reread_bulk_object``
    makes it again from them: a compact copy to keep, where the dicts are five times larger)."""

    __slots__ = ("lines",)


def reread_bulk_object(lines: list[bytes], child_fields: dict[str, str] | None = None) -> dict:
    """The object ``BulkObject.lines`` was read from, made again (equal, not the same dicts)."""
    for obj in _reassemble_grouped(lines, child_fields or ORDER_CHILD_FIELDS):
        return dict(obj)
    raise ValueError("no object in these lines")


def _reassemble_grouped(raw, child_fields: dict) -> Iterator[dict]:
    """Pass 2 for the grouped layout: each parent with the children that follow it."""
    fields = tuple(child_fields.values())
    loads = _fast_loads
    obj = None
    known: dict[str, str] = {}
    for number, line in enumerate(raw, start=1):
        try:
            item = loads(line)
        except ValueError:
            if not line.strip():
                continue
            item = parse_line(line, number)
        parent = item.pop("__parentId", None)
        if parent is None:
            if obj is not None:
                yield obj
            obj = BulkObject(item)
            obj.lines = [line]
            for name in fields:
                obj.setdefault(name, {"nodes": []})
        else:
            obj.setdefault(child_field(item, child_fields, known), {"nodes": []})["nodes"].append(item)
            obj.lines.append(line)
    if obj is not None:
        yield obj


def iter_bulk_orders(client: ShopifyClient, operation: BulkOperation) -> Iterator[dict]:
    """The GraphQL order nodes of a COMPLETED bulk export, line items attached (map them with
    ``mapping.order_from_graphql``). An export with no orders has no ``url``: yields nothing."""
    if operation.status != "COMPLETED":
        raise E.BulkOperationError(f"bulk operation is {operation.status}, not COMPLETED",
                                   status=operation.status)
    if not operation.url:
        return iter(())
    return iter_bulk_objects(client.stream_lines(operation.url), ORDER_CHILD_FIELDS)


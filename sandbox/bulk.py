"""Bulk operations: ``bulkOperationRunQuery`` → a JSONL file, progressing on a thread.

As on Shopify (shopify.dev/api/usage/bulk-operations/queries): up to five bulk queries
running at once per app+shop from API 2026-01, one before; status CREATED → RUNNING →
COMPLETED; the result is JSONL where every node of a nested connection is its own line
carrying ``__parentId``.  ``bulkOperations`` lists an app's operations newest first,
filtered by ``status``/``operation_type``/``created_at``/``id``; ``bulkOperation(id:)`` reads
one.  Progress is timed with the sandbox clock so a virtual clock makes it instant once the
client sleeps.
"""
from __future__ import annotations

import json
import threading

from graphql import (GraphQLError, GraphQLList, GraphQLNonNull, TypeInfo, TypeInfoVisitor, Visitor,
                     execute, get_named_type, parse, validate, visit)

from . import calc, search
from .clock import wait_until
from .models import BulkOp
from .views import connection, gid, parse_gid

_ACTIVE = ("CREATED", "RUNNING")


LIST_CONNECTION_ERROR = ("Queries that contain a connection field within a list field are not "
                         "currently supported.")


def connection_in_list(schema, doc) -> bool:
    """Whether a connection is selected inside a list field (e.g. Order.fulfillments >
    fulfillmentLineItems): bulk queries refuse it (the error Shopify answers, quoted in
    community.shopify.com/t/query-a-lot-of-data-at-once-without-bulk/207309)."""
    info = TypeInfo(schema)
    lists: list[bool] = []
    found = []

    class _Walk(Visitor):
        def enter_field(self, node, *_):
            field = info.get_field_def()
            kind = field.type.of_type if field and isinstance(field.type, GraphQLNonNull) else (
                field.type if field else None)
            named = get_named_type(kind) if kind is not None else None
            if named is not None and named.name.endswith("Connection") and any(lists):
                found.append(node.name.value)
            parent = info.get_parent_type()
            # A connection's own edges/nodes lists are how connections nest, not list fields.
            lists.append(isinstance(kind, GraphQLList) and not (parent and parent.name.endswith("Connection")))

        def leave_field(self, *_):
            lists.pop()

    visit(doc, TypeInfoVisitor(info, _Walk()))
    return bool(found)


def bulk_view(op) -> dict:
    """BulkOperation as a dict."""
    return {"__typename": "BulkOperation", "id": gid("BulkOperation", op.id),
            "status": op.status, "errorCode": op.error_code, "createdAt": calc.iso(op.created_at),
            "completedAt": calc.iso(op.completed_at), "objectCount": str(op.object_count or 0),
            "rootObjectCount": str(op.root_object_count or 0),
            "fileSize": str(op.file_size) if op.file_size is not None else None,
            "url": op.url, "partialDataUrl": None, "query": op.query, "type": op.type}


def _own(context: dict) -> list:
    """The calling app's operations on this shop (each app sees only its own)."""
    domain, client_id = context["shop"].domain, context["token"].client_id
    return [op for op in context["store"].state["bulk"].values()
            if op.shop == domain and op.client_id == client_id]


def concurrency_limit(api_version: str | None) -> int:
    """How many bulk queries an app may run at once per shop: five from API 2026-01, one
    before (shopify.dev/api/usage/bulk-operations/queries)."""
    return 5 if (api_version or "") >= "2026-01" else 1


def _matches(op, term) -> bool:
    """One parsed search term against an operation; unknown filters are ignored, as Shopify
    does (the documented ones: schema QueryRoot.bulkOperations ``query``)."""
    negate, field, cmp, value = term
    if field == "status":
        ok = op.status.lower() == str(value).lower()
    elif field == "operation_type":
        ok = op.type.lower() == str(value).lower()
    elif field == "created_at":
        ok = search.compare(op.created_at, cmp, value)
    elif field == "id":
        try:
            ok = search.compare(op.id, cmp, int(str(value).rsplit("/", 1)[-1]))
        except ValueError:
            ok = False
    else:
        ok = True
    return ok != negate


_SORTS = {
    "CREATED_AT": lambda op: (op.created_at, op.id),
    # Unfinished operations have no completed_at: they sort as the oldest here (where Shopify
    # puts them is not documented).
    "COMPLETED_AT": lambda op: (op.completed_at is not None, op.completed_at or 0, op.id),
}


def list_operations(context: dict, first=None, after=None, query=None, sortKey="CREATED_AT",
                    reverse=False) -> dict:
    """``bulkOperations``: the app's operations matching ``query``, newest first unless
    ``reverse`` (schema QueryRoot.bulkOperations: "Defaults to sorting by created_at, with
    newest operations first")."""
    try:
        groups = search.parse_query(query)
    except search.SearchError as exc:
        raise GraphQLError(str(exc), extensions={"code": "BAD_REQUEST"}) from exc
    found = [op for op in _own(context)
             if not groups or any(all(_matches(op, t) for t in g) for g in groups)]
    found.sort(key=_SORTS.get(sortKey, _SORTS["CREATED_AT"]), reverse=not reverse)
    return connection([bulk_view(op) for op in found], first, after)


def get_operation(context: dict, op_gid: str) -> dict | None:
    """``bulkOperation(id:)`` (and ``node``): one of the app's own operations, else null."""
    parsed = parse_gid(op_gid)
    if not parsed or parsed[0] != "BulkOperation":
        return None
    op = next((o for o in _own(context) if o.id == parsed[1]), None)
    return bulk_view(op) if op else None


def flatten(data: dict, lines: list, parent_id: str | None = None) -> int:
    """Turn nested connection data into JSONL rows; returns root object count."""
    roots = 0
    for _key, value in (data or {}).items():
        if isinstance(value, dict) and ("edges" in value or "nodes" in value):
            items = value.get("nodes") or [e["node"] for e in value.get("edges") or []]
            for item in items:
                _emit(item, lines, parent_id)
                roots += 1
    return roots


def _emit(item: dict, lines: list, parent_id: str | None) -> None:
    row, children = {}, []
    for k, v in item.items():
        if isinstance(v, dict) and ("edges" in v or "nodes" in v):
            children.append(v)
        else:
            row[k] = v
    if parent_id is not None:
        row["__parentId"] = parent_id
    lines.append(json.dumps(row, separators=(",", ":")))
    for conn in children:
        for child in conn.get("nodes") or [e["node"] for e in conn.get("edges") or []]:
            _emit(child, lines, item.get("id"))


class BulkRunner:
    """Starts, runs and cancels bulk operations for a store."""

    def __init__(self, store):
        self.store = store
        self.step = float(store.config.get("SANDBOX_BULK_STEP_SECONDS", 1.0))
        self.rows_per_second = float(store.config.get("SANDBOX_BULK_ROWS_PER_SECOND", 5000))
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def start(self, context: dict, query: str) -> dict:
        """Validate and enqueue a bulk query (the mutation resolver)."""
        from .resolvers import executable_schema
        store, shop, tok = context["store"], context["shop"], context["token"]
        try:
            doc = parse(query)
            errors = validate(executable_schema(), doc)
            if not errors and connection_in_list(executable_schema(), doc):
                errors = [GraphQLError(LIST_CONNECTION_ERROR)]
        except GraphQLError as exc:
            errors = [exc]
        if errors:
            return {"bulkOperation": None, "userErrors": [
                {"field": ["query"], "message": f"Invalid bulk query: {errors[0].message}",
                 "code": "INVALID"}]}
        with store.lock:
            # The limit counts bulk queries only; bulk mutations have their own
            # (shopify.dev/api/usage/bulk-operations/queries).
            running = [op for op in _own(context) if op.type == "QUERY" and op.status in _ACTIVE]
            if len(running) >= concurrency_limit(context.get("api_version")):
                # The code for the five-at-once limit is not documented; OPERATION_IN_PROGRESS
                # is the one for "already in progress" (schema: BulkOperationUserErrorCode).
                return {"bulkOperation": None, "userErrors": [
                    {"field": None, "code": "OPERATION_IN_PROGRESS",
                     "message": "A bulk query operation for this app and shop is already "
                                f"in progress: gid://shopify/BulkOperation/{running[0].id}."}]}
            op = BulkOp(id=store.next_seq(), shop=shop.domain, client_id=tok.client_id,
                        query=query, status="CREATED", type="QUERY", created_at=context["now"],
                        completed_at=None, object_count=0, root_object_count=0, result=None,
                        url=None, error_code=None, scopes=sorted(context["scopes"]),
                        file_size=None)
            store.state["bulk"][op.id] = op
        base = context.get("base_url") or ""
        t = threading.Thread(target=self._run, args=(op, base), daemon=True,
                             name=f"sandbox-bulk-{op.id}")
        t.start()
        self._threads.append(t)
        return {"bulkOperation": bulk_view(op), "userErrors": []}

    def cancel(self, context: dict, gid: str) -> dict:
        """bulkOperationCancel: running operations become CANCELED."""
        parsed = parse_gid(gid)
        op = context["store"].state["bulk"].get(parsed[1]) if parsed else None
        if op is None or op.client_id != context["token"].client_id:
            return {"bulkOperation": None, "userErrors": [
                {"field": ["id"], "message": "Bulk operation does not exist", "code": None}]}
        if op.status in _ACTIVE:
            op.status = "CANCELING"
        return {"bulkOperation": bulk_view(op), "userErrors": []}

    def _wait(self, when: float) -> bool:
        while not self._stop.is_set():
            if wait_until(self.store.clock, when):
                return True
        return False

    def _run(self, op, base_url: str) -> None:
        from .resolvers import ROOT, executable_schema, make_context
        store = self.store
        if not self._wait(op.created_at + self.step):
            return
        if op.status == "CANCELING":
            op.status = "CANCELED"
            return
        op.status = "RUNNING"
        shop = store.state["shops"].get(op.shop)
        tok = type("BulkToken", (), {"client_id": op.client_id, "scopes": op.scopes})()
        context = make_context(store, shop, tok, store.clock.now(), bulk=True,
                               bulk_first=10**9)
        result = execute(executable_schema(), parse(op.query), root_value=ROOT,
                         context_value=context)
        if result.errors:
            codes = {(e.extensions or {}).get("code") for e in result.errors}
            op.error_code = "ACCESS_DENIED" if "ACCESS_DENIED" in codes else "INTERNAL_SERVER_ERROR"
            op.status, op.completed_at = "FAILED", store.clock.now()
            self._finish(op, shop)
            return
        lines: list[str] = []
        op.root_object_count = flatten(result.data, lines)
        body = ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
        # Big results take longer, as on Shopify (virtual seconds under a VirtualClock).
        done_at = store.clock.now() + max(self.step, len(lines) / self.rows_per_second)
        if not self._wait(done_at):
            return
        if op.status == "CANCELING":
            op.status = "CANCELED"
            return
        op.result, op.object_count, op.file_size = body, len(lines), len(body)
        op.url = f"{base_url}/_sandbox/bulk/{op.id}.jsonl" if lines else None
        op.status, op.completed_at = "COMPLETED", store.clock.now()
        self._finish(op, shop)

    def _finish(self, op, shop) -> None:
        from .calc import iso_rest
        payload = {"admin_graphql_api_id": f"gid://shopify/BulkOperation/{op.id}",
                   "completed_at": iso_rest(op.completed_at),
                   "created_at": iso_rest(op.created_at),
                   "error_code": op.error_code.lower() if op.error_code else None,
                   "status": op.status.lower(), "type": op.type.lower()}
        self.store.webhooks.emit(shop, "bulk_operations/finish", payload,
                                 only_client=op.client_id)

    def stop(self) -> None:
        """Stop waiting threads."""
        self._stop.set()

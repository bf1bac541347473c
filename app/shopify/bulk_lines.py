"""Reading a bulk export's JSONL lines (app/shopify/bulk.py drives the two passes): one line
parsed, or ``BulkResultError`` naming it; the field of its parent a child goes under; and the
reassembly of an ungrouped export through a temporary SQLite spool, which joins children to
their parents wherever they are in the file."""
from __future__ import annotations

import json
import marshal
import os
import sqlite3
import tempfile
from typing import Iterable, Iterator

from orjson import loads as _fast_loads

from app.shopify import errors as E


def parse_line(raw: bytes | str, number: int):
    """One line parsed, or ``BulkResultError`` naming it."""
    try:
        return _fast_loads(raw)
    except ValueError:
        pass
    try:  # orjson is stricter than the stdlib on a few inputs (NaN, lone surrogates): accept those
        return json.loads(raw)
    except ValueError as exc:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        raise E.BulkResultError(
            f"line {number} of the bulk result is not valid JSON (truncated download?): "
            f"{text[:80]!r}", line_number=number) from exc


def child_field(item: dict, child_fields: dict, known: dict) -> str:
    """The field of its parent a child line goes under, by the type in its gid (``known`` caches it)."""
    gid = item.get("id")
    if type(gid) is str:
        # The field depends only on what comes before the last "/" (the gid's type): worked out
        # once per type (``known``, one per stream) rather than once per line.
        prefix = gid[:gid.rfind("/") + 1]
        field = known.get(prefix)
        if field is None:
            field = _field_of(gid, child_fields)
            if len(known) < 64:  # a handful of types in a real export; odd ids are not kept
                known[prefix] = field
        return field
    return _field_of(str(gid or ""), child_fields)


def _field_of(gid: str, child_fields: dict) -> str:
    kind = gid.replace("\\/", "/").split("/")[-2:-1]
    return child_fields.get(kind[0] if kind else "", "children")


def iter_spooled(lines: Iterable[bytes], child_fields: dict[str, str],
                  spool_dir: str | None) -> Iterator[dict]:
    """Reassembly whatever the layout: the lines spooled into a temporary SQLite file (one order
    with the children that directly follow it in memory at a time), then read back order by
    order, the children stored apart joined in one ordered query."""
    fd, path = tempfile.mkstemp(prefix="bulk-", suffix=".sqlite", dir=spool_dir)
    os.close(fd)
    # Created where the first object is asked for, read on by whichever thread goes on (the
    # import reads ahead in a thread), never by two at once.
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=OFF")  # a private scratch file: no rollback, no fsync
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE parent (seq INTEGER PRIMARY KEY, gid TEXT, body BLOB)")
        db.execute("CREATE TABLE child (seq INTEGER PRIMARY KEY, parent TEXT, field TEXT, body BLOB)")
        late = _spool(db, lines, child_fields)
        fields = tuple(child_fields.values())
        loads = marshal.loads
        if not late:
            for (body,) in db.execute("SELECT body FROM parent ORDER BY seq"):
                yield loads(body)
            return
        db.execute("CREATE INDEX child_parent ON child (parent, seq)")
        orphan = db.execute(
            "SELECT seq, parent FROM child WHERE parent NOT IN (SELECT gid FROM parent) LIMIT 1"
        ).fetchone()
        if orphan:
            raise E.BulkResultError(f"line {orphan[0]}: __parentId {orphan[1]} matches no object",
                                    line_number=orphan[0])
        current_seq, obj, before = None, None, {}
        rows = db.execute(
            "SELECT parent.seq, parent.body, child.seq, child.field, child.body FROM parent"
            " LEFT JOIN child ON child.parent = parent.gid ORDER BY parent.seq, child.seq")
        for seq, body, child_seq, field, child_body in rows:
            if seq != current_seq:
                if obj is not None:
                    yield obj
                current_seq, obj, before = seq, loads(body), {}
            if child_body is not None:
                # Children stored apart came after the ones attached while spooling, unless they
                # came before the parent itself (file order is kept either way).
                position = None
                if child_seq < seq:
                    position = before[field] = before.get(field, -1) + 1
                _attach(obj, field, loads(child_body), fields, position)
        if obj is not None:
            yield obj
    finally:
        db.close()
        os.unlink(path)


def _attach(parent: dict, field: str, child: dict, fields: tuple, position: int | None) -> None:
    for name in fields:
        parent.setdefault(name, {"nodes": []})
    nodes = parent.setdefault(field, {"nodes": []})["nodes"]
    if position is None:
        nodes.append(child)
    else:
        nodes.insert(position, child)


def _spool(db: sqlite3.Connection, lines: Iterable[bytes | str], child_fields: dict) -> int:
    """Pass 1: validate every line and store it; nothing but the current parent (with the
    children that directly follow it) is held in memory. Returns how many children did not
    directly follow their parent (stored apart)."""
    fields = tuple(child_fields.values())
    dumps = marshal.dumps
    batch_parents, batch_children = [], []
    late = 0
    known: dict[str, str] = {}
    gid = obj = seq = None  # the parent being read
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        item = parse_line(raw, number)  # checked in pass 1 already
        parent = item.pop("__parentId", None)
        if parent is None:
            if obj is not None:
                batch_parents.append((seq, gid, dumps(obj)))
            seq, gid, obj = number, item.get("id"), item
            for name in fields:
                obj.setdefault(name, {"nodes": []})
        else:
            field = child_field(item, child_fields, known)
            if obj is not None and parent == gid:
                obj.setdefault(field, {"nodes": []})["nodes"].append(item)
            else:
                batch_children.append((number, parent, field, dumps(item)))
                late += 1
        if len(batch_parents) + len(batch_children) >= 2000:
            _flush(db, batch_parents, batch_children)
    if obj is not None:
        batch_parents.append((seq, gid, dumps(obj)))
    _flush(db, batch_parents, batch_children)
    db.commit()
    return late


def _flush(db, parents: list, children: list) -> None:
    db.executemany("INSERT INTO parent VALUES (?, ?, ?)", parents)
    db.executemany("INSERT INTO child VALUES (?, ?, ?, ?)", children)
    parents.clear()
    children.clear()

"""Save and load the sandbox state to a pickle or JSON file.

Pickle is the fast default (100k orders in about a second); a ``.json`` path
gets a portable, human-readable dump of the same records.
"""
from __future__ import annotations

import json
import os
import pickle
import tempfile

from . import models, records

_CLASSES = {c.__name__: c for c in (models.Address, models.Customer, models.Variant,
                                      models.Product, models.Line, models.RefundRec,
                                      models.Order, models.App, models.Installation, models.Token,
                                      models.Subscription, models.Delivery, models.BulkOp,
                                      models.Shop, models.GiftCardRec,
                                      models.DraftOrderRec, *records.RECORD_CLASSES)}


def _encode(obj):
    if isinstance(obj, models.Slotted):
        return {"__t": type(obj).__name__,
                **{n: _encode(getattr(obj, n)) for n in obj.__slots__}}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _encode(v) for k, v in obj.items()}
        return {"__d": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tu": [_encode(v) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, bytes):
        return {"__b": obj.decode("latin-1")}
    return obj


def _decode(obj):
    if isinstance(obj, dict):
        if "__t" in obj:
            cls = _CLASSES[obj["__t"]]
            return cls(**{n: _decode(obj.get(n)) for n in cls.__slots__})
        if "__d" in obj:
            return {_decode(k): _decode(v) for k, v in obj["__d"]}
        if "__tu" in obj:
            return tuple(_decode(v) for v in obj["__tu"])
        if "__b" in obj:
            return obj["__b"].encode("latin-1")
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def save_state(state: dict, path: str) -> None:
    """Write ``state`` atomically (temp file + rename) so a crash never truncates it."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".sandbox-state-")
    with os.fdopen(fd, "wb") as fh:
        if path.endswith(".json"):
            fh.write(json.dumps(_encode(state)).encode("utf-8"))
        else:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_state(path: str) -> dict | None:
    """Read a state file written by ``save_state``; None when it does not exist."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        if path.endswith(".json"):
            return _decode(json.loads(fh.read().decode("utf-8")))
        return pickle.load(fh)

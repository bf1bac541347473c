"""The retailer's own system, as the demo shows it: an inbox for Boomerang's outbound webhooks.

- ``POST /_sandbox/retailer-hooks/inbox``: take one delivery (answered 200), kept in memory (the
  newest 200) with its headers.
- ``GET /_sandbox/retailer-hooks/inbox``: what arrived, newest first, as JSON.

It does not verify signatures (the demo's receiver trusts its own machine); see docs/webhooks.md
for what a real receiver does.
"""
from __future__ import annotations

import json
import threading
from collections import deque

from flask import Blueprint, jsonify, request

bp = Blueprint("sandbox_retailer_hooks", __name__, url_prefix="/_sandbox/retailer-hooks")

_INBOX: deque = deque(maxlen=200)
_LOCK = threading.Lock()
_KEPT_HEADERS = ("X-Boomerang-Topic", "X-Boomerang-Event-Id", "X-Boomerang-Timestamp", "X-Boomerang-Signature")


@bp.post("/inbox")
def take():
    """Keep one delivery."""
    raw = request.get_data(cache=False)[:65536]
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw.decode("utf-8", "replace")
    with _LOCK:
        _INBOX.appendleft({"headers": {h: request.headers.get(h) for h in _KEPT_HEADERS}, "body": body})
    return jsonify({"ok": True})


@bp.get("/inbox")
def show():
    """What arrived, newest first."""
    with _LOCK:
        return jsonify(list(_INBOX))

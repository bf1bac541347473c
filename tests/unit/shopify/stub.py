"""A tiny scripted HTTP server over real sockets, standing in for Shopify in client tests.

Responses are queued (``add``) or produced by a handler function; every request is recorded.
Runs on 127.0.0.1 in a daemon thread; nothing in it sleeps unless a test asks for ``delay``.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    @property
    def query(self) -> dict:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}


@dataclass
class Reply:
    status: int = 200
    body: object = None            # dict/list → JSON; str/bytes → sent as is
    headers: dict = field(default_factory=dict)
    delay: float = 0.0             # real seconds before answering (timeout tests only)


def graphql(data=None, *, errors=None, cost=None, status=200, headers=None) -> Reply:
    """A GraphQL-shaped reply; ``cost`` = (requested, available, maximum, restore)."""
    body = {}
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    if cost is not None:
        requested, available, maximum, restore = cost
        body["extensions"] = {"cost": {
            "requestedQueryCost": requested, "actualQueryCost": requested,
            "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available,
                               "restoreRate": restore}}}
    return Reply(status=status, body=body, headers=headers or {})


class StubServer:
    def __init__(self):
        self.replies: deque = deque()
        self.handler = None
        self.requests: list[Recorded] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                stub.requests.append(request)
                if stub.handler is not None:
                    reply = stub.handler(request)
                elif stub.replies:
                    reply = stub.replies.popleft()
                else:
                    reply = Reply(500, {"errors": "stub: no reply queued"})
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                content_type = reply.headers.get("Content-Type")
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload).encode()
                    content_type = content_type or "application/json"
                elif isinstance(payload, str):
                    payload = payload.encode()
                payload = payload or b""
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        if k != "Content-Type":
                            self.send_header(k, v)
                    self.send_header("Content-Type", content_type or "text/plain")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    def reset(self) -> None:
        self.replies.clear()
        self.handler = None
        self.requests.clear()

    def add(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeClock:
    """Shared virtual clock: ``sleep`` advances ``monotonic`` and records the wait."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now

"""A receiver for outbound webhooks: a tiny threaded HTTP server on 127.0.0.1 that records what it
gets and answers as a test tells it (a status, a redirect, a slow or endless answer), and the
receiver's side of a signature check, written from docs/webhooks.md rather than from the app."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def topic(self) -> str:
        return self.headers["X-Boomerang-Topic"]


@dataclass
class Behaviour:
    """How the receiver answers next: status, headers, body, pauses."""

    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0          # before answering at all
    drip_every: float = 0.0     # then the body a byte at a time, this far apart


class Receiver:
    """Start with `with Receiver() as receiver:`; `receiver.url` takes deliveries."""

    def __init__(self):
        self.received: list[Received] = []
        self.behaviour = Behaviour()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with owner._lock:
                    owner.received.append(Received(self.path, dict(self.headers.items()), body))
                    answer = owner.behaviour
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    if answer.drip_every:
                        for byte in answer.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(answer.drip_every)
                    else:
                        self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender stopped reading, as it should

            do_GET = do_POST  # a followed redirect would arrive as a GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, **behaviour) -> None:
        """Answer every request from now on like this."""
        with self._lock:
            self.behaviour = Behaviour(**behaviour)


def verify(secret: str, received: Received, now: float, window: int = 300) -> bool:
    """The receiver's check, as docs/webhooks.md writes it: the timestamp is within the replay
    window and one v1 signature is the HMAC-SHA256 of "<timestamp>.<body>" with the secret."""
    timestamp = received.headers.get("X-Boomerang-Timestamp", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > window:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256).hexdigest()
    for part in received.headers.get("X-Boomerang-Signature", "").split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class Clock:
    """A clock the app reads through OUTBOUND_WEBHOOKS_CLOCK; `advance` moves it."""

    def __init__(self, start: datetime | None = None):
        self.at = start or datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at

    def timestamp(self) -> float:
        return self.at.timestamp()


# Fixtures, imported by the conftest of each directory whose tests send deliveries.
import pytest  # noqa: E402


@pytest.fixture
def receiver():
    """A running receiver answering 200 until told otherwise."""
    with Receiver() as running:
        yield running


@pytest.fixture
def outbound_clock(app, monkeypatch):
    """The sender's clock, moved by the test."""
    clock = Clock()
    monkeypatch.setitem(app.config, "OUTBOUND_WEBHOOKS_CLOCK", clock)
    return clock

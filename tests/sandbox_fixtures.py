"""pytest plugin: the sandbox (fake Shopify) served over real HTTP.

Load with ``pytest_plugins = ["tests.sandbox_fixtures"]``.

- ``sandbox_server`` (session): the sandbox app on a background werkzeug server on
  127.0.0.1 and a free port, with a ``VirtualClock``.  Yields a ``SandboxServer``
  with ``.url``, ``.store``, ``.clock`` and ``.app``.
- ``sandbox`` (function): the same object after ``store.reset()`` and with fresh
  faults, so every test starts from an empty fake Shopify.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from sandbox import create_app
from sandbox.clock import VirtualClock
from sandbox.store import DEFAULT_API_VERSION

# Compressed webhook retry schedule for tests (real seconds).
TEST_RETRY_DELAYS = [0.05] * 8


@dataclass
class SandboxServer:
    """Handle on a running sandbox: base URL, in-process store, clock and app."""

    url: str
    store: object
    clock: VirtualClock
    app: object

    def api_origin(self, shop_domain: str) -> str:
        """Per-shop stand-in for ``https://{shop}``."""
        return f"{self.url}/store/{shop_domain}"

    def graphql_url(self, shop_domain: str, version: str = DEFAULT_API_VERSION) -> str:
        """The shop's Admin GraphQL endpoint."""
        return f"{self.api_origin(shop_domain)}/admin/api/{version}/graphql.json"


def start_sandbox(config: dict | None = None):
    """Start a sandbox server thread; returns (SandboxServer, stop function)."""
    clock = VirtualClock(start=1_767_225_600.0)  # 2026-01-01T00:00:00Z, fixed for determinism
    cfg = {"SANDBOX_CLOCK": clock, "SANDBOX_WEBHOOK_RETRY_DELAYS": TEST_RETRY_DELAYS,
           "SANDBOX_WEBHOOK_TIMEOUT": (1.0, 5.0), "SANDBOX_BULK_STEP_SECONDS": 1.0,
           **(config or {})}
    app = create_app(cfg)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="sandbox-server", daemon=True)
    thread.start()
    handle = SandboxServer(url=f"http://127.0.0.1:{server.server_port}",
                           store=app.extensions["sandbox"], clock=clock, app=app)

    def stop():
        server.shutdown()
        handle.store.close()
        thread.join(timeout=5)

    return handle, stop


@pytest.fixture(scope="session")
def sandbox_server():
    """The sandbox served over HTTP for the whole session."""
    handle, stop = start_sandbox()
    try:
        yield handle
    finally:
        stop()


@pytest.fixture
def sandbox(sandbox_server):
    """The session sandbox, emptied before the test (store reset, queues cleared)."""
    sandbox_server.store.webhooks.flush(2)
    sandbox_server.store.reset()
    sandbox_server.app.extensions.pop("sandbox_carrier", None)  # the fake carrier's memory
    sandbox_server.app.extensions.pop("sandbox_labels", None)  # the fake label providers' memory
    yield sandbox_server
    sandbox_server.store.webhooks.clear()

"""Fixtures for the sandbox's own tests."""
from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server

from sandbox import create_app
from sandbox.clock import VirtualClock
from sandbox.store import DEFAULT_API_VERSION
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)

SHOP = "demo.myshopify.com"
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.fixture
def clock():
    return VirtualClock(start=START)


@pytest.fixture
def app(clock):
    """A fresh sandbox app with a virtual clock (for the Flask test client)."""
    application = create_app({"SANDBOX_CLOCK": clock, "SANDBOX_WEBHOOK_RETRY_DELAYS": [0.02] * 8,
                              "SANDBOX_BULK_STEP_SECONDS": 1.0})
    yield application
    application.extensions["sandbox"].close()


@pytest.fixture
def store(app):
    return app.extensions["sandbox"]


@pytest.fixture
def shop(store):
    """A basic-plan shop with an app holding the default scopes and a shpat_ token."""
    store.create_shop(SHOP, "Demo", "USD", "basic")
    app_ = store.create_app(SHOP, client_id="cid", client_secret="shpss_secret")
    tok = store.issue_admin_token(SHOP, "cid")
    return {"domain": SHOP, "app": app_, "token": tok.token}


def gql(client, token, query, variables=None, shop=SHOP, version=DEFAULT_API_VERSION):
    """POST a GraphQL document through the test client; returns (status, json)."""
    resp = client.post(f"/store/{shop}/admin/api/{version}/graphql.json",
                       data=json.dumps({"query": query, "variables": variables or {}}),
                       headers={"X-Shopify-Access-Token": token,
                                "Content-Type": "application/json"})
    return resp.status_code, resp.get_json()


class Receiver:
    """A tiny HTTP server that records webhook POSTs and answers with a set status."""

    def __init__(self):
        from werkzeug.wrappers import Request, Response
        self.requests: list = []
        self.status = 200
        self.event = threading.Event()

        @Request.application
        def handle(request):
            self.requests.append({"headers": dict(request.headers), "body": request.get_data(),
                                  "path": request.path})
            self.event.set()
            return Response("ok", status=self.status)

        self.server = make_server("127.0.0.1", 0, handle, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()

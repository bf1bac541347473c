"""A faithful fake Shopify (Admin GraphQL API, OAuth, webhooks, bulk operations).

``create_app(config)`` returns a separate Flask app.  Its store lives in
``app.extensions["sandbox"]``.  Config keys (all optional):

- ``SANDBOX_STATE_FILE``: load state from / save it to this pickle (or ``.json``) file.
- ``SANDBOX_CLOCK``: an object with ``now()`` and ``sleep(s)`` (``sandbox.clock.VirtualClock``
  in tests); defaults to real time.
- ``SANDBOX_SEARCH_LAG``: seconds by which ``orders(query:)`` trails writes (default 0).
- ``SANDBOX_WEBHOOK_RETRY_DELAYS``: list of retry delays in real seconds (8 by default).
- ``SANDBOX_WEBHOOK_REMOVE_AFTER``: consecutive failures before an API subscription goes (8).
- ``SANDBOX_WEBHOOK_TIMEOUT``: delivery timeout, seconds or (connect, read); (1, 5).
- ``SANDBOX_WEBHOOK_DELAY``: real seconds between a change and its webhook's first attempt (0;
  `make demo` uses 2, as Shopify's webhooks come a moment after the API call's answer).
- ``SANDBOX_BULK_STEP_SECONDS``: clock seconds per bulk-operation phase (1).
- ``SANDBOX_SEED``: seed of the fault-injection dice (7).
"""
from __future__ import annotations

import atexit
import os

from flask import Flask, jsonify

from .clock import RealClock, VirtualClock  # re-exported for convenience
from .store import SandboxError, Store

__all__ = ["create_app", "Store", "VirtualClock", "RealClock"]


def create_app(config: dict | None = None) -> Flask:
    """Build the sandbox Flask app (the fake Shopify)."""
    config = dict(config or {})
    if "SANDBOX_STATE_FILE" not in config and os.environ.get("SANDBOX_STATE_FILE"):
        config["SANDBOX_STATE_FILE"] = os.environ["SANDBOX_STATE_FILE"]
    for key in ("SANDBOX_SEARCH_LAG", "SANDBOX_WEBHOOK_DELAY"):
        if key not in config and os.environ.get(key):
            config[key] = float(os.environ[key])
    app = Flask(__name__)
    app.config.update(config)
    app.config.setdefault("JSON_SORT_KEYS", False)
    app.json.sort_keys = False
    store = Store(clock=config.get("SANDBOX_CLOCK"), config=config)
    app.extensions["sandbox"] = store

    from . import carrier, cli, control, graphql_api, labels, oauth, retailer_hooks, returns_control, ui
    app.register_blueprint(graphql_api.bp)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(returns_control.bp)
    app.register_blueprint(ui.bp)
    # The issued-records summary also answers at /control/… (the name tests were written to).
    app.add_url_rule("/control/shops/<shop>/issued", "control_issued", control.issued)
    app.register_blueprint(carrier.bp)  # the fake tracking provider
    app.register_blueprint(labels.bp)  # the fake label providers (EasyPost, Shippo)
    app.register_blueprint(retailer_hooks.bp)  # the retailer's own system: an inbox for outbound webhooks
    cli.register(app)

    @app.errorhandler(SandboxError)
    def _sandbox_error(exc):
        return jsonify({"error": str(exc)}), exc.status

    @app.errorhandler(404)
    def _not_found(_exc):
        return jsonify({"errors": "Not Found"}), 404

    @app.errorhandler(405)
    def _not_allowed(_exc):
        return jsonify({"errors": "Method Not Allowed"}), 405

    @app.errorhandler(500)
    def _internal(_exc):
        return jsonify({"errors": "Internal Server Error"}), 500

    if store.state_file:
        atexit.register(store.save_at_exit)
    return app

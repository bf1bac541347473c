"""Shopify deliveries answered ahead of Flask's request machinery.

`POST /webhooks/shopify` is the hottest path: Shopify sends every order event there, in bursts.
None of what Flask runs around a view applies to it (no session, login, CSRF, rate limit or page
headers), yet that machinery took about a third of a delivery's time in the server (0.6 of 1.9
ms). This middleware serves exactly that method and path with `receive_delivery`, the code
behind the Flask view, in an app context; everything else goes to Flask untouched.

It is switched on by the WEBHOOK_FAST_PATH setting (wsgi.py, the app gunicorn serves), whatever
the job backend. With in-process jobs (the embedded configuration) the job a delivery queues
runs after the response, as it does behind the view: listed while the delivery is answered
(`collecting`), then handed to the backend once the body is sent.
"""
import json
import logging
from contextlib import nullcontext

from flask import Flask, current_app, has_app_context
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import ClosingIterator

from app.errors import MESSAGES
from app.extensions import db
from app.webhooks import read_capped, too_large
from app.webhooks.shopify import SHOPIFY_WEBHOOK_PATH, receive_delivery

log = logging.getLogger(__name__)


class ShopifyWebhookFastPath:
    """WSGI middleware in front of `app.wsgi_app` (installed by `install`)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != SHOPIFY_WEBHOOK_PATH
                or not self.app.config["WEBHOOK_FAST_PATH"]):
            return self.wsgi_app(environ, start_response)
        backend = self.app.extensions["jobs"]
        # Inside a test's app context, keep it (and its database session), as Flask would.
        same_app = has_app_context() and current_app._get_current_object() is self.app
        with nullcontext() if same_app else self.app.app_context(), backend.collecting() as queued:
            status, answer = self._answer(environ)
        payload = json.dumps(answer).encode()
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
            ("X-Content-Type-Options", "nosniff")])
        if not queued:
            return [payload]
        on_close = []
        backend.run_after_response(queued, on_close.append)
        return ClosingIterator([payload], on_close)

    def _answer(self, environ) -> tuple[int, dict]:
        limit = self.app.config["WEBHOOK_MAX_BYTES"]
        try:
            body = read_capped(environ, limit)
            if body is None:
                return 413, too_large(limit)
            return receive_delivery(EnvironHeaders(environ), body)
        except Exception:  # as the app's error handler: logged, a JSON 500, never a trace
            log.exception("unhandled error on POST %s", SHOPIFY_WEBHOOK_PATH)
            db.session.rollback()
            return 500, {"error": MESSAGES[500]}


def install(app: Flask) -> None:
    """Put the fast path in front of the app's WSGI callable (the test client goes through it
    too); it serves deliveries while the app's WEBHOOK_FAST_PATH setting is on."""
    app.wsgi_app = ShopifyWebhookFastPath(app, app.wsgi_app)

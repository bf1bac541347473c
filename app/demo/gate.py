"""The WSGI gate `make demo` serves while its stores are set up."""
import threading

import click
from werkzeug.test import EnvironBuilder, run_wsgi_app


class SetupGate:
    """The WSGI app `make demo` serves. While the demo stores are set up, Shopify's webhooks (the
    sandbox sends them about the demo returns being made) are answered at once and kept, then
    handed to the app when setup is done: SQLite takes one writer at a time, and a delivery stored
    between a setup job's read and its write would make that write fail. Answered, they count as
    delivered (Shopify deletes a subscription whose deliveries fail eight times in a row)."""

    def __init__(self, app):
        self.app = app
        self.kept: list[tuple[dict, bytes]] = []
        self.lock = threading.Lock()
        self.open = False

    def __call__(self, environ, start_response):
        with self.lock:
            keep = (not self.open and environ.get("REQUEST_METHOD") == "POST"
                    and environ.get("PATH_INFO") == "/webhooks/shopify")
            if keep:
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                           if key.startswith("HTTP_")}
                headers["Content-Type"] = environ.get("CONTENT_TYPE", "application/json")
                self.kept.append((headers, body))
        if keep:
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        return self.app(environ, start_response)

    def open_and_replay(self) -> int:
        """Let requests through, and hand the app each webhook kept meanwhile, in order."""
        with self.lock:
            self.open = True
            kept, self.kept = self.kept, []
        # Each one's jobs run as its response closes, before the next is stored: one writer.
        backend = self.app.extensions["jobs"]
        threaded = getattr(backend, "use_thread", False)
        backend.use_thread = False
        try:
            for headers, body in kept:
                environ = EnvironBuilder(path="/webhooks/shopify", method="POST", headers=headers,
                                         data=body).get_environ()
                response, status, _headers = run_wsgi_app(self.app, environ)
                b"".join(response)
                if hasattr(response, "close"):
                    response.close()
                if not status.startswith("2"):
                    click.echo(f"  (a webhook kept during setup was answered {status})", err=True)
        finally:
            backend.use_thread = threaded
        return len(kept)

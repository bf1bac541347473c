"""Error pages: HTML for people, JSON for API and webhook callers; never a stack trace."""
import logging

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from app.extensions import db, is_database_busy
from app.i18n import N_

log = logging.getLogger(__name__)

MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("You need to log in first."),
    403: N_("You do not have permission to see this page."),
    404: N_("We could not find that page."),
    405: N_("That action is not allowed here."),
    413: N_("That upload or form is too large. Photos can be up to 10 MB each: choose fewer or smaller "
         "photos and try again."),
    429: N_("Too many attempts. Please wait a minute and try again."),
    500: N_("Something went wrong on our side. Please try again."),
    503: N_("The service is temporarily unavailable."),
}
BUSY_MESSAGE = N_("We are busy for a moment. Please try again in a few seconds.")
# Seconds a client is told to wait when the embedded database stayed locked past its wait.
BUSY_RETRY_AFTER = 5


def wants_json() -> bool:
    """API and webhook callers get JSON errors; browsers get pages."""
    return (
        request.path.startswith("/webhooks/")
        or request.accept_mimetypes.best == "application/json"
    )


def _render(code: int, description: str | None = None):
    message = MESSAGES.get(code, description or "Error")
    if code in (400, 413, 429) and description and not description.startswith(_WERKZEUG_DEFAULTS):
        message = description
    if wants_json():
        return jsonify(error=message), code
    # A refused upload goes back to its own form (the items page's address is the form's).
    back_url = request.path if code == 413 and request.method == "POST" else None
    return render_template("errors/error.html", code=code, title=MESSAGES.get(code, "Error"), message=message,
                           back_url=back_url), code


# Werkzeug's own wording, which our pages replace with theirs.
_WERKZEUG_DEFAULTS = ("The browser (or proxy)", "The data value transmitted exceeds")


def init_app(app: Flask) -> None:
    """Register the handlers for HTTP errors and unexpected exceptions."""

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        return _render(error.code or 500, error.description)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        if is_database_busy(error):
            # Another writer held SQLite past SQLITE_BUSY_TIMEOUT_SECONDS: nothing is wrong with
            # the request, so say when to come back (a webhook sender retries, a person reloads).
            log.warning("database busy past its wait on %s %s: answered 503", request.method, request.path)
            return _busy()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500)


def _busy():
    if wants_json():
        response = jsonify(error=BUSY_MESSAGE)
    else:
        response = make_response(render_template("errors/error.html", code=503, title=MESSAGES[503],
                                                 message=BUSY_MESSAGE))
    response.status_code = 503
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response

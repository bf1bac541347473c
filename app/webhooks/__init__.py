"""Blueprint: inbound webhooks (CSRF-exempt; every delivery is authenticated by its signature)."""
from flask import Blueprint, request
from werkzeug.wsgi import get_content_length, get_input_stream

bp = Blueprint("webhooks", __name__)


def read_capped(environ, limit: int) -> bytes | None:
    """The raw body of a WSGI request, or None when it is larger than `limit` bytes (413): a
    declared length is refused before reading, and a streamed body is read only to the limit."""
    declared = get_content_length(environ)
    if declared is not None and declared > limit:
        return None
    body = get_input_stream(environ).read(limit + 1)
    return None if len(body) > limit else body


def capped_body(limit: int) -> bytes | None:
    """`read_capped` for the current Flask request."""
    return read_capped(request.environ, limit)


def too_large(limit: int) -> dict:
    """The JSON answer of a 413."""
    return {"error": f"body larger than {limit} bytes"}


from app.webhooks import shopify  # noqa: E402,F401  (routes register on bp)
from app.webhooks import tracking  # noqa: E402,F401  (carrier tracking intake)

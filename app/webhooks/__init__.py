"""Blueprint: inbound webhooks (CSRF-exempt; every delivery is authenticated by its signature)."""
from flask import Blueprint, request

bp = Blueprint("webhooks", __name__)


def capped_body(limit: int) -> bytes | None:
    """The raw body, or None when it is larger than `limit` bytes (413): a declared length is
    refused before reading, and a body without one is read only to the limit's worth."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = request.get_data(cache=False)
    return None if len(body) > limit else body

from app.webhooks import shopify  # noqa: E402,F401  (routes register on bp)
from app.webhooks import tracking  # noqa: E402,F401  (carrier tracking intake)

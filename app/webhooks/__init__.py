"""Blueprint: inbound webhooks (CSRF-exempt; every delivery is authenticated by its signature)."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from app.webhooks import shopify  # noqa: E402,F401  (routes register on bp)
from app.webhooks import tracking  # noqa: E402,F401  (carrier tracking intake)

"""Blueprint: the customer portal at /r/<shop>/… (no account; a session scoped to one order)."""
from flask import Blueprint

bp = Blueprint("portal", __name__)

from app.portal import views  # noqa: E402,F401  (routes register on bp)
from app.portal import packing_slip  # noqa: E402,F401  (the printable slip for the parcel)

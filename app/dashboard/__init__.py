"""Blueprint: the retailer's and staff's dashboard. Every page needs a login."""
from flask import Blueprint
from flask_login import login_required

bp = Blueprint("dashboard", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every dashboard URL, present and future, needs a logged-in user."""


from app.dashboard import privacy, views  # noqa: E402,F401  (routes register on bp)
from app.dashboard import connect, orders  # noqa: E402,F401  (store connection, orders)
from app.dashboard import returns  # noqa: E402,F401  (returns list and page, Outbox)
from app.dashboard import bulk, return_actions, review  # noqa: E402,F401  (staff actions on returns)
from app.dashboard import rules  # noqa: E402,F401
from app.dashboard import tracking  # noqa: E402,F401  (tracking providers, parked carrier events)
from app.dashboard import return_address  # noqa: E402,F401  (settings: where parcels go)
from app.dashboard import packing_slip, start_return  # noqa: E402,F401  (slip; staff start a return)
from app.dashboard import deliveries  # noqa: E402,F401  (dead webhook deliveries, retried)
from app.dashboard import labels  # noqa: E402,F401  (prepaid label settings, voiding a label)
from app.dashboard import exports  # noqa: E402,F401  (CSV downloads of the returns list)
from app.dashboard import analytics  # noqa: E402,F401  (charts of the returns over a date range)
from app.dashboard import email_previews  # noqa: E402,F401  (settings: shopper email previews)
from app.dashboard import outbound  # noqa: E402,F401  (settings: the retailer's outbound webhooks)
from app.dashboard import portal_texts  # noqa: E402,F401  (settings: the portal's words, per language)

"""The one way dashboard code reads data: scoped to the logged-in user's account.

Any query in a dashboard view that does not start here is the odd one out in review.
"""
import functools

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from app.dashboard.forms import ActionForm
from app.extensions import db
from app.models import Account

# Endpoints only admins may reach; tests read this set to prove staff get 403 on each.
ADMIN_ONLY_ENDPOINTS: set[str] = set()


def current_account() -> Account:
    """The logged-in user's account."""
    return db.session.get(Account, current_user.account_id)


def scoped(model) -> Select:
    """`SELECT model WHERE account_id = <the user's account>`; add filters to it."""
    return select(model).where(model.account_id == current_user.account_id)


def get_scoped_or_404(model, object_id: int):
    """One row of the user's account by id; another account's row is a 404, not a 403."""
    if not 0 < object_id < 2**63:  # beyond BIGINT: no such row, and never a database error
        abort(404)
    row = db.session.scalar(scoped(model).where(model.id == object_id))
    if row is None:
        abort(404)
    return row


def admin_required(view):
    """Only admins: staff get 403. Registers the endpoint for the access tests."""
    ADMIN_ONLY_ENDPOINTS.add(f"dashboard.{view.__name__}")

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def csrf_checked(form=None) -> None:
    """Refuse (400, nothing done) a posted dashboard form whose CSRF token expired; ``form`` is
    the form being posted (default: the token-only ActionForm)."""
    form = form or ActionForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400, description="The form expired. Reload the page and try again.")


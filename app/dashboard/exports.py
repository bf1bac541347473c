"""CSV downloads of the returns list: every return its filters, search and sort match (all pages),
one row per return or one row per returned item, streamed as it is read (app/services/exports.py).

Admins may always export; staff only where the account's "Staff may export returns" setting is on
(an export holds every customer's name and email at once). Anyone else gets a 403, and the list
hides the links from them.
"""
from datetime import datetime, timezone

from flask import Response, abort, request, stream_with_context
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.returns_list import STATUS_ORDER, ReturnFilterForm, filter_clauses
from app.dashboard.scope import current_account
from app.services import exports


def may_export_returns() -> bool:
    """Whether the logged-in user may download the returns list (admins; staff if the setting says so)."""
    if not current_user.is_authenticated:
        return False
    return current_user.is_admin or bool(current_account().staff_may_export)


bp.add_app_template_global(may_export_returns, "may_export_returns")


@bp.get("/returns/export/returns.csv")
def export_returns():
    """The returns the list's filters match, one row per return."""
    return _export("returns")


@bp.get("/returns/export/items.csv")
def export_items():
    """The returned items of the returns the list's filters match, one row per item."""
    return _export("items")


def _export(kind: str) -> Response:
    if not may_export_returns():
        abort(403)
    form = ReturnFilterForm(request.args)
    if not form.validate():
        problems = "; ".join(f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items())
        abort(400, description=f"Nothing was exported: correct the filters first ({problems}).")
    name = exports.filename(current_account().shop_domain or current_account().slug, kind,
                            datetime.now(timezone.utc).date())
    body = exports.stream_csv(kind, filter_clauses(form), form.sort.data or "newest", STATUS_ORDER)
    response = Response(stream_with_context(body), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # Customer data: kept by no cache, shared or the browser's own.
    response.headers["Cache-Control"] = "no-store"
    return response

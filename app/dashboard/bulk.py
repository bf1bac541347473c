""""Close selected" on the returns list: the job starts at once and the page polls its progress,
then shows a result per return (closed, or why not)."""
from urllib.parse import urlsplit

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.dashboard import bp
from app.dashboard.forms import ActionForm
from app.dashboard.returns_list import ReturnFilterForm, closable_ids
from app.dashboard.scope import current_account, get_scoped_or_404
from app.extensions import db
from app.models import BulkAction, Return
from app.security import is_htmx
from app.services import return_workflow as workflow
from app.services.returns import ReturnRefused

MAX_POSTED_IDS = workflow.BULK_CLOSE_MAX


def _posted_ids() -> list[int]:
    raw = request.form.getlist("return_id")
    if len(raw) > MAX_POSTED_IDS:
        abort(400, description=f"Close at most {MAX_POSTED_IDS:,} returns at once.")
    if not all(value.isdigit() and 0 < int(value) < 2**63 for value in raw):
        abort(400, description="Returns are chosen by their id.")
    return list(dict.fromkeys(int(value) for value in raw))


@bp.post("/returns/close-selected")
def returns_close_selected():
    """Start closing the ticked returns; htmx gets the progress fragment, a plain form a redirect
    to the progress page. Another account's return among them is a 404 and closes nothing."""
    form = ActionForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400, description="The form expired. Reload the page and try again.")
    ids = _posted_ids()
    if not ids:
        return _refusal("Select at least one return to close.")
    owned = db.session.scalar(select(func.count()).select_from(Return).where(
        Return.account_id == current_user.account_id, Return.id.in_(ids)))
    if owned != len(ids):
        abort(404)
    try:
        bulk = workflow.start_bulk_close(current_account(), ids, current_user.email)
    except ReturnRefused as refused:
        return _refusal(str(refused))
    if is_htmx():
        return _progress(bulk)
    return redirect(url_for("dashboard.bulk_progress", bulk_id=bulk.id), code=303)


@bp.post("/returns/close-matching")
def returns_close_matching():
    """Close every return the posted filters match (the whole list, not one page), up to the
    bulk limit; the same progress and results as "Close selected"."""
    form = ActionForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400, description="The form expired. Reload the page and try again.")
    filters = ReturnFilterForm(request.form)
    if not filters.validate():
        return _refusal("The filters are not valid any more. Reload the list and try again.")
    ids = closable_ids(filters, MAX_POSTED_IDS)
    if not ids:
        return _refusal("No open return matches these filters.")
    if len(ids) > MAX_POSTED_IDS:
        return _refusal(f"More than {MAX_POSTED_IDS:,} returns match. Narrow the filters and close them in parts.")
    bulk = workflow.start_bulk_close(current_account(), ids, current_user.email)
    if is_htmx():
        return _progress(bulk)
    return redirect(url_for("dashboard.bulk_progress", bulk_id=bulk.id), code=303)


def _refusal(message: str):
    if is_htmx():
        return render_template("dashboard/_partials/bulk_refused.html", message=message), 422
    abort(400, description=message)


def _results(bulk: BulkAction) -> list[dict]:
    """One entry per return, in the order selected, with its RMA (read once the job is done)."""
    if bulk.finished_at is None:
        return []
    rmas = dict(db.session.execute(select(Return.id, Return.rma_number).where(
        Return.account_id == bulk.account_id, Return.id.in_(bulk.return_ids))).all())
    rows = []
    for return_id in bulk.return_ids:
        result = (bulk.results or {}).get(str(return_id), {"ok": False, "message": "Not handled."})
        rows.append({"id": return_id, "rma": rmas.get(return_id, result.get("rma", f"#{return_id}")),
                     "ok": bool(result.get("ok")), "message": result.get("message", "")})
    return rows


def _list_to_refresh() -> str | None:
    """The returns list the polling page shows (htmx names it), so the finished fragment can
    reload its rows in place; only a path on the returns list is accepted."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path != url_for("dashboard.returns"):
        return None
    return current.path + (f"?{current.query}" if current.query else "")


def _progress(bulk: BulkAction, page: bool = False):
    percent = int(100 * bulk.done / bulk.total) if bulk.total else 100
    template = "dashboard/bulk.html" if page else "dashboard/_partials/bulk_progress.html"
    return render_template(template, bulk=bulk, percent=percent, results=_results(bulk),
                           finished=bulk.finished_at is not None, refresh_url=_list_to_refresh())


@bp.get("/bulk/<int:bulk_id>")
def bulk_progress(bulk_id: int):
    """A bulk close's progress: the fragment for the polling element, else the whole page."""
    bulk = get_scoped_or_404(BulkAction, bulk_id)
    return _progress(bulk, page=not is_htmx())

""""Close selected" and "Close all matching" on the returns list: first a confirmation of what
will be closed and issued (a page, or in place with htmx), then the job starts and the page polls
its progress, then shows a result per return (closed, or why not)."""
from urllib.parse import urlsplit

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.dashboard import bp
from app.dashboard.confirm_pages import NOT_CONFIRMED, confirm_page, posted_ids, safe_next
from app.dashboard.returns_list import ReturnFilterForm, closable_ids, filter_args
from app.dashboard.scope import csrf_checked, current_account, get_scoped_or_404
from app.domain.returns import ReturnRefused
from app.extensions import db
from app.htmx import current_url, is_htmx
from app.models import BulkAction, Return
from app.query_params import query_arg
from app.services import return_workflow as workflow
from app.services.return_confirm import NotConfirmed, confirmed_plan, plan_action

MAX_POSTED_IDS = workflow.BULK_CLOSE_MAX


def _selected_ids(values) -> list[int]:
    """The ticked returns, all of them the account's own (another account's among them: 404)."""
    ids = posted_ids(values, MAX_POSTED_IDS)
    owned = db.session.scalar(select(func.count()).select_from(Return).where(
        Return.account_id == current_user.account_id, Return.id.in_(ids))) if ids else 0
    if owned != len(ids):
        abort(404)
    return ids


def _ask_or_start(ids: list[int], post_url: str, hidden: list[tuple[str, str]]):
    """GET: the confirmation of closing `ids`. POST: start closing them if the posted token is
    what was shown; otherwise the confirmation again, as things are now (409)."""
    back = (safe_next(query_arg("next", source=request.values))
            or url_for("dashboard.returns", **filter_args(request.values)))
    hidden = [*hidden, ("next", back)]
    account = current_account()
    if request.method == "GET":
        return confirm_page(plan_action(account, "close", ids), post_url, back_url=back, back_label="Back to the list",
                            hidden=hidden, in_place=True)
    posted = request.form.get("confirm")
    try:
        confirmed_plan(account, "close", ids, posted)
    except NotConfirmed as changed:
        return confirm_page(changed.plan, post_url, back_url=back, back_label="Back to the list", hidden=hidden,
                            error=str(changed) if posted else NOT_CONFIRMED, status=409, in_place=True)
    try:
        bulk = workflow.start_bulk_close(account, ids, current_user.email)
    except ReturnRefused as refused:
        return _refusal(str(refused))
    if is_htmx():
        return _progress(bulk)
    return redirect(url_for("dashboard.bulk_progress", bulk_id=bulk.id), code=303)


@bp.route("/returns/close-selected", methods=["GET", "POST"])
def returns_close_selected():
    """Close the ticked returns, once confirmed; htmx gets the confirmation and then the progress
    in place, a plain form a page for each. Another account's return among them is a 404 and
    closes nothing."""
    if request.method == "POST":
        csrf_checked()
    values = request.form if request.method == "POST" else request.args
    ids = _selected_ids(values)
    if not ids:
        return _refusal("Select at least one return to close.")
    return _ask_or_start(ids, url_for("dashboard.returns_close_selected"), [("return_id", str(i)) for i in ids])


@bp.route("/returns/close-matching", methods=["GET", "POST"])
def returns_close_matching():
    """Close every return the filters match (the whole list, not one page), up to the bulk limit,
    once confirmed; the confirmation counts exactly those. The same progress and results as
    "Close selected"."""
    if request.method == "POST":
        csrf_checked()
    values = request.form if request.method == "POST" else request.args
    filters = ReturnFilterForm(values)
    if not filters.validate():
        return _refusal("The filters are not valid any more. Reload the list and try again.")
    ids = closable_ids(filters, MAX_POSTED_IDS)
    if not ids:
        return _refusal("No open return matches these filters.")
    if len(ids) > MAX_POSTED_IDS:
        return _refusal(f"More than {MAX_POSTED_IDS:,} returns match. Narrow the filters and close them in parts.")
    hidden = [(key, value) for key, value in filter_args(values).items() if key not in ("sort", "per_page")]
    return _ask_or_start(ids, url_for("dashboard.returns_close_matching"), hidden)


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
    current = urlsplit(current_url())
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

"""Review before approval on the dashboard: approve or decline one return from its page, or the
ticked returns of the list in bulk. Each asks first (the browser's dialog, else a page that posts
the same form again, confirmed) and says what will happen; every change goes through
app.services.return_review. A decline's message over Shopify's limit is refused with what was
typed kept."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.ask_first import CONFIRMED, ask_first, confirmed
from app.dashboard import bp
from app.dashboard.confirm_pages import posted_ids, safe_next
from app.dashboard.forms import ActionForm, DeclineForm
from app.dashboard.returns import return_page
from app.dashboard.returns_list import filter_args
from app.dashboard.scope import csrf_checked, get_scoped_or_404
from app.domain.returns import ReturnRefused
from app.extensions import db
from app.htmx import is_htmx
from app.models import Return
from app.query_params import query_arg
from app.services import return_review as review

RETURN = "/returns/<int:return_id>"
# Approving or declining is a quick update per return, done in the request: a bounded batch.
BULK_REVIEW_MAX = 100
DECISIONS = ("approve", "decline")


@bp.post(f"{RETURN}/approve")
def return_approve(return_id: int):
    """Approve one return awaiting review, once confirmed."""
    ret = get_scoped_or_404(Return, return_id)
    csrf_checked(ActionForm())
    if not confirmed():
        return ask_first(f"Approve return {ret.rma_number}? The shopper can then send it, and Shopify has it as "
                         "an open return.", layout="dashboard/base.html", button=f"Approve {ret.rma_number}",
                         back_url=url_for("dashboard.return_detail", return_id=ret.id))
    done = review.approve(ret.account_id, ret.id, current_user.email)
    flash(done.message, "success" if done.changed else "error")
    return redirect(url_for("dashboard.return_detail", return_id=ret.id), code=303)


@bp.post(f"{RETURN}/decline")
def return_decline(return_id: int):
    """Decline one return awaiting review with Shopify's reason and a message, once confirmed."""
    ret = get_scoped_or_404(Return, return_id)
    form = DeclineForm()
    csrf_checked(form)
    problem = _decline_problem(form)
    if problem is not None:
        return return_page(ret, decline_form=form, status=422)
    if not confirmed():
        return _ask_decline(url_for("dashboard.return_decline", return_id=ret.id), [ret], form,
                            back_url=url_for("dashboard.return_detail", return_id=ret.id))
    done = review.decline(ret.account_id, ret.id, current_user.email, form.decline_reason.data, form.note())
    flash(done.message, "success" if done.changed else "error")
    return redirect(url_for("dashboard.return_detail", return_id=ret.id), code=303)


def _decline_problem(form: DeclineForm) -> str | None:
    """The form's refusal (set on its fields, text kept), or None when the decline may go ahead."""
    if form.errors:
        return "invalid"
    try:
        review.check_decline(form.decline_reason.data, form.note())
    except ReturnRefused as refused:
        form.decline_note.errors = [*form.decline_note.errors, str(refused)]
        return str(refused)
    return None


def _ask_decline(action: str, returns: list[Return], form: DeclineForm, back_url: str, hidden=(), status=200):
    """The page that asks before declining, carrying the reason and message to post again."""
    return render_template("dashboard/review_confirm.html", decision="decline", action=action, returns=returns,
                           form=form, back_url=back_url, hidden=list(hidden), confirmed_value=CONFIRMED,
                           fragment=False), status


# --- bulk, from the returns list ------------------------------------------------------------------

def _selected(values) -> list[Return]:
    """The ticked returns, all the account's own (another account's among them: 404)."""
    ids = posted_ids(values, BULK_REVIEW_MAX)
    found = list(db.session.scalars(select(Return).where(
        Return.account_id == current_user.account_id, Return.id.in_(ids)).order_by(Return.id))) if ids else []
    if len(found) != len(ids):
        abort(404)
    return found


@bp.route("/returns/review-selected", methods=["GET", "POST"])
def returns_review_selected():
    """Approve or decline the ticked returns: GET asks first (in place with htmx, else a page),
    naming those awaiting review and those that are not (left alone); POST does it, return by
    return, and says what happened to each."""
    values = request.form if request.method == "POST" else request.args
    decision = query_arg("decision", source=values)
    if decision not in DECISIONS:
        abort(400, description="Choose approve or decline.")
    form = DeclineForm() if request.method == "POST" else DeclineForm(formdata=None)
    if request.method == "POST":
        csrf_checked(form)
    returns = _selected(values)
    if not returns:
        abort(400, description="Select at least one return to approve or decline.")
    back = safe_next(query_arg("next", source=values)) or url_for("dashboard.returns", **filter_args(values))
    hidden = [("return_id", str(r.id)) for r in returns] + [("next", back), ("decision", decision)]
    context = dict(decision=decision, action=url_for("dashboard.returns_review_selected"), returns=returns,
                   form=form, back_url=back, hidden=hidden, confirmed_value=CONFIRMED, fragment=is_htmx())
    if request.method == "GET":
        return render_template(_confirm_template(), **context)
    if decision == "decline" and _decline_problem(form) is not None:
        return render_template(_confirm_template(), **context), 422
    results = []
    for ret in returns:
        if decision == "approve":
            results.append(review.approve(current_user.account_id, ret.id, current_user.email))
        else:
            results.append(review.decline(current_user.account_id, ret.id, current_user.email,
                                          form.decline_reason.data, form.note()))
    changed = sum(1 for r in results if r.changed)
    verb = "approved" if decision == "approve" else "declined"
    flash(f"{changed} of {len(results)} return{'s' if len(results) != 1 else ''} {verb}.", "success")
    for result in results:
        if not result.changed:
            flash(result.message, "error")
    return redirect(back, code=303)


def _confirm_template() -> str:
    """The confirmation in place (htmx, under the list's buttons), else as a page."""
    return "dashboard/_partials/review_confirm.html" if is_htmx() else "dashboard/review_confirm.html"


"""The confirmation shown before a staff action on returns (no routes): the same content as a page
without JavaScript and as a fragment in place with htmx. It says what the action will issue, per
option, and what to beware of; its form posts the plan's token back (see
app.services.return_confirm)."""
from urllib.parse import urlsplit

from flask import abort, render_template, request, url_for

from app.dashboard.forms import ActionForm
from app.htmx import is_htmx
from app.services.return_confirm import Plan

NOT_CONFIRMED = "Confirm first: check below what this will do."
OVERRIDE_NEEDED = ("The parcel has not been received. Tick “Process without receipt” to process it anyway, "
                   "or mark it received first.")


def posted_ids(values, limit: int) -> list[int]:
    """Return ids from a form or query string (ASCII digits only, at most `limit`), without
    repeats; anything else is a 400 with the reason."""
    raw = values.getlist("return_id")
    if len(raw) > limit:
        abort(400, description=f"Close at most {limit:,} returns at once.")
    if not all(value.isascii() and value.isdigit() and 0 < int(value) < 2**63 for value in raw):
        abort(400, description="Returns are chosen by their id.")
    return list(dict.fromkeys(int(value) for value in raw))


def safe_next(raw: str | None) -> str | None:
    """Only a path on the returns list (the list's quick close sends the list back with its
    filters); anything else, or anything with control characters, is dropped."""
    if not raw or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in raw):
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not parts.path.startswith(url_for("dashboard.returns")):
        return None
    return raw


def confirm_page(plan: Plan, post_url: str, *, back_url: str, back_label: str, hidden: list[tuple[str, str]] = (),
                 error: str | None = None, override_error: str | None = None, warning: str | None = None,
                 status: int = 200, in_place: bool = False):
    """The confirmation: a fragment when htmx asked for it in place (`in_place`: the list's bulk
    actions), else the whole page. `hidden` are the fields that say what is confirmed (ids,
    filters, where to go back); `warning` is one more thing to beware of (e.g. a payment not
    captured)."""
    fragment = in_place and is_htmx()
    template = "dashboard/_partials/confirm.html" if fragment else "dashboard/confirm.html"
    return render_template(template, plan=plan, post_url=post_url, back_url=back_url, back_label=back_label,
                           hidden=list(hidden), error=error, override_error=override_error, extra_warning=warning,
                           in_place=fragment, action_form=ActionForm(),
                           override=request.form.get("without_receipt") == "y"), status

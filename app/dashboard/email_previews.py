"""Settings: the preview of each shopper email, as the shopper would get it.

The page shows the subject, the address, the text part and the HTML part. The HTML is the shop's
email (inline styles, the shop's logo from its own host), which the dashboard's CSP rightly
refuses; an ``<iframe srcdoc>`` would inherit that CSP. So the HTML is served by its own route
with its own strict policy (no script, no fetch, no form; inline styles and https images only;
``sandbox``), framed only by this site, and the page embeds it in an ``<iframe sandbox>``: the
email is shown exactly, and nothing in it can run or reach the dashboard.
"""
from flask import abort, make_response, render_template

from app.dashboard import bp
from app.dashboard.scope import admin_required, current_account
from app.domain.vocabulary import EmailKind
from app.query_params import query_arg
from app.services import email_previews

EMAIL_CSP = ("default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox")


def _kind(kind: str) -> EmailKind:
    try:
        return EmailKind(kind)
    except ValueError:
        abort(404)


def _preview(kind: str):
    account = current_account()
    try:
        return email_previews.preview(account, _kind(kind), query_arg("sample"))
    except email_previews.NotThisShops:
        abort(404)


@bp.get("/settings/emails/<kind>/preview")
@admin_required
def email_preview(kind: str):
    """One kind of shopper email for one of the shop's returns (a ``sample`` id, else the latest)."""
    shown = _preview(kind)
    return render_template("dashboard/email_preview.html", preview=shown, kinds=list(EmailKind),
                           returns=email_previews.recent_returns(current_account()))


@bp.get("/settings/emails/<kind>/preview/email.html")
@admin_required
def email_preview_html(kind: str):
    """The email's HTML part alone, under its own strict CSP, for the preview page's frame."""
    response = make_response(_preview(kind).html)
    response.headers["Content-Security-Policy"] = EMAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response

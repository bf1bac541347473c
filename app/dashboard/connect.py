"""Store page: connect the Shopify store (three ways), see the connection and the order import."""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from wtforms import PasswordField, StringField

from app.dashboard import bp
from app.dashboard.scope import admin_required, current_account, get_scoped_or_404
from app.extensions import db
from app.forms import BaseForm, strip_spaces
from app.htmx import current_url, is_htmx
from app.models import ImportRun
from app.services import connect as connecting
from app.services import connect_input
from app.services import imports
from app.services.webhook_health import webhook_health
from app.services.webhook_subscriptions import webhook_address

OAUTH_SESSION_KEY = "shopify_oauth"
METHOD_NAMES = {"oauth": "Boomerang's Shopify app (OAuth)",
                "client_credentials": "your own Dev Dashboard app (client credentials)",
                "legacy_token": "an admin custom-app token"}


class _ConnectForm(BaseForm):
    shop_domain = StringField("Store address", filters=[strip_spaces],
                              render_kw={"placeholder": "my-store.myshopify.com", "spellcheck": "false",
                                         "autocapitalize": "none"})
    api_origin = StringField("API origin", filters=[strip_spaces],
                             render_kw={"placeholder": "http://127.0.0.1:8001/store/my-store.myshopify.com",
                                        "spellcheck": "false", "autocapitalize": "none"})


class OAuthForm(_ConnectForm):
    """Install Boomerang's own Shopify app."""


class ClientCredentialsForm(_ConnectForm):
    """The retailer's own Dev Dashboard app."""

    client_id = StringField("Client ID", filters=[strip_spaces],
                            render_kw={"spellcheck": "false", "autocapitalize": "none"})
    client_secret = PasswordField("Client secret", filters=[strip_spaces])


class LegacyTokenForm(_ConnectForm):
    """A pasted admin custom-app token."""

    access_token = PasswordField("Admin API access token", filters=[strip_spaces])
    api_secret = PasswordField("API secret key", filters=[strip_spaces])


def _forms():
    return {"oauth": OAuthForm(prefix="oauth"),
            "client_credentials": ClientCredentialsForm(prefix="cc"),
            "legacy_token": LegacyTokenForm(prefix="legacy")}


def _render(forms, status=200, open_method=None, oauth_error=None):
    account = current_account()
    run = imports.latest_run(account.id)
    return render_template(
        "dashboard/connect.html", account=account, forms=forms, open_method=open_method,
        oauth_error=oauth_error, oauth_configured=connecting.oauth_configured(),
        origin_allowed=connect_input.api_origin_allowed(),
        missing=connecting.missing_scopes(account.granted_scopes) if account.shop_domain else [],
        cap_applies=connecting.window_cap_applies(account) and account.connected_at is not None,
        capped_days=connecting.CAPPED_RETURN_WINDOW_DAYS, grace_days=connecting.ISSUE_GRACE_DAYS,
        scope_purposes=connecting.SCOPE_PURPOSES, method_names=METHOD_NAMES,
        webhook_address=webhook_address(), progress=imports.progress(run),
        refresh_url=url_for("dashboard.connect_store"), webhooks=webhook_health(account),
    ), status


def _error_on(form, error: connect_input.ConnectError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is None:
        target = form.shop_domain
    target.errors = list(target.errors or []) + [str(error)]


def _see_other(location: str):
    """A 303 with an empty body. Served, in-process jobs run on a thread (app/queue/backends.py); the
    test server instead runs them when the response is closed, and werkzeug skips that close when
    Chrome drops a connection with a redirect's body unread. No body, nothing left unread."""
    response = redirect(location, code=303)
    response.set_data(b"")
    return response


def _connected(result: connecting.ConnectResult):
    account = result.account
    flash(f"Connected to {result.shop.name or account.shop_domain} ({account.shop_domain}). "
          f"Importing recent orders now.", "success")
    if result.window_capped_from:
        flash(f"Return window lowered from {result.window_capped_from} to "
              f"{account.return_window_days} days: see why below.", "info")
    return _see_other(url_for("dashboard.connect_store"))


@bp.get("/connect")
@admin_required
def connect_store():
    """The store connection: its state, and the three ways to (re)connect."""
    return _render(_forms())


@bp.post("/connect/token")
@admin_required
def connect_token():
    """Connect with a pasted admin custom-app token and its API secret key."""
    forms = _forms()
    form = forms["legacy_token"]
    if not form.validate_on_submit():
        return _render(forms, 400, "legacy_token")
    account = current_account()
    try:
        shop = connect_input.parse_shop(form.shop_domain.data)
        origin = connect_input.parse_api_origin(form.api_origin.data)
        connect_input.check_available(account, shop)
        grant = connecting.legacy_token_grant(form.access_token.data, form.api_secret.data)
        result = connecting.connect(account, shop, grant, origin)
    except connect_input.ConnectError as error:
        db.session.rollback()
        _error_on(form, error)
        return _render(forms, 422, "legacy_token")
    return _connected(result)


@bp.post("/connect/client-credentials")
@admin_required
def connect_client_credentials():
    """Connect with the client ID and secret of the retailer's own Dev Dashboard app."""
    forms = _forms()
    form = forms["client_credentials"]
    if not form.validate_on_submit():
        return _render(forms, 400, "client_credentials")
    account = current_account()
    try:
        shop = connect_input.parse_shop(form.shop_domain.data)
        origin = connect_input.parse_api_origin(form.api_origin.data)
        connect_input.check_available(account, shop)
        grant = connecting.client_credentials_grant(shop, form.client_id.data, form.client_secret.data,
                                                    origin)
        result = connecting.connect(account, shop, grant, origin)
    except connect_input.ConnectError as error:
        db.session.rollback()
        _error_on(form, error)
        return _render(forms, 422, "client_credentials")
    return _connected(result)


def _redirect_uri() -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + url_for("dashboard.connect_oauth_callback")


@bp.post("/connect/oauth")
@admin_required
def connect_oauth():
    """Start the OAuth install: remember a state nonce, then send the retailer to Shopify."""
    forms = _forms()
    form = forms["oauth"]
    if not form.validate_on_submit():
        return _render(forms, 400, "oauth")
    try:
        url, saved = connecting.begin_oauth(current_account(), form.shop_domain.data,
                                            form.api_origin.data, _redirect_uri())
    except connect_input.ConnectError as error:
        if not connecting.oauth_configured():
            return _render(forms, 422, "oauth", oauth_error=str(error))
        _error_on(form, error)
        return _render(forms, 422, "oauth")
    saved["url"] = url
    session[OAUTH_SESSION_KEY] = saved
    # A page of our own with a link, not a redirect: the form-action CSP would stop a form
    # submission from being redirected to another origin.
    return redirect(url_for("dashboard.connect_oauth_continue"), code=303)


@bp.get("/connect/oauth/continue")
@admin_required
def connect_oauth_continue():
    """The step before Shopify: what will happen, and the link to go there."""
    saved = session.get(OAUTH_SESSION_KEY)
    if not saved or saved.get("account_id") != current_account().id:
        flash("Start the install again: enter your store's address.", "info")
        return redirect(url_for("dashboard.connect_store"), code=303)
    return render_template("dashboard/connect_oauth.html", shop=saved["shop"], url=saved["url"],
                           scopes=current_app.config["SHOPIFY_APP_SCOPES"])


@bp.get("/connect/oauth/callback")
@admin_required
def connect_oauth_callback():
    """Shopify sends the retailer back here with a code: verify it and connect."""
    saved = session.pop(OAUTH_SESSION_KEY, None)  # single use, whatever happens next
    params = {key: value for key, value in request.args.items()}
    try:
        result = connecting.finish_oauth(current_account(), params, saved)
    except connect_input.ConnectError as error:
        db.session.rollback()
        forms = _forms()
        if saved and saved.get("shop"):
            forms["oauth"].shop_domain.data = saved["shop"]
        if error.field and error.field != "shop_domain":
            _error_on(forms["oauth"], error)
            return _render(forms, 400, "oauth")
        return _render(forms, 400, "oauth", oauth_error=str(error))
    return _connected(result)


@bp.post("/imports")
@admin_required
def start_import():
    """Import recent orders again (or continue a stopped import)."""
    form = BaseForm()
    if not form.validate_on_submit():
        abort(400)
    account = current_account()
    if not account.is_connected:
        flash("Connect the store first.", "error")
        return redirect(url_for("dashboard.connect_store"), code=303)
    imports.start_import(account)
    flash("Importing recent orders.", "success")
    target = url_for("dashboard.home") if request.form.get("back") == "home" else url_for(
        "dashboard.connect_store")
    return _see_other(target)


@bp.context_processor
def _import_helpers():
    """``latest_import()`` for dashboard templates (the overview shows the import's progress)."""
    return {"latest_import": _latest_import_progress}


def _latest_import_progress():
    """The latest import's progress while it runs, failed, or finished within the last day."""
    run = imports.latest_run(current_account().id)
    if run is None:
        return None
    if run.status == "completed" and run.finished_at and (
            datetime.now(timezone.utc) - run.finished_at > timedelta(days=1)):
        return None
    return imports.progress(run)


def _safe_refresh_url() -> str:
    current = current_url()
    path = urlparse(current).path
    if path.startswith("/dashboard") and "//" not in path:
        return path
    return url_for("dashboard.home")


@bp.get("/imports/<int:run_id>/progress")
def import_progress(run_id: int):
    """The progress bar fragment, polled every second while the import runs."""
    run = get_scoped_or_404(ImportRun, run_id)
    if is_htmx():
        return render_template("dashboard/_partials/import_progress.html",
                               progress=imports.progress(run), refresh_url=_safe_refresh_url())
    return render_template("dashboard/import_progress_page.html", progress=imports.progress(run),
                           refresh_url=request.path)

"""Login handling, CSRF failures and response headers in one place (Redash's security module)."""
import secrets

from flask import Flask, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from app.extensions import db, login_manager
from app.htmx import client_redirect, sent_by_htmx, vary_on_htmx
from app.models import User


def init_app(app: Flask) -> None:
    """Wire Flask-Login, the CSRF error page and the security headers."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.register_error_handler(CSRFError, _csrf_error)
    app.before_request(_make_csp_nonce)
    app.after_request(_security_headers)


def _load_user(user_id: str):
    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


def _unauthorized():
    login_url = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if sent_by_htmx():
        return client_redirect(login_url, 401)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error="login required"), 401
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url)


def _csrf_error(error: CSRFError):
    message = "This form has expired or was not sent from this site. Please reload the page and try again."
    if sent_by_htmx() or request.accept_mimetypes.best == "application/json":
        return jsonify(error=message), 400
    return render_template("errors/error.html", code=400, title="Form expired", message=message), 400


def _make_csp_nonce():
    if request.blueprint != "webhooks":
        g.csp_nonce = secrets.token_urlsafe(16)


def _security_headers(response):
    if request.blueprint == "webhooks":
        # Machine-to-machine JSON: no page to protect, and this is the hottest path.
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    nonce = getattr(g, "csp_nonce", "")
    # Scripts come from this site alone (htmx is vendored); images may come from any https host,
    # since a shop's portal logo lives where the shop keeps it (settings accept https:// only).
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        "script-src 'self'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data: https:; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
    )
    if request.blueprint == "portal":
        # Portal pages hold a shopper's address, items and gift card codes, and a status link's token
        # is in the path: no cache keeps them, and no other site is told the address. (Not
        # no-referrer: Flask-WTF checks the Referer of form posts over https.)
        if "no-store" not in response.headers.get("Cache-Control", ""):  # a photo's "private, no-store" stays
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    vary_on_htmx(response)
    if current_user.is_authenticated or request.path.startswith("/dashboard"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response

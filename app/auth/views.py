"""Sign-up, login, logout."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app import rate_limits
from app.auth import bp
from app.auth.forms import LoginForm, SignupForm
from app.extensions import limiter
from app.forms import typed_only
from app.query_params import query_arg
from app.services.accounts import AccountError, authenticate, normalise_email, sign_up

SIGNED_UP = ("Thank you. If this email address is new to Boomerang, your account is ready: log in below "
             "with the password you chose. If it already has an account, log in with that account's password.")


def _safe_next(target: str | None) -> str:
    """Only follow `next` within this site, never to another host, and never with a character no
    one types (a NUL has no place in a Location header)."""
    if target and typed_only(target) == target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("dashboard.home")


@bp.get("/")
def root():
    """The site's root: the dashboard for a signed-in user, the login for anyone else."""
    return redirect(url_for("dashboard.home" if current_user.is_authenticated else "auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNUP_RATE_LIMIT"], methods=["POST"],
               deduct_when=lambda response: response.status_code == 303)
def signup():
    """Create a retailer account and its admin login.

    A new email and one that already has a login get the same answer (the log-in page and the same
    message), so sign-up does not tell who has an account; sign-ups that pass the form count
    against SIGNUP_RATE_LIMIT per address."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            sign_up(form.store_name.data, form.email.data, form.password.data)
        except AccountError as error:
            getattr(form, error.field or "email").errors.append(str(error))
        else:
            flash(SIGNED_UP, "success")
            return redirect(url_for("auth.login"), code=303)
    return render_template("auth/signup.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with email and password; failed attempts are limited per address and per email
    (app/rate_limits.py: the right password from an address that has not failed always works)."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        address, target = (request.remote_addr or "",), (normalise_email(form.email.data),)
        if rate_limits.LOGIN.refused(address, target):
            return render_template("auth/login.html", form=form, too_many=True), 429, {"Retry-After": "60"}
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            rate_limits.LOGIN.failed(address, target)
            form.password.errors.append("That email and password do not match.")
        else:
            next_url = _safe_next(query_arg("next"))
            session.clear()
            login_user(user, remember=form.remember.data)
            return redirect(next_url, code=303)
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 422


@bp.post("/logout")
@login_required
def logout():
    """Log out (a POST, so a link elsewhere cannot log people out)."""
    logout_user()
    session.clear()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"), code=303)

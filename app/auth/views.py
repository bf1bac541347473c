"""Sign-up, login, logout."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import LoginForm, SignupForm
from app.extensions import limiter
from app.services.accounts import AccountError, authenticate, sign_up


def _safe_next(target: str | None) -> str:
    """Only follow `next` within this site, never to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("dashboard.home")


@bp.get("/")
def root():
    """The site's root: the dashboard for a signed-in user, the login for anyone else."""
    return redirect(url_for("dashboard.home" if current_user.is_authenticated else "auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create a retailer account and its admin login."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = sign_up(form.store_name.data, form.email.data, form.password.data)
        except AccountError as error:
            getattr(form, error.field or "email").errors.append(str(error))
        else:
            session.clear()
            login_user(user)
            flash("Welcome to Boomerang! Your account is ready.", "success")
            return redirect(url_for("dashboard.home"), code=303)
    return render_template("auth/signup.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("That email and password do not match.")
        else:
            next_url = _safe_next(request.args.get("next"))
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

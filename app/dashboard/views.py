"""Dashboard pages: home, staff, settings (general, returns, return action, credit notes and exchanges)."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.dashboard import bp
from app.dashboard.forms import (GeneralSettingsForm, IssuingSettingsForm, RemoveStaffForm, ReturnActionForm,
                                 ReturnsSettingsForm, StaffForm)
from app.dashboard.scope import admin_required, current_account, scoped
from app.extensions import db
from app.dashboard.returns_list import ACTIVE, NEEDS_DECISION, count_listed
from app.models import Order, Return, TrackingEvent, User
from app.services.accounts import AccountError, add_staff, remove_user
from app.services.webhook_health import webhook_health


# The overview's counts of returns: each is the returns list under these filters, and links to it.
OVERVIEW_LISTS = (("in progress", {"status": ACTIVE}), ("with a failed item", {"issue": "FAILED"}),
                  ("awaiting a decision", {"issue": NEEDS_DECISION}))


@bp.get("/")
def home():
    """The account at a glance: counts that link to what they count, and what needs attention
    (failed items, decisions, parked carrier events, webhook trouble)."""
    account = current_account()
    lists = [(label, args, *count_listed(args)) for label, args in OVERVIEW_LISTS]
    counts = {
        "orders": db.session.scalar(select(func.count()).select_from(scoped(Order).subquery())),
        "returns": db.session.scalar(select(func.count()).select_from(scoped(Return).subquery())),
    }
    parked = db.session.scalar(select(func.count()).select_from(TrackingEvent).where(
        TrackingEvent.account_id == account.id, TrackingEvent.return_id.is_(None)))
    return render_template("dashboard/home.html", account=account, counts=counts, lists=lists, parked=parked,
                           webhooks=webhook_health(account))


@bp.route("/staff", methods=["GET", "POST"])
@admin_required
def staff():
    """List the account's logins and add one."""
    account = current_account()
    form = StaffForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = add_staff(account, form.email.data, form.password.data, form.name.data, form.role.data)
        except AccountError as error:
            getattr(form, error.field or "email").errors.append(str(error))
        else:
            flash(f"{user.email} can now log in as {user.role}.", "success")
            return redirect(url_for("dashboard.staff"), code=303)
    if request.method == "POST":
        status = 422
    users = db.session.scalars(scoped(User).order_by(User.created_at, User.id)).all()
    return render_template("dashboard/staff.html", form=form, users=users,
                           remove_form=RemoveStaffForm()), status


@bp.post("/staff/<int:user_id>/remove")
@admin_required
def remove_staff(user_id: int):
    """Remove a login from the account."""
    form = RemoveStaffForm()
    if form.validate_on_submit():
        try:
            remove_user(current_account(), user_id, current_user)
        except AccountError as error:
            flash(str(error), "error")
        else:
            flash("Removed.", "success")
    return redirect(url_for("dashboard.staff"), code=303)


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    """General settings: store name, windows and portal branding."""
    account = current_account()
    form = GeneralSettingsForm(obj=account)
    if form.validate_on_submit() and _window_within_cap(form, account):
        form.populate_obj(account)
        account.logo_url = account.logo_url or None
        db.session.commit()
        flash("Settings saved.", "success")
        return redirect(url_for("dashboard.settings"), code=303)
    return _settings_page(account, form=form, status=422 if request.method == "POST" else 200)


def _settings_page(account, *, form=None, returns_form=None, action_form=None, locations=None, issuing_form=None,
                   status=200):
    """The settings page; each form not given is filled from the account, not from the post."""
    if action_form is None:
        action_form = _action_form(account, formdata=None)
        locations = _load_locations(account, action_form)
    return render_template(
        "dashboard/settings.html", account=account,
        form=form or GeneralSettingsForm(formdata=None, obj=account),
        returns_form=returns_form or _returns_form(account), action_form=action_form,
        locations_problem=locations, credit_kind=credit_kind(account),
        issuing_form=issuing_form or IssuingSettingsForm(formdata=None, data={
            "exchange_mode": account.exchange_mode, "issued_notice": account.issued_notice})), status


def credit_kind(account) -> str:
    """Which credit a credit note becomes on this shop, and why (store credit needs Shopify's new
    customer accounts: docs/reference/shopify-returns.md §6.4)."""
    if account.customer_accounts_version == "NEW_CUSTOMER_ACCOUNTS":
        return "Store credit (the shop uses new customer accounts)"
    if account.customer_accounts_version:
        return "Gift cards (store credit needs Shopify's new customer accounts; this shop uses classic accounts)"
    return "Unknown until the store is connected"


def _window_within_cap(form: GeneralSettingsForm, account) -> bool:
    """Without read_all_orders, Shopify hides orders older than 60 days, so a return must be
    issuable inside that: the window is capped (DESIGN §3) and the field says why."""
    from app.services.connect import CAPPED_RETURN_WINDOW_DAYS, window_cap_applies

    if window_cap_applies(account) and form.return_window_days.data > CAPPED_RETURN_WINDOW_DAYS:
        form.return_window_days.errors.append(
            f"At most {CAPPED_RETURN_WINDOW_DAYS} days: without the read_all_orders permission Shopify hides "
            f"orders older than 60 days, and refunds must be issued before then.")
        return False
    return True


def _returns_form(account) -> ReturnsSettingsForm:
    """The returns settings form, filled from the account (lists shown one entry per line);
    never from the posted data, which belongs to the general form when that one was sent."""
    return ReturnsSettingsForm(formdata=None, data={
        "option_mode": account.option_mode, "exchange_enabled": account.exchange_enabled,
        "excluded_product_tags": "\n".join(account.excluded_product_tags or []),
        "return_reasons": "\n".join(account.return_reasons or [])})


@bp.post("/settings/returns")
@admin_required
def returns_settings():
    """Option mode, exchanges, excluded product tags and return reasons."""
    account = current_account()
    returns_form = ReturnsSettingsForm()
    if returns_form.validate_on_submit():
        account.option_mode = returns_form.option_mode.data
        account.exchange_enabled = returns_form.exchange_enabled.data
        account.excluded_product_tags = returns_form.tags()
        account.return_reasons = returns_form.reasons()
        db.session.commit()
        flash("Return settings saved.", "success")
        return redirect(url_for("dashboard.settings") + "#returns", code=303)
    return _settings_page(account, returns_form=returns_form, status=422)


def _action_form(account, **kwargs) -> ReturnActionForm:
    return ReturnActionForm(data={"return_action": account.return_action,
                                  "restock_location_id": str(account.restock_location_id or ""),
                                  "restock_returned_units": account.restock_returned_units}, **kwargs)


def _load_locations(account, form: ReturnActionForm) -> str | None:
    """Fill the restock location choices from the shop; the reason when they could not be listed
    (the stored choice is then kept as the only other option, so saving never loses it)."""
    from app.services.shopify_access import NotConnected, client_for
    from app.shopify.errors import MissingScopeError, ShopifyError

    problem, listed = None, []
    try:
        client = client_for(account, read_timeout=current_app.config.get("SETTINGS_SHOPIFY_TIMEOUT", 4.0))
        from app.shopify.issuing import list_locations

        # A person is waiting for the page: no retries, a slow shop is reported instead.
        client.max_retries, client.max_retry_seconds = 0, 0.0
        listed = [(str(loc.location_id), loc.name) for loc in list_locations(client)]
    except NotConnected:
        problem = "Connect your store to choose where returned items are restocked."
    except MissingScopeError:
        problem = ("Boomerang may not read your store's locations (the read_locations permission is missing); "
                   "reconnect the store to grant it. The current choice is kept.")
    except ShopifyError as error:
        current_app.logger.warning("locations of %s unavailable: %s", account.shop_domain, error)
        problem = ("Shopify is slow or unreachable right now, so your store's locations could not be listed. "
                   "The current choice is kept; reload the page in a minute to change it.")
    choices = [("", "Shop's default location")] + listed
    stored = str(account.restock_location_id or "")
    if stored and stored not in {value for value, _ in listed}:
        choices.append((stored, f"Location {stored} (current choice{'' if problem else ', no longer in the store'})"))
    form.restock_location_id.choices = choices
    return problem


@bp.post("/settings/return-action")
@admin_required
def return_action_settings():
    """When options are issued (first scan, processing, manual), where and whether items restock."""
    account = current_account()
    action_form = _action_form(account)
    problem = _load_locations(account, action_form)
    if action_form.validate_on_submit():
        account.return_action = action_form.return_action.data
        account.restock_location_id = action_form.location_id()
        account.restock_returned_units = action_form.restock_returned_units.data
        db.session.commit()
        flash("Return action saved.", "success")
        return redirect(url_for("dashboard.settings") + "#return-action", code=303)
    return _settings_page(account, action_form=action_form, locations=problem, status=422)


@bp.post("/settings/issuing")
@admin_required
def issuing_settings():
    """How exchanges are sent (Shopify's exchanges on the original order, or a separate $0 order)
    and who tells the customer that something was issued (Shopify, or Boomerang's email)."""
    account = current_account()
    issuing_form = IssuingSettingsForm()
    if issuing_form.validate_on_submit():
        account.exchange_mode = issuing_form.exchange_mode.data
        account.issued_notice = issuing_form.issued_notice.data
        db.session.commit()
        flash("Credit note and exchange settings saved.", "success")
        return redirect(url_for("dashboard.settings") + "#issuing", code=303)
    return _settings_page(account, issuing_form=issuing_form, status=422)

"""Dashboard pages: home, staff, settings (general, returns, return action, credit notes and exchanges)."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.ask_first import ask_first, confirmed
from app.dashboard import bp
from app.domain.photos import PhotoMode
from app.dashboard.forms import COLOUR, RemoveStaffForm, ReturnActionForm, StaffForm
from app.dashboard.settings_forms import SettingsForm, email_field_name
from app.domain.contrast import (LINK_SURFACES, WHITE, Palette, contrast_ratio, nearest_passing_shade, portal_palette,
                                 shown_ratio, white_text_verdict)
from app.domain.vocabulary import EmailKind, ItemResolution, OptionMode, ReturnStatus
from app.domain.fees import percentage_lines
from app.dashboard.scope import admin_required, current_account, get_scoped_or_404, scoped
from app.extensions import db
from app.dashboard.returns_list import ACTIVE, NEEDS_DECISION, count_listed
from app.models import Order, Return, TrackingEvent, User
from app.query_params import query_arg
from app.services.accounts import AccountError, add_staff, remove_user, save_settings
from app.services.connect import CAPPED_RETURN_WINDOW_DAYS, window_cap_applies
from app.services.rules_mode import rules_mode_refusal
from app.services.shopify_access import NotConnected, client_for
from app.services.webhook_health import webhook_health
from app.shopify.errors import MissingScopeError, ShopifyError
from app.shopify.issuing import list_locations
from app.i18n import LANGUAGES


# The overview's counts of returns: each is the returns list under these filters, and links to it.
OVERVIEW_LISTS = (("in progress", {"status": ACTIVE}), ("with a failed item", {"issue": ItemResolution.FAILED}),
                  ("awaiting a decision", {"issue": NEEDS_DECISION}),
                  ("awaiting review", {"status": ReturnStatus.REQUESTED.value}))


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
        if not confirmed():
            user = get_scoped_or_404(User, user_id)
            return ask_first(f"Remove {user.email}? They will no longer be able to log in.",
                             layout="dashboard/base.html", button=f"Remove {user.email}",
                             back_url=url_for("dashboard.staff"))
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
    """Every setting on one page, saved together by one Save: all of them, or none with each
    refusal next to its field and everything typed kept."""
    account = current_account()
    form = SettingsForm(data=_stored_settings(account))
    locations_problem = _load_locations(account, form)
    if request.method == "POST":
        valid = form.validate_on_submit()
        # Every check runs, so each refusal shows beside its field at once.
        checks = [_window_within_cap(form, account), _rules_mode_allowed(account, form)]
        if valid and all(checks):
            save_settings(account, _settings(form))
            flash("Settings saved.", "success")
            return redirect(url_for("dashboard.settings"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("dashboard/settings.html", account=account, form=form,
                           locations_problem=locations_problem, credit_kind=credit_kind(account),
                           preview=colour_preview(form.primary_color.data)), status


@bp.get("/settings/colour-preview")
@admin_required
def settings_colour_preview():
    """The portal's button and link in the colour being typed, and whether they read (htmx)."""
    return render_template("dashboard/_colour_preview.html",
                           preview=colour_preview(query_arg("primary_color", "")))


def colour_preview(colour) -> dict:
    """What the preview shows for `colour`: the portal's palette and how well it reads; for a colour
    white text cannot be read on, that (white on it, as it would be) beside the nearest shade that
    reads; or why it is not a colour."""
    colour = (colour or "").strip().lower()
    if not COLOUR.fullmatch(colour):
        return {"problem": "Use a colour like #1f6feb."}
    verdict = white_text_verdict(colour)
    if verdict:
        return {"verdict": verdict, "palette": Palette(button=colour, on_button=WHITE, link=colour),
                "suggestion": portal_palette(nearest_passing_shade(colour, WHITE))}
    palette = portal_palette(colour)
    return {"palette": palette,
            "button_ratio": shown_ratio(contrast_ratio(palette.on_button, palette.button)),
            "link_ratio": shown_ratio(min(contrast_ratio(palette.link, s) for s in LINK_SURFACES))}


def _stored_settings(account) -> dict:
    """The form's values from the account (lists shown one entry per line)."""
    return {
        "name": account.name, "return_window_days": account.return_window_days,
        "return_window_basis": account.return_window_basis,
        "order_storage_months": account.order_storage_months, "logo_url": account.logo_url,
        "primary_color": account.primary_color, "locale": account.locale,
        "languages": list(account.languages) if account.languages is not None else list(LANGUAGES),
        "option_mode": account.option_mode, "exchange_enabled": account.exchange_enabled,
        "review_mode": account.review_mode,
        "excluded_product_tags": "\n".join(account.excluded_product_tags or []),
        "return_reasons": "\n".join(account.return_reasons or []),
        "photos_required_reasons": "\n".join(_photo_reasons(account, PhotoMode.REQUIRED)),
        "photos_optional_reasons": "\n".join(_photo_reasons(account, PhotoMode.OPTIONAL)),
        "photos_per_item": account.photos_per_item,
        "return_action": account.return_action, "restock_location_id": str(account.restock_location_id or ""),
        "restock_returned_units": account.restock_returned_units,
        "exchange_mode": account.exchange_mode, "issued_notice": account.issued_notice,
        "return_address": account.return_address or "", "return_instructions": account.return_instructions or "",
        "restocking_fees": percentage_lines(account.restocking_fees),
        "return_shipping_fee": f"{account.return_shipping_fee:.2f}" if account.return_shipping_fee else "",
        "credit_bonus": account.credit_bonus or "", "exchange_bonus": account.exchange_bonus or "",
        "staff_may_export": account.staff_may_export,
        **{email_field_name(kind): kind.value not in (account.shopper_emails_off or ()) for kind in EmailKind},
    }


def _photo_reasons(account, mode: PhotoMode) -> list[str]:
    """The account's reasons (in their order) whose photos are `mode`."""
    return [r for r in account.return_reasons or [] if (account.photo_modes or {}).get(r) == mode]


def _settings(form: SettingsForm) -> dict:
    """Every section of a valid settings form, as the account attributes it sets."""
    return {
        "name": form.name.data,
        "return_window_days": form.return_window_days.data,
        "return_window_basis": form.return_window_basis.data,
        "order_storage_months": form.order_storage_months.data,
        "logo_url": form.logo_url.data or None,
        "primary_color": form.primary_color.data.lower(),
        "locale": form.locale.data,
        "languages": form.offered_languages(),
        "option_mode": form.option_mode.data,
        "exchange_enabled": form.exchange_enabled.data,
        "review_mode": form.review_mode.data,
        "excluded_product_tags": form.tags(),
        "return_reasons": form.reasons(),
        "photo_modes": form.photo_modes(),
        "photos_per_item": form.photos_per_item.data,
        "return_action": form.return_action.data,
        "restock_location_id": form.location_id(),
        "restock_returned_units": form.restock_returned_units.data,
        "exchange_mode": form.exchange_mode.data,
        "issued_notice": form.issued_notice.data,
        "return_address": form.address() or None,  # empty: the shop's address applies
        "return_instructions": form.instructions() or None,
        "restocking_fees": form.fee_percentages(),
        "return_shipping_fee": form.shipping_fee(),
        **form.bonuses(),
        "staff_may_export": form.staff_may_export.data,
        "shopper_emails_off": form.emails_off(),
    }


def credit_kind(account) -> str:
    """Which credit a credit note becomes on this shop, and why (store credit needs Shopify's new
    customer accounts: docs/reference/shopify-returns.md §6.4)."""
    if account.customer_accounts_version == "NEW_CUSTOMER_ACCOUNTS":
        return "Store credit (the shop uses new customer accounts)"
    if account.customer_accounts_version:
        return "Gift cards (store credit needs Shopify's new customer accounts; this shop uses classic accounts)"
    return "Unknown until the store is connected"


def _window_within_cap(form: SettingsForm, account) -> bool:
    """Without read_all_orders, Shopify hides orders older than 60 days, so a return must be
    issuable inside that: the window is capped (DESIGN §3) and the field says why."""
    days = form.return_window_days.data
    if isinstance(days, int) and window_cap_applies(account) and days > CAPPED_RETURN_WINDOW_DAYS:
        form.return_window_days.errors.append(
            f"At most {CAPPED_RETURN_WINDOW_DAYS} days: without the read_all_orders permission Shopify hides "
            f"orders older than 60 days, and refunds must be issued before then.")
        return False
    return True


def _rules_mode_allowed(account, form: SettingsForm) -> bool:
    """Switching to rules mode needs a rule that can decide something (the field says why not)."""
    if form.option_mode.data != OptionMode.RULES.value or account.option_mode == OptionMode.RULES.value:
        return True
    refusal = rules_mode_refusal(account.id)
    if refusal:
        form.option_mode.errors = [*form.option_mode.errors, refusal]
    return refusal is None


def _load_locations(account, form: ReturnActionForm) -> str | None:
    """Fill the restock location choices from the shop; the reason when they could not be listed
    (the stored choice is then kept as the only other option, so saving never loses it)."""
    problem, listed = None, []
    try:
        client = client_for(account, read_timeout=current_app.config["SETTINGS_SHOPIFY_TIMEOUT"])
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

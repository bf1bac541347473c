"""Customer portal pages: find the order, choose items, review, submit, follow the return.

Every step is a plain form post that works without JavaScript; htmx only loads the exchange
variant picker in place. Views parse, call `app.services.return_submission`, and render.
"""
import re
import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from app.ask_first import ask_first, confirmed
from app.domain.returns import ReturnRefused, TransitionRefused
from app.domain.photos import ACCEPT, PhotoMode, asks_photos
from app.domain.vocabulary import Option
from app import rate_limits
from app.extensions import db
from app.models import Account, Order, Return
from app.portal import bp
from app.portal import session as portal
from app.portal.forms import CancelForm, LookupForm, TrackingForm, hidden_fields, read_choices
from app.portal.status import bonus_outcome, compose_confirmation, customer_events, item_outcome, timeline
from app.portal.variants import VariantsUnavailable, live_variants
from app.query_params import query_arg
from app.services import labels
from app.services import photos as photo_service
from app.services import portal_returns
from app.services import return_eligibility as eligible
from app.services import return_submission as service
from app.services import shopify_returns, submission_rules
from app.services.return_bonus import offered, planned_bonus
from app.services.return_fees import planned_estimate
from app.services.return_workflow import cancel_return
from app.services.tracking_numbers import set_tracking
from app.uploads import photo_response
from app.i18n import N_, current_locale, gettext as _, translate

PHOTO_FIELD = re.compile(r"^line-(\d{1,18})-photos$")
NOT_FOUND = N_("We could not find that order. Check the order number (it is in your order confirmation "
             "email) and use the email address you ordered with.")


def _account(slug: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.slug == slug))
    if account is None:
        abort(404)
    return account


@bp.route("/<slug>", methods=["GET", "POST"])
def lookup(slug: str):
    """Find the order by number and email; success opens a portal session for that order.

    Failed look-ups are limited per shop and address and per shop and order number
    (app/rate_limits.py); a look-up that finds its order is never counted."""
    account = _account(slug)
    form = LookupForm()
    not_found = False
    if form.validate_on_submit():
        names = portal.normalise_order_number(form.order_number.data)
        address, target = (slug, request.remote_addr or ""), (slug, names[-1].casefold() if names else "")
        if rate_limits.PORTAL_LOOKUP.refused(address, target):
            return render_template("portal/lookup.html", account=account, form=form, too_many=True), 429, \
                {"Retry-After": "60"}
        order_id = portal.find_order_id(account.id, form.order_number.data, form.email.data)
        if order_id is not None:
            portal.open_session(account, order_id)
            # Coming back with nothing more to return: straight to the return already made.
            only = portal_returns.the_only_return(account, db.session.get(Order, order_id))
            if only is not None:
                return redirect(url_for("portal.status", slug=slug, token=portal.status_token(only)), code=303)
            return redirect(url_for("portal.items", slug=slug), code=303)
        rate_limits.PORTAL_LOOKUP.failed(address, target)
        not_found = True
    status = 200 if request.method == "GET" else 422
    return render_template("portal/lookup.html", account=account, form=form, not_found=not_found,
                           not_found_message=NOT_FOUND), status


def _session_order_or_redirect(account: Account):
    order = portal.session_order(account)
    if order is None:
        flash(_("Please find your order first."), "info")
    return order


def _render_items(account, order, state=None, errors=None, problem=None, status=200):
    """The choose-items page; lines chosen for exchange get their variant picker inline
    (that is how exchange works without JavaScript)."""
    state, errors = state or {}, errors or {}
    verdicts = eligible.eligibility(account, order)
    pickers = {}
    variants_for = live_variants(account)
    options = eligible.allowed_options(account)
    line_rules = _line_rules(account, order, state) if options else {}
    line_options = {line.id: _options_of(options, line_rules.get(line.id)) for line in order.lines}
    for line in order.lines:
        fields = state.get(line.id, {})
        # Only what the page shows reads Shopify (a kept draft may predate exchanges being switched off).
        if fields.get("return") == "1" and fields.get("option") == Option.EXCHANGE and \
                Option.EXCHANGE in line_options[line.id]:
            pickers[line.id] = _picker(line, variants_for)
    existing = portal_returns.returns_of_order(account, order)
    return render_template(
        "portal/items.html", account=account, order=order, verdicts=verdicts, state=state, errors=errors,
        pickers=pickers, options=options, line_options=line_options, line_rules=line_rules,
        keep_option=submission_rules.keep_option, exchange_only=submission_rules.exchange_only,
        photos=_photo_context(account, order),
        bonuses=dict(zip((Option.CREDIT, Option.EXCHANGE), offered(account), strict=True)),
        value_of=eligible.item_value, problem=problem, existing=existing,
        in_returns=portal_returns.returns_by_line(existing), token_of=portal.status_token,
        any_returnable=any(v.returnable for v in verdicts.values())), status


def _line_rules(account, order, state) -> dict:
    """Each line's rule decision, read with the reason the shopper picked (none yet: no reason),
    in one pass (app/services/submission_rules.py). The server decides again at submission with
    the posted reasons, and refuses what does not fit."""
    reasons = account.return_reasons or []
    wanted = [(line.id, r if (r := state.get(line.id, {}).get("reason")) in reasons else "") for line in order.lines]
    found = submission_rules.item_rules(account, order, wanted)
    return {line_id: found[(line_id, reason)] for line_id, reason in wanted}


def _options_of(options: tuple, rule) -> tuple:
    """The options a line offers: only the exchange for an Exchange only line, only the rule's
    refund or credit note for a Keep item line, else the shop's."""
    if submission_rules.exchange_only(rule):
        return tuple(o for o in options if o == Option.EXCHANGE)
    keep = submission_rules.keep_option(rule)
    return (keep,) if keep is not None else options


def _picker(line, variants_for) -> dict:
    try:
        choices = eligible.exchange_choices(line, variants_for(line.product_id)) if line.product_id else []
    except VariantsUnavailable as error:
        return {"error": translate(str(error)), "variants": []}
    return {"error": None if choices else _("No other size or colour is in stock right now."),
            "variants": [(v.variant_id, eligible.variant_label(v)) for v in choices]}


@bp.route("/<slug>/items", methods=["GET", "POST"])
def items(slug: str):
    """Choose items, quantities, reasons and (in customer-choice mode) options; POST → review."""
    account = _account(slug)
    order = _session_order_or_redirect(account)
    if order is None:
        return redirect(url_for("portal.lookup", slug=slug), code=303)
    if request.method == "GET":
        # Back from the review (or a reload) finds the choices as the shopper left them.
        return _render_items(account, order, portal.draft(order))
    state, selections, errors = read_choices(request.form, bool(eligible.allowed_options(account)))
    portal.save_draft(order, state)
    key = portal.photo_key()
    if "remove_photo" in request.form:
        photo_service.remove_pending(account, key, request.form.get("remove_photo", ""))
        return _render_items(account, order, state)
    # Photos chosen in this post are kept first (all of them or, one refused, none), so they
    # survive whatever else the shopper must fix.
    photo_errors = photo_service.add_pending(account, order, key, _uploads())
    if request.form.get("action") == "edit" or photo_errors:
        # "Change my choices", "Upload photos", or "Show sizes and colours" without JavaScript.
        return _render_items(account, order, state, _with_photo_errors({}, photo_errors),
                             status=422 if photo_errors else 200)
    errors = _with_photo_errors(errors, photo_service.problems(account, order, key, selections))
    if errors:
        return _render_items(account, order, state, errors, status=422)
    try:
        planned = service.check_selections(account, order, selections, live_variants(account))
    except (ReturnRefused, VariantsUnavailable) as error:
        return _render_items(account, order, state, problem=translate(str(error)), status=422)
    estimate = planned_estimate(account, planned)
    return render_template("portal/review.html", account=account, order=order,
                           planned=list(zip(planned, estimate.items, planned_bonus(account, planned), strict=True)),
                           estimate=estimate,
                           photos=_photo_context(account, order),
                           hidden=hidden_fields(selections), token=secrets.token_urlsafe(32),
                           keep_option=submission_rules.keep_option,
                           rules_mode=not eligible.allowed_options(account))


def _uploads() -> dict[int, list]:
    """The photo files posted per order line (`line-<id>-photos`), empty file inputs left out."""
    found = {}
    for name in request.files:
        match = PHOTO_FIELD.match(name)
        if match:
            files = [f.stream for f in request.files.getlist(name) if f.filename]
            if files:
                found[int(match.group(1))] = files
    return found


def _with_photo_errors(errors: dict, photo_errors: dict[int, str]) -> dict:
    for line_id, message in photo_errors.items():
        errors.setdefault(line_id, {})["photos"] = message
    return errors


def _photo_context(account, order) -> dict:
    """What the items and review pages need to show photo fields and this session's photos."""
    modes = account.photo_modes or {}
    return {"asked": asks_photos(modes), "accept": ACCEPT, "limit": account.photos_per_item,
            "pending": photo_service.pending(account, order, portal.photo_key()),
            "required": [r for r in account.return_reasons if modes.get(r) == PhotoMode.REQUIRED],
            "optional": [r for r in account.return_reasons if modes.get(r) == PhotoMode.OPTIONAL],
            "mode_of": lambda reason: modes.get(reason or "", PhotoMode.NOT_ASKED.value)}


@bp.get("/<slug>/photos/<key>")
def pending_photo(slug: str, key: str):
    """One of this browser's uploaded photos (before the return is sent); anyone else's is a 404."""
    account = _account(slug)
    found = photo_service.pending_photo(account, portal.photo_key(), key)
    if found is None:
        abort(404)
    return photo_response(*found)


@bp.get("/<slug>/items/<int:line_id>/variants")
def variants(slug: str, line_id: int):
    """The exchange picker for one line (htmx fragment; a whole page without htmx)."""
    account = _account(slug)
    order = portal.session_order(account)
    line = next((ln for ln in order.lines if ln.id == line_id), None) if order else None
    if line is None or Option.EXCHANGE not in eligible.allowed_options(account):
        abort(404)
    picker = _picker(line, live_variants(account))
    # htmx sends the size chosen before (switching to a refund and back keeps it).
    chosen = query_arg("chosen") or query_arg(f"line-{line_id}-variant", "")
    return render_template("portal/_partials/variant_picker.html", account=account, line=line, picker=picker,
                           chosen=chosen)


@bp.post("/<slug>/submit")
def submit(slug: str):
    """Create the return (once per submission token) and show its confirmation."""
    account = _account(slug)
    order = portal.session_order(account)
    if order is None:
        return _refused(account, _("Your session has ended, so nothing was sent. Please find your order again."))
    _state, selections, errors = read_choices(request.form, bool(eligible.allowed_options(account)))
    if errors:
        first = next(iter(next(iter(errors.values())).values()))
        return _refused(account, _("Some choices were missing or not valid (%(problem)s), so nothing was sent.",
                                          problem=first))
    posted_order = request.form.get("order_id", "")
    if posted_order != str(order.id):
        return _refused(account, _("That order does not belong to this session, so nothing was sent."))
    # Shopify's returnable units, read fresh (a merchant may have returned some in Shopify since).
    shopify_returns.refresh_returnable_now(account, order)
    try:
        ret, _created = service.create_return(
            account, order.id, selections, request.form.get("submission_token", ""),
            variants_for=live_variants(account), actor=order.email, fees_shown=request.form.get("fees_shown"),
            compose_email=lambda r: compose_confirmation(account, r, _status_url(r)),
            attach_photos=lambda r: photo_service.attach(account, portal.photo_key(), r),
            locale=current_locale())
    except (ReturnRefused, VariantsUnavailable) as error:
        return _refused(account, translate(str(error)))
    portal.drop_draft()
    return redirect(url_for("portal.confirmation", slug=slug, token=portal.status_token(ret)), code=303)


def _refused(account: Account, message: str):
    return render_template("portal/problem.html", account=account, message=message), 422


def _status_url(ret: Return) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + url_for("portal.status", slug=_slug_of(ret), token=portal.status_token(ret))


def _slug_of(ret: Return) -> str:
    return db.session.get(Account, ret.account_id).slug


class LinkNotFound(Exception):
    """A status link that names no return of this shop (mistyped, cut short, or the return is gone)."""


@bp.errorhandler(LinkNotFound)
def _link_not_found(error):
    # The shop's own page with the way back to the lookup, not the app's bare 404.
    account = _account((request.view_args or {}).get("slug", ""))
    return render_template("portal/link_not_found.html", account=account), 404


@bp.errorhandler(portal.ExpiredLink)
def _link_expired(error):
    # Gone, not missing: the lookup (order number and email) gives the shopper a fresh link.
    account = _account((request.view_args or {}).get("slug", ""))
    return render_template("portal/link_expired.html", account=account, form=LookupForm()), 410


def _return_or_404(account: Account, token: str) -> Return:
    ret = portal.return_from_token(account, token)
    if ret is None:
        raise LinkNotFound()
    return ret


@bp.get("/<slug>/returns/<signed:token>/confirmed")
def confirmation(slug: str, token: str):
    """What happens next, and the tracking number form."""
    account = _account(slug)
    ret = _return_or_404(account, token)
    return render_template("portal/confirmation.html", account=account, ret=ret, token=token,
                           form=TrackingForm())


@bp.get("/<slug>/returns/<signed:token>")
def status(slug: str, token: str):
    """The return's status and timeline, from the signed link; tracking and cancel while OPEN."""
    account = _account(slug)
    ret = _return_or_404(account, token)
    return _render_status(account, ret, token)


def _render_status(account, ret, token, form=None, status=200):
    # The browser that looked this return's order up may go back to the order.
    order = portal.session_order(account)
    shown_in_full = portal_returns.reveal_gift_card_codes(ret)
    own_order = order if order is not None and order.id == ret.order_id else None
    return render_template("portal/status.html", account=account, ret=ret, token=token, own_order=own_order,
                           all_returned=own_order is not None and portal_returns.nothing_left_to_return(account, order),
                           form=form or TrackingForm(tracking_number=ret.tracking_number),
                           cancel_form=CancelForm(), steps=timeline(ret),
                           outcome_of=lambda item, currency: item_outcome(item, currency, item.id in shown_in_full),
                           bonus_of=bonus_outcome,
                           events=customer_events(ret), label=labels.label_of(ret.id),
                           label_waits=labels.waits_for_approval(account, ret)), status


@bp.post("/<slug>/returns/<signed:token>/tracking")
def tracking(slug: str, token: str):
    """Add or correct the tracking number (only while the return is OPEN)."""
    account = _account(slug)
    ret = _return_or_404(account, token)
    form = TrackingForm()
    valid = form.validate_on_submit()  # once: a refused value is shown again cleaned, and must stay refused
    if valid and labels.number_from_label(ret):
        form.tracking_number.errors = [_("Your prepaid label's tracking number is already on this return.")]
    elif valid and ret.keep_only:  # the page offers no form: a forged post learns why
        form.tracking_number.errors = [_("You keep the items of this return: there is no parcel to track.")]
    elif valid:
        try:
            number = set_tracking(ret, form.tracking_number.data, ret.customer_email)
        except (ReturnRefused, TransitionRefused) as error:
            form.tracking_number.errors = [translate(str(error))]
        else:
            flash(_("Thank you. Tracking number %(number)s is saved.", number=number), "success")
            return redirect(url_for("portal.status", slug=slug, token=token), code=303)
    return _render_status(account, ret, token, form=form, status=422)


@bp.post("/<slug>/returns/<signed:token>/cancel")
def cancel(slug: str, token: str):
    """Cancel the return before it ships."""
    account = _account(slug)
    ret = _return_or_404(account, token)
    if CancelForm().validate_on_submit():
        if not confirmed():
            rma = Markup('<span class="rma-link">{}</span>').format(ret.rma_number)
            question = Markup(escape(_("Cancel return %(rma)s? This cannot be undone.", rma="\x00"))).replace(
                "\x00", rma)
            return ask_first(question, layout="portal/base.html",
                             button=_("Cancel this return"), account=account,
                             back_url=url_for("portal.status", slug=slug, token=token))
        try:
            cancel_return(ret, ret.customer_email, by_customer=True)
        except TransitionRefused as error:
            flash(translate(str(error)), "error")
        else:
            flash(_("Return %(rma)s is cancelled. Nothing will be refunded or exchanged.", rma=ret.rma_number),
                  "success")
    return redirect(url_for("portal.status", slug=slug, token=token), code=303)

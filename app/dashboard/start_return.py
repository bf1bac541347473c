"""Staff start a return for a customer from the order page (a phone call, a shop counter).

The same steps as the portal — choose items, reason and option (as the shop's mode allows), see
what it will issue, confirm — made by the same service (`create_return`), with the staff member
as the actor in the return's history. Plain forms: the exchange sizes appear once Exchange is
chosen and the form sent, so it all works without JavaScript.
"""
import secrets
from collections import defaultdict
from decimal import Decimal

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.scope import current_account, get_scoped_or_404
from app.domain.returns import ReturnRefused
from app.domain.vocabulary import Option, ReturnAction
from app.models import Order
from app.portal import session as portal
from app.portal.forms import hidden_fields, read_choices
from app.portal.status import compose_confirmation
from app.portal.variants import VariantsUnavailable, live_variants
from app.services import return_eligibility as eligible
from app.services import return_submission as service

# When the options are issued, by return action: what the confirmation promises.
ISSUED_WHEN = {ReturnAction.FIRST_SCAN: "when the carrier first scans the parcel",
               ReturnAction.PROCESSING: "when staff mark the return processed",
               ReturnAction.MANUAL: "when staff close the return"}


def _choices(account, order):
    """(state, selections, errors) of the posted form."""
    return read_choices(request.form, bool(eligible.allowed_options(account)))


def _pickers(account, order, state) -> dict:
    """The exchange sizes of each line for which Exchange is chosen (a live Shopify read)."""
    pickers, variants_for = {}, live_variants(account)
    for line in order.lines:
        fields = state.get(line.id, {})
        if fields.get("return") == "1" and fields.get("option") == Option.EXCHANGE:
            try:
                choices = eligible.exchange_choices(line, variants_for(line.product_id)) if line.product_id else []
            except VariantsUnavailable as error:
                pickers[line.id] = {"error": str(error), "variants": []}
                continue
            pickers[line.id] = {"error": None if choices else "No other size or colour is in stock right now.",
                                "variants": [(v.variant_id, eligible.variant_label(v)) for v in choices]}
    return pickers


def _form_page(account, order, state=None, errors=None, problem=None, status=200):
    state = state or {}
    return render_template(
        "dashboard/start_return.html", account=account, order=order, state=state, errors=errors or {},
        problem=problem, verdicts=eligible.eligibility(account, order), options=eligible.allowed_options(account),
        pickers=_pickers(account, order, state)), status


def _summary(planned) -> list[tuple[str, int, Decimal]]:
    """Per option: units and their estimated value, in the order Refund, Credit note, Exchange."""
    units, value = defaultdict(int), defaultdict(Decimal)
    for item in planned:
        key = item.selection.option or ""
        units[key] += item.selection.quantity
        value[key] += item.value
    order = [*Option, ""]
    return [(key, units[key], value[key]) for key in order if key in units]


@bp.route("/orders/<int:order_id>/return", methods=["GET", "POST"])
def start_return(order_id: int):
    """Choose items, reasons and options; POST → the confirmation saying what will be issued."""
    account = current_account()
    order = get_scoped_or_404(Order, order_id)
    if request.method == "GET":
        return _form_page(account, order)
    state, selections, errors = _choices(account, order)
    if request.form.get("action") == "edit":
        return _form_page(account, order, state)
    if errors:
        return _form_page(account, order, state, errors, status=422)
    try:
        planned = service.check_selections(account, order, selections, live_variants(account))
    except (ReturnRefused, VariantsUnavailable) as error:
        return _form_page(account, order, state, problem=str(error), status=422)
    return render_template(
        "dashboard/start_return_confirm.html", account=account, order=order, planned=planned,
        summary=_summary(planned), hidden=hidden_fields(selections), token=secrets.token_urlsafe(32),
        rules_mode=not eligible.allowed_options(account),
        issued_when=ISSUED_WHEN.get(account.return_action, "when the return is processed"))


@bp.post("/orders/<int:order_id>/return/confirm")
def confirm_start_return(order_id: int):
    """Create the return (once per confirmation), optionally email the customer the status link."""
    account = current_account()
    order = get_scoped_or_404(Order, order_id)
    state, selections, errors = _choices(account, order)
    if errors:
        return _form_page(account, order, state, errors, status=422)
    email_customer = bool(request.form.get("email_customer")) and bool(order.email)

    def compose(ret):
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        link = base + url_for("portal.status", slug=account.slug, token=portal.status_token(ret))
        return compose_confirmation(account, ret, link)

    try:
        ret, created = service.create_return(
            account, order.id, selections, request.form.get("submission_token", ""),
            variants_for=live_variants(account), actor=current_user.email, started_by=current_user.email,
            compose_email=compose if email_customer else None)
    except (ReturnRefused, VariantsUnavailable) as error:
        return _form_page(account, order, state, problem=str(error), status=422)
    if created:
        who = order.customer_name or order.email or "the customer"
        emailed = " They were emailed the status link." if email_customer else ""
        flash(f"Return {ret.rma_number} started for {who}.{emailed}", "success")
    return redirect(url_for("dashboard.return_detail", return_id=ret.id), code=303)

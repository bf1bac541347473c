"""Staff actions on one return: tracking number, receive, process, close (also the list's quick
close), cancel, items decided by hand or retried, and refunds made outside Shopify recorded.
Staff and admins may all do these.

Receive, process, close and cancel ask first (GET: a confirmation saying what will be issued);
the POST acts only on the token of what was shown. Every change goes through
app.services.return_workflow; a refusal (the lifecycle or the input says no) is shown on the page
with a 4xx, and nothing changes.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.confirm_pages import NOT_CONFIRMED, OVERRIDE_NEEDED, confirm_page, safe_next
from app.dashboard.forms import ActionForm, DecideItemForm, OutsideRefundForm, TrackingForm
from app.dashboard.return_shopify import AUTHORISED_ONLY, can_record_outside_refund, payment_only_authorised
from app.dashboard.returns import outside_refund_prefix, return_page
from app.dashboard.scope import csrf_checked, current_account, get_scoped_or_404
from app.domain.formatting import format_money
from app.domain.returns import ReturnRefused, TransitionRefused
from app.domain.vocabulary import Option
from app.htmx import is_htmx
from app.models import Return, ReturnItem
from app.query_params import query_arg
from app.services import return_workflow as workflow
from app.services.return_confirm import NotConfirmed, confirmed_plan, plan_action
from app.services.return_settlement import record_outside_refund
from app.services.shopify_returns import queue_for_return
from app.portal.variants import VariantsUnavailable, live_variants
from app.services.return_eligibility import exchange_choices, variant_label
from app.services.tracking_numbers import TrackingNumberTaken

RETURN = "/returns/<int:return_id>"


def _checked_return(return_id: int, form=None) -> Return:
    """The account's return (404 otherwise), once the form's CSRF token checked out."""
    ret = get_scoped_or_404(Return, return_id)
    csrf_checked(form)
    return ret


def _item(ret: Return, item_id: int) -> ReturnItem:
    item = next((i for i in ret.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


def _done(ret: Return, message: str):
    flash(message, "success")
    return redirect(url_for("dashboard.return_detail", return_id=ret.id), code=303)


def _refused(ret: Return, error: Exception):
    return return_page(ret, error=str(error), status=409)


def _actor() -> str:
    return current_user.email


@bp.post(f"{RETURN}/tracking")
def return_tracking(return_id: int):
    """Set or correct the tracking number (until the parcel is received)."""
    form = TrackingForm()
    ret = _checked_return(return_id, form)
    if form.errors:
        return return_page(ret, tracking_form=form, status=422)
    try:
        number = workflow.set_tracking_by_staff(ret, form.tracking_number.data, _actor())
    except TrackingNumberTaken as taken:
        form.tracking_number.errors = [taken.for_staff]
        return return_page(ret, tracking_form=form, status=422)
    except ReturnRefused as refused:
        form.tracking_number.errors = [str(refused)]
        return return_page(ret, tracking_form=form, status=422)
    except TransitionRefused as refused:
        return _refused(ret, refused)
    return _done(ret, f"Tracking number {number} saved.")


# What each status action does once confirmed, and what it says (moved, or already there).
_STEPS = {
    "receive": (lambda ret, actor, early: workflow.mark_received(ret, actor), "Marked received.", "Already received."),
    "process": (lambda ret, actor, early: workflow.process_return(ret, actor, without_receipt=early),
                "Marked processed.", "Already processed."),
    "close": (lambda ret, actor, early: workflow.close_return(ret, actor), "Closed.", "Already closed."),
    "cancel": (lambda ret, actor, early: workflow.cancel_return(ret, actor) or True,
               "Return cancelled. Nothing will be issued.", ""),
}


def _status_action(return_id: int, action: str):
    """GET: what the action will do, asked first (a page: no JavaScript needed). POST: do it, if
    the posted token is still what was shown; otherwise show it again, as it is now (409)."""
    ret = get_scoped_or_404(Return, return_id)
    back = safe_next(query_arg("next", source=request.values))
    if request.method == "GET":
        return _confirm(ret, plan_action(current_account(), action, [ret.id]), back)
    _checked_return(return_id)
    posted = request.form.get("confirm")
    try:
        plan = confirmed_plan(current_account(), action, [ret.id], posted)
    except NotConfirmed as changed:
        return _confirm(ret, changed.plan, back, error=str(changed) if posted else NOT_CONFIRMED, status=409)
    early = request.form.get("without_receipt") == "y"
    if plan.needs_override and not early:
        return _confirm(ret, plan, back, override_error=OVERRIDE_NEEDED, status=422)
    step, done, unchanged = _STEPS[action]
    try:
        moved = step(ret, _actor(), early)
    except TransitionRefused as refused:
        if back:
            flash(f"{ret.rma_number}: {refused}", "error")
            return redirect(back, code=303)
        return _refused(ret, refused)
    message = done if moved else unchanged
    if back:
        flash(f"{ret.rma_number}: {message}", "success")
        return redirect(back, code=303)
    return _done(ret, f"Return {ret.rma_number} closed." if action == "close" and moved else message)


def _confirm(ret: Return, plan, back: str | None, **shown):
    """The confirmation of an action on one return; it goes back where it came from."""
    hidden = [("next", back)] if back else []
    warning = AUTHORISED_ONLY if plan.action in ("process", "close") and payment_only_authorised(ret) else None
    return confirm_page(plan, url_for(f"dashboard.return_{plan.action}", return_id=ret.id),
                        back_url=back or url_for("dashboard.return_detail", return_id=ret.id),
                        back_label="Back to the list" if back else f"Back to return {ret.rma_number}",
                        hidden=hidden, warning=warning, **shown)


@bp.route(f"{RETURN}/receive", methods=["GET", "POST"])
def return_receive(return_id: int):
    """The parcel has arrived (items refunded at first scan are restocked now)."""
    return _status_action(return_id, "receive")


@bp.route(f"{RETURN}/process", methods=["GET", "POST"])
def return_process(return_id: int):
    """The items have been checked (under the Processing action this issues the options); before
    the parcel was received only with "Process without receipt" ticked."""
    return _status_action(return_id, "process")


@bp.route(f"{RETURN}/cancel", methods=["GET", "POST"])
def return_cancel(return_id: int):
    """Cancel before the parcel is received and before the return action fired."""
    return _status_action(return_id, "cancel")


@bp.route(f"{RETURN}/close", methods=["GET", "POST"])
def return_close(return_id: int):
    """Close one return: from its page, or the list's quick close (which goes back to the list)."""
    return _status_action(return_id, "close")


def _exchange_choices(item: ReturnItem) -> tuple[list[tuple[int, str]], str | None]:
    """(variant id, label) of the product's other in-stock variants, read live from Shopify,
    or the reason there are none to offer."""
    account = current_account()
    if not account.exchange_enabled:
        return [], "Exchanges are switched off in the settings."
    if item.product_id is None:
        return [], f"{item.title} has no product in Shopify to exchange it for."
    try:
        variants = live_variants(account)(item.product_id)
    except VariantsUnavailable:
        return [], "Shopify did not answer in time. Try again in a minute, or choose a refund or credit note."
    choices = [(v.variant_id, variant_label(v)) for v in exchange_choices(item, variants)]
    return choices, None if choices else "No other size or colour of this product is in stock."


@bp.get(f"{RETURN}/items/<int:item_id>/exchange")
def return_item_exchange(return_id: int, item_id: int):
    """Choose the variant to send in exchange (htmx: the picker under the item; else a page)."""
    ret = get_scoped_or_404(Return, return_id)
    item = _item(ret, item_id)
    choices, error = _exchange_choices(item)
    template = "dashboard/_partials/exchange_picker.html" if is_htmx() else "dashboard/exchange_pick.html"
    return render_template(template, ret=ret, item=item, choices=choices, error=error,
                           action_form=ActionForm())


@bp.post(f"{RETURN}/items/<int:item_id>/decide")
def return_item_decide(return_id: int, item_id: int):
    """Decide an item nothing automated, or switch a failed one: refund, credit note, or an
    exchange for one of the product's in-stock variants."""
    form = DecideItemForm()
    ret = _checked_return(return_id, form)
    item = _item(ret, item_id)
    if form.errors:
        return return_page(ret, error=f"{item.title}: choose refund, credit note or exchange.", status=422)
    variant = {}
    if form.option.data == Option.EXCHANGE:
        choices, error = _exchange_choices(item)
        chosen = dict(choices).get(form.variant_id.data)
        if error or chosen is None:
            return return_page(ret, error=error or f"{item.title}: choose one of the variants in stock.",
                               status=422)
        variant = {"variant_id": form.variant_id.data, "variant_title": chosen}
    try:
        workflow.decide_item(item, form.option.data, _actor(), **variant)
    except ReturnRefused as refused:
        return return_page(ret, error=str(refused), status=422)
    except TransitionRefused as refused:
        return _refused(ret, refused)
    label = dict(form.option.choices)[form.option.data]
    if variant:
        label = f"{label} for {variant['variant_title']}"
    return _done(ret, f"{item.title}: {label} decided.")


@bp.post(f"{RETURN}/items/<int:item_id>/retry")
def return_item_retry(return_id: int, item_id: int):
    """Send a failed item back to be issued again with the same option."""
    ret = _checked_return(return_id)
    item = _item(ret, item_id)
    try:
        workflow.retry_item(item, _actor())
    except TransitionRefused as refused:
        return _refused(ret, refused)
    return _done(ret, f"{item.title}: issuing again.")


@bp.post(f"{RETURN}/items/<int:item_id>/outside-refund")
def return_item_outside_refund(return_id: int, item_id: int):
    """Record a refund staff made outside Shopify (cash, bank transfer) for a refund Shopify could
    not pay: the amount, how, and the date paid. The Shopify return then records the units with
    no money moved. A refusal is shown in the form with a 422, and nothing is written."""
    form = OutsideRefundForm(prefix=outside_refund_prefix(item_id))
    ret = _checked_return(return_id, form)
    item = _item(ret, item_id)
    if form.errors or not form.paid_after(ret.created_at.date()):
        return return_page(ret, refund_forms={item.id: form}, status=422)
    if not can_record_outside_refund(item):
        return return_page(ret, error=f"{item.title}: only a refund Shopify could not pay can be recorded as "
                           "refunded outside Shopify.", status=422)
    try:
        record_outside_refund(item, amount=form.amount_text(), method=form.method.data, paid_on=form.paid_at(),
                              actor=_actor())
    except ReturnRefused as refused:
        form.refuse(str(refused))
        return return_page(ret, refund_forms={item.id: form}, status=422)
    queue_for_return(item.return_)
    return _done(ret, f"{item.title}: refund of {format_money(item.outside_refund_amount, ret.currency)} made "
                      "outside Shopify recorded.")

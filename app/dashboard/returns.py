"""Returns in the dashboard: the staff list (filters, sorts, pages), one return's page, and the
Outbox of emails the app wrote. The actions are in return_actions.py and bulk.py."""
import math
from datetime import datetime, timezone

from flask import abort, render_template, request
from sqlalchemy import func, select

from app.dashboard import bp
from app.dashboard.forms import ActionForm, DecideItemForm, DeclineForm, OutsideRefundForm, TrackingForm
from app.dashboard.return_shopify import (AUTHORISED_ONLY, can_record_outside_refund, item_facts,
                                          payment_only_authorised, shopify_returns_of)
from app.dashboard.returns_list import ReturnFilterForm, filter_args, load_page
from app.dashboard.scope import current_account, get_scoped_or_404, scoped
from app.domain.tracking import STATE_LABELS as CARRIER_LABELS
from app.domain.triage import summarize_items
from app.extensions import db
from app.models import OutboxEmail, Return
from app.query_params import query_arg
from app.services.labels import label_of
from app.services.return_fees import return_estimate
from app.services import photos as photo_service
from app.services.return_confirm import plan_action
from app.services.return_review import shopify_way
from app.services.tracking_numbers import also_carried_by
from app.uploads import photo_response

PAGE_SIZE = 25

# A list row is also rendered alone (the quick Close answers with it), so what it needs is global.
bp.add_app_template_global(summarize_items, "summarize_items")
bp.add_app_template_global(CARRIER_LABELS, "carrier_labels")


@bp.get("/returns")
def returns():
    """The account's returns, a page at a time: searchable, filtered by status, option, issue
    state and dates, sorted; bad filter values are a 400 with the reason next to the field."""
    form = ReturnFilterForm(request.args)
    page = query_arg("page", 1)
    valid = form.validate()
    result = load_page(form if valid else None, page)
    filters = filter_args(request.args)
    return render_template("dashboard/returns.html", form=form, result=result, filters=filters,
                           filtered=bool({k: v for k, v in filters.items() if k not in ("sort", "per_page")}),
                           action_form=ActionForm(),
                           next_url=request.full_path.rstrip("?")), 200 if valid else 400


def return_page(ret: Return, *, error: str | None = None, tracking_form: TrackingForm | None = None,
                refund_forms: dict[int, OutsideRefundForm] | None = None, decline_form: DeclineForm | None = None,
                status: int = 200):
    """The return page, optionally with a refusal to show (the status code says which kind);
    ``refund_forms`` are posted outside-refund forms by item id, shown with their errors."""
    account = current_account()
    # The confirmations' plans read the return and its items afresh (populate_existing), so they
    # come first: everything below reads those same objects, and a job committing meanwhile shows
    # whole on the next load instead of half on this one (a new badge over the old details).
    plans = {action: plan_action(account, action, [ret.id]) for action in ("receive", "process", "close")}
    return render_template(
        "dashboard/return.html", ret=ret, action_form=ActionForm(), error=error,
        tracking_form=tracking_form or TrackingForm(formdata=None, data={"tracking_number": ret.tracking_number}),
        decide_form=DecideItemForm(formdata=None), action_label=account.return_action,
        exchange_enabled=account.exchange_enabled, in_shopify=shopify_returns_of(ret), facts=item_facts(ret),
        refund_forms=_refund_forms(ret, refund_forms or {}), also_carried_by=also_carried_by(ret),
        fees=return_estimate(ret),
        photos=photo_service.by_item(ret),
        plans=plans,
        authorised_only=AUTHORISED_ONLY if payment_only_authorised(ret) else None,
        decline_form=decline_form or DeclineForm(formdata=None), shopify_way=shopify_way(ret),
        label=label_of(ret.id), labels_enabled=account.labels_enabled,
        label_on_approval=account.label_issue_on == "approval"), status


def outside_refund_prefix(item_id: int) -> str:
    """Each item's outside-refund form has its own field names and ids (one page, many forms)."""
    return f"outside-{item_id}"


def _refund_forms(ret: Return, posted: dict[int, OutsideRefundForm]) -> dict[int, OutsideRefundForm]:
    """An outside-refund form per item that may take one: the posted one, else a blank one with
    the item's value and today's date filled in."""
    today = datetime.now(timezone.utc).date()
    forms = {}
    for item in ret.items:
        if not can_record_outside_refund(item):
            continue
        value = item.issued_amount if item.issued_amount is not None else item.unit_value * item.quantity
        forms[item.id] = posted.get(item.id) or OutsideRefundForm(
            formdata=None, prefix=outside_refund_prefix(item.id), data={"amount": f"{value:.2f}", "paid_on": today})
    return forms


@bp.get("/returns/<int:return_id>")
def return_detail(return_id: int):
    """One return: items (option, issue state and results, restock), tracking, timeline, actions."""
    return return_page(get_scoped_or_404(Return, return_id))


@bp.get("/returns/<int:return_id>/photos/<key>")
def return_photo(return_id: int, key: str):
    """A photo of one of this account's returns, sent by the app (never a public or presigned
    link); another account's photo, or a key that names none, is a 404."""
    found = photo_service.account_photo(current_account().id, return_id, key)
    if found is None:
        abort(404)
    return photo_response(*found)


@bp.get("/outbox")
def outbox():
    """Emails the app wrote for this account, newest first (in the embedded default they are
    only stored here: there is no SMTP server)."""
    page = query_arg("page", 1)
    query = scoped(OutboxEmail)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("dashboard/outbox.html", emails=rows, page=page,
                           pages=max(1, math.ceil(total / PAGE_SIZE)), total=total)

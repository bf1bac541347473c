"""Prepaid labels in the dashboard: the label settings (admins) and voiding a return's label
(staff, asked first)."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.ask_first import ask_first, confirmed
from app.dashboard import bp
from app.dashboard.label_forms import ADDRESS_FIELDS, LabelSettingsForm
from app.dashboard.scope import admin_required, csrf_checked, current_account, get_scoped_or_404
from app.models import Return
from app.services import labels as label_service
from app.services.label_settings import save_label_settings


@bp.route("/settings/labels", methods=["GET", "POST"])
@admin_required
def label_settings():
    """The label settings: all saved by one Save, or none with each refusal beside its field and
    everything typed kept (the API key is never shown back, typed or stored)."""
    account = current_account()
    form = LabelSettingsForm(data=_stored(account))
    if request.method == "POST":
        valid = form.validate_on_submit()
        if form.check(key_stored=bool(account.label_api_key_encrypted)
                      and form.provider.data == account.label_provider) and valid:
            save_label_settings(account, provider=form.provider.data, api_key=form.api_key.data or None,
                                issue_on=form.issue_on.data,
                                weight_oz=form.weight(), carrier=form.carrier.data, ship_to=form.ship_to())
            flash("Label settings saved.", "success")
            return redirect(url_for("dashboard.label_settings"), code=303)
    return render_template("dashboard/label_settings.html", account=account, form=form,
                           key_stored=bool(account.label_api_key_encrypted)), 422 if request.method == "POST" else 200


def _stored(account) -> dict:
    ship_to = account.label_ship_to or {}
    data = {key: ship_to.get(key, "") for key in ADDRESS_FIELDS}
    data.update(provider=account.label_provider or "", issue_on=account.label_issue_on,
                weight_oz=f"{(account.label_weight_oz or label_service.DEFAULT_WEIGHT_OZ).normalize():f}",
                carrier=account.label_carrier or "")
    return data


@bp.post("/returns/<int:return_id>/label/void")
def return_label_void(return_id: int):
    """Void the return's bought label with the provider (asked first, with or without JS)."""
    ret = get_scoped_or_404(Return, return_id)
    back = url_for("dashboard.return_detail", return_id=ret.id)
    csrf_checked()
    if not confirmed():
        return ask_first(f"Void the prepaid label of return {ret.rma_number}? The shopper can no longer use it.",
                         layout="dashboard/base.html", button="Void the label", back_url=back)
    try:
        label_service.void_label(ret.id, current_user.email)
    except label_service.LabelNotPossible as refusal:
        flash(str(refusal), "error")
    else:
        flash("Label voided; the shopper can add their own tracking number again.", "success")
    return redirect(back, code=303)


@bp.post("/returns/<int:return_id>/label/retry")
def return_label_retry(return_id: int):
    """Buy the return's prepaid label now, or again after it failed."""
    ret = get_scoped_or_404(Return, return_id)
    back = url_for("dashboard.return_detail", return_id=ret.id)
    csrf_checked()
    try:
        label_service.retry_label(ret.id, current_user.email)
    except label_service.LabelNotPossible as refusal:
        flash(str(refusal), "error")
    else:
        flash("The prepaid label is on its way: reload in a moment.", "success")
    return redirect(back, code=303)

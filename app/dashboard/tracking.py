"""Tracking in the dashboard: the webhook URL and secret to give each provider (admins), and
carrier events for unknown tracking numbers waiting to be attached to a return (staff too)."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.ask_first import ask_first, confirmed
from app.dashboard import bp
from app.dashboard.scope import admin_required, current_account, scoped
from app.domain.tracking import STATE_LABELS
from app.extensions import db
from app.forms import BaseForm, plain_text, strip_spaces
from app.models import Return
from app.services import tracking as service
from app.tracking import ADAPTERS

# What the retailer does in each provider's own settings, in order.
INSTRUCTIONS = {
    "generic": "For your own scripts or a 3PL: POST JSON {event_id, tracking_number, status, occurred_at} to "
               "the URL, signed with the secret: header X-Returns-Signature: t=<unix seconds>,v1=<hex "
               "HMAC-SHA256 of \"t.\" + body>. Status is label_created, in_transit, out_for_delivery, "
               "delivered or exception; timestamps older than 5 minutes are refused.",
    "aftership": "In AfterShip: Settings → Notifications → Webhooks, add the URL, then copy the webhook "
                 "secret AfterShip shows there and paste it below. AfterShip signs each delivery with it.",
    "easypost": "In EasyPost: Account settings → Webhooks, add the URL and set its webhook secret to the "
                "secret shown here. EasyPost signs each delivery with it (X-Hmac-Signature).",
    "seko": "In SEKO OmniRPS, register the URL as the returns tracking webhook. SEKO cannot sign: the URL's "
            "secret token authenticates it. Optionally set a Username and Password in SEKO and enter the same "
            "pair below; deliveries without them are then refused.",
    "shippo": "In Shippo: API settings → Webhooks, add the URL with event type track_updated. Shippo does "
              "not sign deliveries: the URL's secret token is what authenticates them, so there is no secret "
              "to paste. Keep the URL private and rotate it if it leaks.",
}


SECRET_LABELS = {"aftership": "AfterShip webhook secret", "seko": "SEKO password"}


class ActionForm(BaseForm):
    """Only the CSRF token; what to do is in the URL."""


class CredentialsForm(BaseForm):
    """AfterShip's pasted secret, or SEKO's optional username and password."""

    username = StringField("SEKO username", filters=[strip_spaces], validators=[Optional(), Length(max=120)])
    secret = PasswordField("Secret", filters=[strip_spaces], validators=[Optional(), Length(max=200)])


class AttachForm(BaseForm):
    """Attach a parked event to a return by its RMA number."""

    rma = StringField("RMA number", filters=[strip_spaces], validators=[
        DataRequired("Enter the return's RMA number, like R-1042."), Length(max=32), plain_text])


def _provider_or_404(provider: str) -> str:
    if provider not in ADAPTERS:
        abort(404)
    return provider


def _render(attach_forms=None, status=200, credential_forms=None):
    account = current_account()
    rows = []
    if current_user.is_admin:
        connections = service.connections_of(account.id)
        for name, adapter in ADAPTERS.items():
            connection = connections.get(name)
            rows.append({"name": name, "label": adapter.label, "connection": connection,
                         "url": service.webhook_url(connection) if connection else None,
                         "secret": service.connection_secret(connection) if connection else None,
                         "instructions": INSTRUCTIONS[name],
                         "form": (credential_forms or {}).get(name) or CredentialsForm(
                             formdata=None, prefix=name, username=connection.username if connection else None)})
        for row in rows:
            row["form"].secret.label.text = SECRET_LABELS.get(row["name"], "Secret")
    parked = service.parked_events(account.id)
    forms = {event.id: (attach_forms or {}).get(event.id) or AttachForm(formdata=None, prefix=f"e{event.id}")
             for event in parked}
    for event in parked:  # each row's field is named for its parcel (one page, many forms)
        forms[event.id].rma.label.text = f"RMA number for {event.tracking_number}"
    shared = service.shared_numbers(account.id, {event.tracking_number for event in parked})
    return render_template("dashboard/tracking.html", providers=rows, parked=parked, attach_forms=forms, shared=shared,
                           action_form=ActionForm(), labels=STATE_LABELS,
                           generated=service.GENERATED_SECRET), status


@bp.get("/tracking")
def tracking_page():
    """Providers (admins) and parked carrier events (everyone)."""
    return _render()


@bp.post("/tracking/<provider>/rotate")
@admin_required
def tracking_rotate(provider: str):
    """Create the provider's connection, or give it a new URL (and secret, where we make it)."""
    _provider_or_404(provider)
    if ActionForm().validate_on_submit():
        existed = provider in service.connections_of(current_user.account_id)
        if existed and not confirmed():
            label, secret = ADAPTERS[provider].label, " and secret" if provider in service.GENERATED_SECRET else ""
            return ask_first(f"Make a new URL{secret} for {label}? The current one stops working at once.",
                             layout="dashboard/base.html", button=f"Make a new URL{secret}",
                             back_url=url_for("dashboard.tracking_page"))
        service.create_or_rotate(current_account(), provider)
        label = ADAPTERS[provider].label
        flash(f"{label}: new webhook URL{' and secret' if provider in service.GENERATED_SECRET else ''} — "
              f"update it in {label}, the old one no longer works." if existed
              else f"{label} connected: give it the URL below.", "success")
    return redirect(url_for("dashboard.tracking_page"), code=303)


@bp.post("/tracking/<provider>/credentials")
@admin_required
def tracking_credentials(provider: str):
    """Save AfterShip's webhook secret or SEKO's username and password."""
    _provider_or_404(provider)
    form = CredentialsForm(prefix=provider)
    if form.validate_on_submit():
        try:
            service.save_credentials(current_account(), provider, secret=form.secret.data,
                                     username=form.username.data)
        except service.TrackingRefused as refused:
            form.secret.errors.append(str(refused))
        else:
            flash(f"{ADAPTERS[provider].label}: saved.", "success")
            return redirect(url_for("dashboard.tracking_page"), code=303)
    return _render(status=422, credential_forms={provider: form})


@bp.post("/tracking/events/<int:event_id>/attach")
def tracking_attach(event_id: int):
    """Staff attach a parked event to the return with that RMA number."""
    if not 0 < event_id < 2**63:  # beyond BIGINT: no such event, and never a database error
        abort(404)
    form = AttachForm(prefix=f"e{event_id}")
    if form.validate_on_submit():
        ret = db.session.scalar(scoped(Return).where(Return.rma_number == form.rma.data.upper()))
        if ret is None:
            form.rma.errors.append(f"There is no return {form.rma.data} in this store. Check the RMA number.")
        else:
            try:
                attached = service.attach_parked_event(current_account(), event_id, ret.id, current_user.email)
            except service.TrackingRefused as refused:
                flash(str(refused), "error")  # the event is no longer in the list to show it beside
            else:
                flash(f"{attached} carrier event(s) attached to {ret.rma_number}.", "success")
            return redirect(url_for("dashboard.tracking_page"), code=303)
    return _render(attach_forms={event_id: form}, status=422)


"""Settings → Webhooks (admins): the retailer's own endpoints, their secrets, "Send test", and the
delivery log with "Send again". Views parse and render; `services/outbound_webhooks.py` and
`services/outbound_sending.py` do the work."""
import json
import math

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.ask_first import ask_first, confirmed
from app.dashboard import bp
from app.dashboard.outbound_forms import EndpointForm
from app.dashboard.scope import admin_required, csrf_checked, current_account, get_scoped_or_404, scoped
from app.extensions import db
from app.models import OutboundDelivery, OutboundEndpoint
from app.query_params import query_arg
from app.services import outbound_sending as sending
from app.services import outbound_webhooks as hooks

PAGE_SIZE = 25
SHOW = {"all": None, "pending": ("pending", "sending"), "delivered": ("delivered",), "failed": ("failed",)}


def _endpoints():
    return db.session.scalars(scoped(OutboundEndpoint).order_by(OutboundEndpoint.created_at, OutboundEndpoint.id)).all()


def _page(form, status: int = 200, **context):
    return render_template("dashboard/outbound.html", endpoints=_endpoints(), form=form,
                           topic_labels=hooks.TOPIC_LABELS, **context), status


@bp.route("/settings/webhooks", methods=["GET", "POST"])
@admin_required
def outbound_webhooks():
    """The endpoints, and the form that adds one; once added, its secret is shown this once."""
    form = EndpointForm()
    if request.method == "GET":
        return _page(form)
    csrf_checked(form)  # validates the form (a 400 for an expired token)
    if not form.errors:
        try:
            endpoint, secret = hooks.create_endpoint(current_account(), form.url.data, form.topics.data,
                                                     form.description.data)
        except hooks.EndpointRefused as refusal:
            _refused(form, refusal)
        else:
            return render_template("dashboard/outbound_secret.html", endpoint=endpoint, secret=secret, new=True)
    return _page(form, 422)


def _refused(form, refusal: hooks.EndpointRefused) -> None:
    """Show the service's refusal beside its field."""
    getattr(form, refusal.field).errors = [str(refusal)]
    form._errors = None  # WTForms caches the summary of errors: let it see this one


@bp.route("/settings/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@admin_required
def outbound_endpoint(endpoint_id: int):
    """One endpoint: edit it (URL, topics, enabled), and its secret, test and delete buttons."""
    endpoint = get_scoped_or_404(OutboundEndpoint, endpoint_id)
    form = EndpointForm(obj=endpoint) if request.method == "GET" else EndpointForm()
    if request.method == "POST":
        csrf_checked(form)  # validates the form (a 400 for an expired token)
        if not form.errors:
            try:
                hooks.update_endpoint(endpoint, form.url.data, form.topics.data, form.description.data,
                                      form.enabled.data)
            except hooks.EndpointRefused as refusal:
                _refused(form, refusal)
            else:
                flash("Endpoint saved.", "success")
                return redirect(url_for("dashboard.outbound_endpoint", endpoint_id=endpoint.id), code=303)
    recent = db.session.scalars(
        scoped(OutboundDelivery).where(OutboundDelivery.endpoint_id == endpoint.id)
        .order_by(OutboundDelivery.created_at.desc(), OutboundDelivery.id.desc()).limit(5)).all()
    until = endpoint.previous_secret_expires_at
    return render_template("dashboard/outbound_endpoint.html", endpoint=endpoint, form=form, recent=recent,
                           overlap_until=until if until and until > hooks.now() else None
                           ), 422 if request.method == "POST" else 200


@bp.post("/settings/webhooks/<int:endpoint_id>/secret")
@admin_required
def outbound_reveal_secret(endpoint_id: int):
    """Show the endpoint's current secret (a POST: it is never in a URL, a link or a history entry)."""
    endpoint = get_scoped_or_404(OutboundEndpoint, endpoint_id)
    csrf_checked()
    return render_template("dashboard/outbound_secret.html", endpoint=endpoint, secret=hooks.reveal_secret(endpoint),
                           new=False)


@bp.post("/settings/webhooks/<int:endpoint_id>/rotate")
@admin_required
def outbound_rotate_secret(endpoint_id: int):
    """A new secret, asked first: receivers must verify with it; the old one signs beside it for 24 hours."""
    endpoint = get_scoped_or_404(OutboundEndpoint, endpoint_id)
    csrf_checked()
    if not confirmed():
        return ask_first(f"Rotate the signing secret of {endpoint.url}? Your receiver must verify with the new "
                         "secret within 24 hours: until then each delivery is signed with both, after that only "
                         "with the new one.", layout="dashboard/base.html", button="Rotate the secret",
                         back_url=url_for("dashboard.outbound_endpoint", endpoint_id=endpoint.id))
    secret = hooks.rotate_secret(endpoint)
    return render_template("dashboard/outbound_secret.html", endpoint=endpoint, secret=secret, new=False, rotated=True)


@bp.post("/settings/webhooks/<int:endpoint_id>/test")
@admin_required
def outbound_send_test(endpoint_id: int):
    """Send a test delivery to the endpoint; its outcome shows in the log."""
    endpoint = get_scoped_or_404(OutboundEndpoint, endpoint_id)
    csrf_checked()
    delivery = hooks.send_test(endpoint)
    flash("Test delivery queued: its outcome appears here in a moment (reload).", "success")
    return redirect(url_for("dashboard.outbound_delivery", outbound_delivery_id=delivery.id), code=303)


@bp.post("/settings/webhooks/<int:endpoint_id>/delete")
@admin_required
def outbound_delete(endpoint_id: int):
    """Delete the endpoint and its delivery log, asked first."""
    endpoint = get_scoped_or_404(OutboundEndpoint, endpoint_id)
    csrf_checked()
    if not confirmed():
        return ask_first(f"Delete the endpoint {endpoint.url} and its delivery log? Nothing more is sent to it.",
                         layout="dashboard/base.html", button="Delete the endpoint",
                         back_url=url_for("dashboard.outbound_endpoint", endpoint_id=endpoint.id))
    hooks.delete_endpoint(endpoint)
    flash("Endpoint deleted.", "success")
    return redirect(url_for("dashboard.outbound_webhooks"), code=303)


@bp.get("/settings/webhooks/deliveries")
@admin_required
def outbound_deliveries():
    """The delivery log, newest first, by state, paginated."""
    show = query_arg("show", "all")
    if show not in SHOW:
        abort(400, description="Show all, pending, delivered or failed deliveries.")
    page = query_arg("page", 1)
    query = scoped(OutboundDelivery)
    if SHOW[show]:
        query = query.where(OutboundDelivery.state.in_(SHOW[show]))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(OutboundDelivery.created_at.desc(), OutboundDelivery.id.desc())
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    urls = {e.id: e.url for e in _endpoints()}
    return render_template("dashboard/outbound_deliveries.html", deliveries=rows, show=show, shows=list(SHOW),
                           page=page, pages=max(1, math.ceil(total / PAGE_SIZE)), total=total, urls=urls)


@bp.get("/settings/webhooks/deliveries/<int:outbound_delivery_id>")
@admin_required
def outbound_delivery(outbound_delivery_id: int):
    """One delivery: what was sent (the exact body), each attempt, and the last answer."""
    delivery = get_scoped_or_404(OutboundDelivery, outbound_delivery_id)
    endpoint = db.session.get(OutboundEndpoint, delivery.endpoint_id)
    pretty = json.dumps(json.loads(delivery.body), indent=2, ensure_ascii=False)
    return render_template("dashboard/outbound_delivery.html", delivery=delivery, endpoint=endpoint, pretty=pretty,
                           max_attempts=sending.MAX_ATTEMPTS)


@bp.post("/settings/webhooks/deliveries/<int:outbound_delivery_id>/again")
@admin_required
def outbound_send_again(outbound_delivery_id: int):
    """A new round of attempts of the same event (same id, same body)."""
    delivery = get_scoped_or_404(OutboundDelivery, outbound_delivery_id)
    csrf_checked()
    if delivery.state == "sending":
        flash("This delivery is being sent right now; wait for its outcome.", "error")
    else:
        sending.send_again(delivery)
        flash("Sent again: the outcome appears here in a moment (reload).", "success")
    return redirect(url_for("dashboard.outbound_delivery", outbound_delivery_id=delivery.id), code=303)

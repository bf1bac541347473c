"""Customer data requests sent by Shopify (customers/data_request): list them, download exports."""
import json

from flask import Response, abort, render_template
from sqlalchemy import select

from app.dashboard import bp
from app.dashboard.scope import admin_required, current_account, get_scoped_or_404
from app.extensions import db
from app.models import WebhookDelivery
from app.services.privacy import customer_export

DATA_REQUEST = "customers/data_request"


@bp.get("/privacy")
@admin_required
def privacy():
    """The customer data requests Shopify forwarded, newest first."""
    deliveries = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.account_id == current_account().id,
                                      WebhookDelivery.topic == DATA_REQUEST)
        .order_by(WebhookDelivery.received_at.desc()).limit(200)
    ).all()
    requests = []
    for delivery in deliveries:
        customer = (json.loads(delivery.body).get("customer") or {})
        requests.append({"id": delivery.id, "email": customer.get("email"), "received_at": delivery.received_at})
    return render_template("dashboard/privacy.html", requests=requests)


@bp.get("/privacy/<int:delivery_id>/export.json")
@admin_required
def privacy_export(delivery_id: int):
    """Everything we hold about the requesting customer, as a JSON download."""
    delivery = get_scoped_or_404(WebhookDelivery, delivery_id)
    if delivery.topic != DATA_REQUEST:
        abort(404)
    export = customer_export(current_account(), json.loads(delivery.body))
    return Response(json.dumps(export, indent=2, default=str), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="customer-data-{delivery_id}.json"'})

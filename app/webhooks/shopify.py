"""`POST /webhooks/shopify`: verify, store once, enqueue, answer 200 — before any Shopify call."""
import logging

from flask import current_app, jsonify, request

from app.services.intake import IntakeRefused, StaleShopKeys, record_delivery, verify_delivery
from app.shopify.errors import ShopifyDataError
from app.shopify.webhooks import parse_webhook_headers
from app.webhooks import bp, capped_body
from jobs.intake import process_webhook_delivery

log = logging.getLogger(__name__)


@bp.post("/webhooks/shopify")
def shopify_webhook():
    """One endpoint for every topic; the topic comes from X-Shopify-Topic."""
    limit = current_app.config["WEBHOOK_MAX_BYTES"]
    body = capped_body(limit)
    if body is None:
        return jsonify(error=f"body larger than {limit} bytes"), 413
    try:
        headers = parse_webhook_headers(request.headers)
        try:
            delivery_id = record_delivery(verify_delivery(headers, body), headers, body)
        except StaleShopKeys:
            delivery_id = record_delivery(verify_delivery(headers, body), headers, body)
    except IntakeRefused as refused:
        return jsonify(error=str(refused)), refused.status
    except ShopifyDataError as error:
        return jsonify(error=str(error)), 400
    if delivery_id is None:
        return jsonify(status="duplicate"), 200
    try:
        # A fresh delivery id cannot be queued already, so skip RQ's uniqueness round trip.
        process_webhook_delivery.enqueue(delivery_id, job_id=f"delivery-{delivery_id}", unique=False)
    except Exception:  # noqa: BLE001 - Redis down: the delivery is stored; the sweeper enqueues it
        log.warning("could not enqueue delivery %s; the sweeper will pick it up", delivery_id, exc_info=True)
    return jsonify(status="accepted"), 200

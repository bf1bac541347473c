"""`POST /webhooks/shopify`: verify, store once, enqueue, answer 200 — before any Shopify call."""
import logging
from typing import Mapping

from flask import current_app, jsonify, request

from app.services.intake import IntakeRefused, StaleShopKeys, record_delivery, verify_delivery
from app.shopify.errors import ShopifyDataError
from app.shopify.webhooks import parse_webhook_headers
from app.webhooks import bp, capped_body, too_large
from jobs.intake import process_webhook_delivery

log = logging.getLogger(__name__)

SHOPIFY_WEBHOOK_PATH = "/webhooks/shopify"


def receive_delivery(headers: Mapping[str, str], body: bytes) -> tuple[int, dict]:
    """Verify, store once and queue one Shopify delivery: the HTTP status and JSON answer.

    Shared by the Flask view below and the WSGI fast path (app/webhooks/fast_path.py)."""
    try:
        parsed = parse_webhook_headers(headers)
        try:
            delivery_id = record_delivery(verify_delivery(parsed, body), parsed, body)
        except StaleShopKeys:
            delivery_id = record_delivery(verify_delivery(parsed, body), parsed, body)
    except IntakeRefused as refused:
        return refused.status, {"error": str(refused)}
    except ShopifyDataError as error:
        return 400, {"error": str(error)}
    if delivery_id is None:
        return 200, {"status": "duplicate"}
    try:
        # A fresh delivery id cannot be queued already, so skip RQ's uniqueness round trip.
        process_webhook_delivery.enqueue(delivery_id, job_id=f"delivery-{delivery_id}", unique=False)
    except Exception:  # noqa: BLE001 - Redis down: the delivery is stored; the sweeper enqueues it
        log.warning("could not enqueue delivery %s; the sweeper will pick it up", delivery_id, exc_info=True)
    return 200, {"status": "accepted"}


@bp.post(SHOPIFY_WEBHOOK_PATH)
def shopify_webhook():
    """One endpoint for every topic; the topic comes from X-Shopify-Topic. With jobs on RQ the
    fast path answers before Flask is reached; this view serves the in-process configuration."""
    limit = current_app.config["WEBHOOK_MAX_BYTES"]
    body = capped_body(limit)
    status, answer = (413, too_large(limit)) if body is None else receive_delivery(request.headers, body)
    return jsonify(answer), status

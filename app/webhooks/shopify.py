"""`POST /webhooks/shopify`: verify, store once, answer 200 — before any Shopify call or Redis call."""
from typing import Mapping

from flask import current_app, jsonify, request

from app.queue import enqueue
from app.services.intake import IntakeRefused, StaleShopKeys, record_delivery, verify_delivery
from app.shopify.errors import ShopifyDataError
from app.shopify.webhooks import parse_webhook_headers
from app.webhooks import bp, capped_body, too_large

SHOPIFY_WEBHOOK_PATH = "/webhooks/shopify"


def receive_delivery(headers: Mapping[str, str], body: bytes) -> tuple[int, dict]:
    """Verify and store one Shopify delivery once (queued at once only with in-process jobs): the
    HTTP status and JSON answer.

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
    if current_app.extensions["jobs"].runs_in_process:
        # In-process jobs run after the response (the embedded default). With RQ the committed
        # row is the record: a worker's dispatcher queues it within a fraction of a second
        # (app/services/dispatch.py), so no Redis call ever holds the answer.
        enqueue("jobs.intake.process_webhook_delivery_job", delivery_id, job_id=f"delivery-{delivery_id}",
                unique=False)
    return 200, {"status": "accepted"}


@bp.post(SHOPIFY_WEBHOOK_PATH)
def shopify_webhook():
    """One endpoint for every topic; the topic comes from X-Shopify-Topic. Where the fast path
    is on (the served app, wsgi.py), it answers before Flask is reached and this view is not used."""
    limit = current_app.config["WEBHOOK_MAX_BYTES"]
    body = capped_body(limit)
    status, answer = (413, too_large(limit)) if body is None else receive_delivery(request.headers, body)
    return jsonify(answer), status

"""`POST /webhooks/tracking/<provider>/<token>`: carrier events for return parcels.

Order of checks, each answered before the next is tried: unknown provider or connection → 404
(one answer for both, so the URL token cannot be probed), body too large → 413, signature or
credentials → 401, stale signed timestamp or a body we cannot read → 400. Only then are the
events stored (a resend is a no-op) and applied; the answer is 200 for every verified delivery,
including events for a tracking number no return has yet (they are parked for staff).
"""
import logging

from flask import current_app, jsonify, request

from app.extensions import db
from app.services.tracking import credentials_of, find_connection, record_events
from app.tracking import DeliveryRefused, adapter_for
from app.webhooks import bp, capped_body, too_large

log = logging.getLogger(__name__)

NOT_FOUND = "no such tracking webhook"


@bp.post("/webhooks/tracking/<provider>/<token>")
def tracking_webhook(provider: str, token: str):
    """Verify, store each event once, apply it to its return, answer."""
    adapter = adapter_for(provider)
    connection = find_connection(provider, token) if adapter else None
    if connection is None:
        return jsonify(error=NOT_FOUND), 404
    limit = current_app.config["TRACKING_WEBHOOK_MAX_BYTES"]
    body = capped_body(limit)
    if body is None:
        return jsonify(too_large(limit)), 413
    try:
        adapter.verify(request.headers, body, credentials_of(connection))
        events = adapter.parse(body)
        result = record_events(connection, events)
    except DeliveryRefused as refused:
        db.session.rollback()
        return jsonify(error=str(refused)), refused.status
    except Exception:  # our fault, not the sender's: ask for the delivery again
        log.exception("tracking delivery for connection %s could not be applied", connection.id)
        db.session.rollback()
        return jsonify(error="could not process the delivery now; send it again later"), 503
    return jsonify(status="accepted", stored=result.stored, duplicates=result.duplicates,
                   parked=result.parked), 200

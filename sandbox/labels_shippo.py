"""The sandbox's fake Shippo (`/shippo/...`): shipments with rates, transactions (buying a rate's
label), the transactions list read back, refunds and tracks, in Shippo's documented shapes
(``label_examples/shippo_*``); auth, counts, faults and files are sandbox/labels.py's."""
from __future__ import annotations

import copy
import secrets

from flask import jsonify, request

from .labels import SHIPPO_RATES, _complete, _example, _file_url, _lost_answer, _now, _positive, bp, labels


# ---- Shippo ------------------------------------------------------------------------------------

@bp.post("/shippo/shipments/")
@bp.post("/shippo/shipments")
def shippo_create_shipment():
    """A Shipment with rates (async false), in the documented shape."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify({"detail": "JSON body required"}), 400
    for what in ("address_from", "address_to"):
        given = data.get(what)
        if not _complete(given):
            return jsonify({what: ["street1, city, zip and country are required"]}), 400
    parcels = data.get("parcels")
    weighed = isinstance(parcels, list) and all(isinstance(p, dict) and _positive(p.get("weight")) for p in parcels)
    if not parcels or not weighed:
        return jsonify({"parcels": ["each parcel needs a positive weight"]}), 400
    shipment = _example("shippo_shipments-create")
    shipment_id = secrets.token_hex(16)
    template = shipment["rates"][0]
    rates = [{**template, "object_id": secrets.token_hex(16), "provider": provider, "amount": price,
              "amount_local": price, "currency": "USD", "currency_local": "USD",
              "servicelevel": {"name": name, "token": token, "terms": ""}, "shipment": shipment_id}
             for provider, token, name, price in SHIPPO_RATES]
    shipment.update(object_id=shipment_id, object_created=_now(), object_updated=_now(),
                    address_from=data["address_from"], address_to=data["address_to"], parcels=parcels,
                    extra=data.get("extra") or {}, metadata=data.get("metadata") or "", rates=rates)
    with labels().lock:
        labels().shipments[shipment_id] = shipment
    return jsonify(shipment), 201


def _shippo_rate(rate_id: str) -> tuple[dict | None, dict | None]:
    for shipment in labels().shipments.values():
        for rate in shipment.get("rates") or []:
            if rate.get("object_id") == rate_id and "servicelevel" in rate:
                return shipment, rate
    return None, None


@bp.post("/shippo/transactions")
@bp.post("/shippo/transactions/")
def shippo_buy():
    """Buy a rate's label (a Transaction). Each call buys: Shippo documents no idempotency key."""
    store = labels()
    data = request.get_json(silent=True)
    rate_id = str(data.get("rate") or "") if isinstance(data, dict) else ""
    with store.lock:
        shipment, rate = _shippo_rate(rate_id)
        if rate is None:
            return jsonify({"rate": ["Rate not found"]}), 400
        file_type = str(data.get("label_file_type") or "PDF")
        extension = "png" if file_type.upper().startswith("PNG") else "pdf"
        number = store.next_number()
        transaction = _example("shippo_transactions-create")
        transaction.update(object_id=secrets.token_hex(16), object_created=_now(), object_updated=_now(),
                           rate=rate["object_id"], status="SUCCESS", messages=[], tracking_number=number,
                           tracking_status="UNKNOWN", label_file_type=file_type,
                           label_url=_file_url(f"{number}.{extension}"), qr_code_url=_file_url(f"{number}.qr.png"),
                           tracking_url_provider=_file_url(f"{number}.track"), metadata=data.get("metadata") or "")
        store.transactions.insert(0, transaction)
        store.purchases[shipment["object_id"]] = store.purchases.get(shipment["object_id"], 0) + 1
        lost = store.take_drop()
        answer = copy.deepcopy(transaction)
    return _lost_answer(lost) if lost else (jsonify(answer), 201)


@bp.get("/shippo/transactions")
@bp.get("/shippo/transactions/")
def shippo_list_transactions():
    """Transactions, newest first (`results`, at most `results` of them)."""
    try:
        size = max(1, min(int(request.args.get("results", 25)), 100))
    except ValueError:
        size = 25
    with labels().lock:
        return jsonify({"next": None, "previous": None, "results": copy.deepcopy(labels().transactions[:size])})


@bp.post("/shippo/refunds")
@bp.post("/shippo/refunds/")
def shippo_refund():
    """Refund a transaction's label (status QUEUED)."""
    data = request.get_json(silent=True)
    transaction_id = str(data.get("transaction") or "") if isinstance(data, dict) else ""
    with labels().lock:
        if not any(t["object_id"] == transaction_id for t in labels().transactions):
            return jsonify({"transaction": ["Transaction not found"]}), 400
        labels().refunds.append(transaction_id)
    refund = _example("shippo_refunds-create")
    refund.update(object_id=secrets.token_hex(16), object_created=_now(), object_updated=_now(),
                  transaction=transaction_id, status="QUEUED")
    return jsonify(refund), 201


@bp.post("/shippo/tracks/")
@bp.post("/shippo/tracks")
def shippo_track():
    """Register a tracking number for webhooks (the Track shape)."""
    data = request.get_json(silent=True)
    number = str(data.get("tracking_number") or "").strip() if isinstance(data, dict) else ""
    carrier = str(data.get("carrier") or "").strip() if isinstance(data, dict) else ""
    if not number or not carrier:
        return jsonify({"detail": "carrier and tracking_number are required"}), 400
    track = _example("shippo_tracks-create")
    track.update(carrier=carrier, tracking_number=number, metadata=data.get("metadata"))
    with labels().lock:
        labels().trackers.append(number)
    return jsonify(track), 201

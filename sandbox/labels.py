"""The sandbox's fake label providers: EasyPost (`/easypost/v2/...`) and Shippo (`/shippo/...`).

Answers are EasyPost's and Shippo's documented example objects (``label_examples/``, copied from
the providers' docs with their source notes) with this sandbox's ids, addresses, prices, tracking
numbers and label files filled in, so a client that reads the documented fields reads these.

Rules kept as the providers document them:
- Auth: EasyPost HTTP Basic with the API key as user (401 otherwise); Shippo
  ``Authorization: ShippoToken <key>`` (401 otherwise). A key works once registered.
- EasyPost: a return Shipment needs to/from addresses and a parcel with a weight; buying needs a
  rate of that shipment; a second buy of a bought shipment answers 422 ``SHIPMENT.POSTAGE.EXISTS``.
  ``GET /v2/shipments/{id}`` reads one back; ``/label?file_format=PDF`` adds ``label_pdf_url``.
- Shippo: ``POST /transactions`` buys a rate of a known shipment; ``GET /transactions`` lists them
  newest first (``results``); ``POST /refunds`` refunds a transaction; ``POST /tracks/`` registers.
- Every purchase is counted (``GET /_sandbox/labels``); the label files are real small PDFs and
  PNGs served under ``/_sandbox/labels/files/``.

Control API (JSON): ``POST /_sandbox/labels/keys`` ``{"provider", "key"}``;
``GET /_sandbox/labels`` (purchases, per shipment, refunds, trackers);
``POST /_sandbox/labels/faults`` ``{"drop_buy_responses": n, "fail_buy_responses": n}``: the
next n buys are made and their answer lost (HTML 502, as a proxy would answer), or made and then
answered with a 500 error (the provider failed after committing); ``POST /_sandbox/labels/reset``.
"""
from __future__ import annotations

import copy
import json
import secrets
import struct
import threading
import zlib
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from .errors import SandboxError

bp = Blueprint("sandbox_labels", __name__)
EXAMPLES = Path(__file__).with_name("label_examples")
# The rates offered for every shipment: carrier, service, price (cheapest is GroundAdvantage).
RATES = (("USPS", "Express", "51.20"), ("USPS", "Priority", "9.82"), ("USPS", "GroundAdvantage", "8.20"))
SHIPPO_RATES = (("USPS", "usps_priority", "Priority Mail", "9.82"),
                ("USPS", "usps_ground_advantage", "Ground Advantage", "7.35"))
ADDRESS_NEEDS = ("street1", "city", "zip", "country")


def _complete(address: object) -> bool:
    return isinstance(address, dict) and all(str(address.get(k) or "").strip() for k in ADDRESS_NEEDS)


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


class Labels:
    """Keys, shipments, purchases and faults of both fakes (in memory)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything but nothing else in the sandbox."""
        self.keys: dict[str, set[str]] = {"easypost": set(), "shippo": set()}
        self.shipments: dict[str, dict] = {}
        self.transactions: list[dict] = []
        self.purchases: dict[str, int] = {}
        self.refunds: list[str] = []
        self.trackers: list[str] = []
        self.drop_buy_responses = 0
        self.fail_buy_responses = 0
        self.sequence = 0

    def next_number(self) -> str:
        """A fresh tracking number (USPS-like, digits only)."""
        self.sequence += 1
        return f"9400100{secrets.randbelow(10**8):08d}{self.sequence:05d}"

    def summary(self) -> dict:
        """What tests read: how many labels were bought, in all and per shipment."""
        with self.lock:
            return {"purchases": sum(self.purchases.values()), "purchases_by_shipment": dict(self.purchases),
                    "refunds": list(self.refunds), "trackers": list(self.trackers),
                    "shipments": len(self.shipments), "drop_buy_responses": self.drop_buy_responses,
                    "fail_buy_responses": self.fail_buy_responses}

    def take_drop(self):
        """How this buy's answer goes wrong: "lost", "failed" or None (one fewer after it)."""
        if self.drop_buy_responses > 0:
            self.drop_buy_responses -= 1
            return "lost"
        if self.fail_buy_responses > 0:
            self.fail_buy_responses -= 1
            return "failed"
        return None


def labels() -> Labels:
    """The app's label fakes (made on first use)."""
    return current_app.extensions.setdefault("sandbox_labels", Labels())


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ep_error(status: int, code: str, message: str):
    # EasyPost's error body: {"error": {"code", "message", "errors"}} (docs.easypost.com/docs/errors).
    return jsonify({"error": {"code": code, "message": message, "errors": []}}), status


def _lost_answer(how: str):
    if how == "failed":
        return jsonify({"error": {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error.",
                                  "errors": []}}), 500
    return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", status=502, mimetype="text/html")


def _file_url(name: str) -> str:
    return url_for("sandbox_labels.label_file", name=name, _external=True)


# ---- EasyPost ----------------------------------------------------------------------------------

def _easypost_key() -> bool:
    auth = request.authorization
    return bool(auth and auth.username and auth.username in labels().keys["easypost"])


def _ep_address(given: object, what: str) -> dict:
    if not _complete(given):
        raise SandboxError(f"shipment.{what} needs street1, city, zip and country", 422)
    return {"id": "adr_" + secrets.token_hex(16), "object": "Address", **{k: given.get(k) for k in (
        "name", "company", "street1", "street2", "city", "state", "zip", "country", "phone", "email")}}


@bp.before_request
def _authenticate():
    path = request.path
    if path.startswith("/easypost/") and not _easypost_key():
        return _ep_error(401, "APIKEY.REQUIRED", "An API key is required for this request. Use HTTP Basic auth.")
    if path.startswith("/shippo/"):
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme != "ShippoToken" or key.strip() not in labels().keys["shippo"]:
            return jsonify({"detail": "Invalid token."}), 401
    return None


@bp.post("/easypost/v2/shipments")
def ep_create_shipment():
    """A Shipment with three rates, in the documented returns-create shape."""
    data = request.get_json(silent=True)
    given = data.get("shipment") if isinstance(data, dict) else None
    if not isinstance(given, dict):
        return _ep_error(422, "PARAMETER.REQUIRED", "Missing required parameter: shipment.")
    try:
        to_address = _ep_address(given.get("to_address"), "to_address")
        from_address = _ep_address(given.get("from_address"), "from_address")
    except SandboxError as error:
        return _ep_error(422, "ADDRESS.VERIFY.FAILURE", str(error))
    parcel = given.get("parcel")
    if not isinstance(parcel, dict) or not _positive(parcel.get("weight")):
        return _ep_error(422, "SHIPMENT.PARCEL.INVALID", "parcel.weight must be a positive number (ounces).")
    shipment = _example("easypost_returns-create")
    shipment_id = "shp_" + secrets.token_hex(16)
    shipment.update(id=shipment_id, created_at=_now(), updated_at=_now(), is_return=bool(given.get("is_return")),
                    reference=given.get("reference"), to_address=to_address, from_address=from_address,
                    tracking_code=None, postage_label=None, selected_rate=None, tracker=None, customs_info=None,
                    parcel={**shipment.get("parcel", {}), "id": "prcl_" + secrets.token_hex(16),
                            "weight": float(parcel["weight"])})
    template = shipment["rates"][0]
    shipment["rates"] = [{**template, "id": "rate_" + secrets.token_hex(16), "carrier": carrier, "service": service,
                          "rate": price, "currency": "USD", "shipment_id": shipment_id}
                         for carrier, service, price in RATES]
    with labels().lock:
        labels().shipments[shipment_id] = shipment
    return jsonify(shipment), 201


@bp.get("/easypost/v2/shipments/<shipment_id>")
def ep_get_shipment(shipment_id: str):
    """Read a shipment back (bought or not)."""
    shipment = labels().shipments.get(shipment_id)
    if shipment is None:
        return _ep_error(404, "NOT_FOUND", "The requested resource could not be found.")
    return jsonify(shipment)


@bp.post("/easypost/v2/shipments/<shipment_id>/buy")
def ep_buy(shipment_id: str):
    """Buy a rate: refused with SHIPMENT.POSTAGE.EXISTS when the shipment has postage already."""
    store = labels()
    data = request.get_json(silent=True)
    given = data.get("rate") if isinstance(data, dict) else None
    rate_id = given.get("id") if isinstance(given, dict) else None
    with store.lock:
        shipment = store.shipments.get(shipment_id)
        if shipment is None:
            return _ep_error(404, "NOT_FOUND", "The requested resource could not be found.")
        if shipment.get("postage_label"):
            return _ep_error(422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment.")
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if rate is None:
            return _ep_error(422, "SHIPMENT.RATE.INVALID", "Rate must belong to this shipment.")
        bought = _example("easypost_shipments-buy")
        number = store.next_number()
        postage = {**bought["postage_label"], "id": "pl_" + secrets.token_hex(16), "label_date": _now(),
                   "label_file_type": "image/png", "label_url": _file_url(f"{number}.png"), "label_pdf_url": None}
        tracker = {**bought["tracker"], "id": "trk_" + secrets.token_hex(16), "tracking_code": number,
                   "shipment_id": shipment_id, "public_url": _file_url(f"{number}.track")}
        shipment.update(tracking_code=number, postage_label=postage, selected_rate=rate, tracker=tracker,
                        status="unknown", updated_at=_now(), fees=bought.get("fees"))
        store.purchases[shipment_id] = store.purchases.get(shipment_id, 0) + 1
        lost = store.take_drop()
        answer = copy.deepcopy(shipment)
    return _lost_answer(lost) if lost else jsonify(answer)


@bp.get("/easypost/v2/shipments/<shipment_id>/label")
def ep_label(shipment_id: str):
    """The label converted: `file_format` PDF, ZPL or EPL2 adds that format's URL."""
    file_format = (request.args.get("file_format") or "").upper()
    if file_format not in ("PDF", "ZPL", "EPL2"):
        return _ep_error(422, "PARAMETER.INVALID", "file_format must be one of PDF, ZPL, EPL2.")
    with labels().lock:
        shipment = labels().shipments.get(shipment_id)
        if shipment is None or not shipment.get("postage_label"):
            return _ep_error(422, "SHIPMENT.POSTAGE.REQUIRED", "The shipment has no postage to convert.")
        key = {"PDF": "label_pdf_url", "ZPL": "label_zpl_url", "EPL2": "label_epl2_url"}[file_format]
        extension = {"PDF": "pdf", "ZPL": "zpl", "EPL2": "epl2"}[file_format]
        shipment["postage_label"][key] = _file_url(f"{shipment['tracking_code']}.{extension}")
        return jsonify(copy.deepcopy(shipment))


@bp.post("/easypost/v2/shipments/<shipment_id>/refund")
def ep_refund(shipment_id: str):
    """Refund a bought shipment's postage (refund_status "submitted")."""
    with labels().lock:
        shipment = labels().shipments.get(shipment_id)
        if shipment is None or not shipment.get("postage_label"):
            return _ep_error(422, "SHIPMENT.REFUND.UNAVAILABLE", "Only a purchased shipment can be refunded.")
        shipment["refund_status"] = "submitted"
        labels().refunds.append(shipment_id)
        return jsonify(copy.deepcopy(shipment))


@bp.post("/easypost/v2/trackers")
def ep_tracker():
    """A Tracker for a tracking code (trackers-create shape)."""
    data = request.get_json(silent=True)
    given = data.get("tracker") if isinstance(data, dict) else None
    code = str(given.get("tracking_code") or "").strip() if isinstance(given, dict) else ""
    if not code:
        return _ep_error(422, "PARAMETER.REQUIRED", "Missing required parameter: tracker.tracking_code.")
    tracker = _example("easypost_trackers-create")
    tracker.update(id="trk_" + secrets.token_hex(16), tracking_code=code,
                   carrier=given.get("carrier") or tracker["carrier"], created_at=_now(), updated_at=_now())
    with labels().lock:
        labels().trackers.append(code)
    return jsonify(tracker), 201


# ---- files and control -------------------------------------------------------------------------

@bp.get("/_sandbox/labels/files/<name>")
def label_file(name: str):
    """A label as a real (small) PDF or PNG; `.track` is a plain tracking page."""
    number, _, kind = name.partition(".")
    if not number.isalnum():
        return jsonify({"error": "unknown file"}), 404
    if kind == "pdf":
        return Response(pdf_label(number), mimetype="application/pdf")
    if kind in ("png", "qr.png"):
        return Response(png_label(number, square=kind == "qr.png"), mimetype="image/png")
    if kind == "track":
        page = f"<!doctype html><title>Tracking {number}</title><h1>Tracking {number}</h1>"
        return Response(page, mimetype="text/html")
    if kind in ("zpl", "epl2"):
        return Response(f"^XA^FO50,50^FD{number}^FS^XZ", mimetype="text/plain")
    return jsonify({"error": "unknown file"}), 404


@bp.get("/_sandbox/labels")
def labels_state():
    """Counts: purchases in all and per shipment, refunds, trackers."""
    return jsonify(labels().summary())


@bp.post("/_sandbox/labels/keys")
def labels_register_key():
    """Accept an API key for a provider (`easypost` or `shippo`)."""
    data = request.get_json(silent=True) or {}
    provider, key = str(data.get("provider") or ""), str(data.get("key") or "").strip()
    if provider not in ("easypost", "shippo") or not key:
        raise SandboxError("provider (easypost|shippo) and key are required")
    with labels().lock:
        labels().keys[provider].add(key)
    return jsonify({"provider": provider, "key": key}), 201


@bp.post("/_sandbox/labels/faults")
def labels_faults():
    """`drop_buy_responses` / `fail_buy_responses`: the next n buys are made and their answers
    lost / answered with a 500."""
    data = request.get_json(silent=True) or {}
    counts = {key: data.get(key, 0) for key in ("drop_buy_responses", "fail_buy_responses")}
    for key, count in counts.items():
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 100:
            raise SandboxError(f"{key} must be an integer 0..100")
    with labels().lock:
        labels().drop_buy_responses = counts["drop_buy_responses"]
        labels().fail_buy_responses = counts["fail_buy_responses"]
    return jsonify(labels().summary())


@bp.post("/_sandbox/labels/reset")
def labels_reset():
    """Forget keys, shipments, purchases and faults."""
    with labels().lock:
        labels().reset()
    return jsonify({"ok": True})


def _positive(value: object) -> bool:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return False
    return number.is_finite() and number > 0


def pdf_label(number: str) -> bytes:
    """A one-page 4x6 in PDF that says it is a return label and shows the number."""
    stream = f"BT /F1 18 Tf 24 380 Td (RETURN LABEL) Tj 0 -30 Td /F1 14 Tf (Tracking {number}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for index, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % index + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_label(number: str, square: bool = False) -> bytes:
    """A small black-and-white PNG (bars from the number's digits; a QR-like square grid)."""
    width, height = (84, 84) if square else (240, 120)
    seed = zlib.crc32(number.encode())
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            if square:
                dark = (seed >> ((x // 12 * 7 + y // 12) % 31)) & 1
            else:
                dark = 20 <= y <= 100 and (int(number[(x // 6) % len(number)], 36) + x // 3) % 3 == 0
            row.append(0 if dark else 255)
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


from . import labels_shippo  # noqa: E402,F401  (the Shippo fake's routes register on bp)

__all__ = ["bp", "labels", "pdf_label", "png_label"]

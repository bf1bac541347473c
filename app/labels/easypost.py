"""EasyPost return labels over its REST API (https://docs.easypost.com/docs/shipments).

- Auth: HTTP Basic with the API key as the user name and no password (the docs' `-u "KEY":`).
- A return label is a Shipment created with `"is_return": true` and the addresses of the original
  outbound shipment: `to_address` the shopper, `from_address` the shop; EasyPost switches them on
  the label (https://docs.easypost.com/docs/returns).
- Buying: `POST /v2/shipments/{id}/buy` with `{"rate": {"id": ...}}`; the answer carries
  `tracking_code`, `selected_rate` and `postage_label.label_url` (PNG by default). A PDF is asked
  for with `GET /v2/shipments/{id}/label?file_format=PDF` (`postage_label.label_pdf_url`).
  (Fixtures: tests/fixtures/labels/easypost_*.json, from EasyPost's own examples.)
- EasyPost documents no idempotency key for buying. A second buy of a bought shipment is refused
  with the error code `SHIPMENT.POSTAGE.EXISTS` (https://docs.easypost.com/docs/errors); so
  exactly-once is the shipment id stored before buying and `GET /v2/shipments/{id}` read back
  (a bought shipment has a `postage_label`) before any second try.
- Void: `POST /v2/shipments/{id}/refund` (`refund_status` "submitted"; docs/shipping-refund).
- Trackers: `POST /v2/trackers` `{"tracker": {"tracking_code", "carrier"}}`; their events reach
  the app's EasyPost tracking webhook (app/tracking/easypost.py).
"""
from __future__ import annotations

import requests

from app.labels.base import Address, BoughtLabel, LabelError, Parcel, Rate, Shipment, Tracker, money, text
from app.labels.http import call

API = "https://api.easypost.com"
POSTAGE_EXISTS = "SHIPMENT.POSTAGE.EXISTS"


class EasyPost:
    """EasyPost, with one account's API key."""

    name = "easypost"

    def __init__(self, api_key: str, base_url: str | None = None, timeout: float = 20):
        self.base = (base_url or API).rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = (api_key, "")

    def _call(self, method: str, path: str, **kwargs) -> dict:
        return call(self.session, method, self.base + path, timeout=self.timeout, error_code=_error_code, **kwargs)

    def create_return_shipment(self, shopper: Address, shop: Address, parcel: Parcel, reference: str) -> Shipment:
        """A return Shipment (rates included) from the shopper to the shop."""
        body = {"shipment": {"to_address": shopper.fields(), "from_address": shop.fields(),
                             "parcel": _parcel(parcel), "is_return": True, "reference": reference}}
        return shipment_from(self._call("POST", "/v2/shipments", json=body))

    def buy(self, shipment_id: str, rate_id: str, reference: str) -> BoughtLabel:
        """Buy the shipment at the rate, then ask for its PDF too. LabelError(already_bought=True)
        when EasyPost says the shipment already has postage."""
        try:
            bought = self._call("POST", f"/v2/shipments/{shipment_id}/buy", json={"rate": {"id": rate_id}})
        except LabelError as error:
            if getattr(error, "code", None) == POSTAGE_EXISTS:
                error.already_bought = True
            raise
        return self._with_pdf(bought)

    def find_purchase(self, shipment_id: str, rate_id: str) -> BoughtLabel | None:
        """The shipment's label when it was bought (the read-back after a crash), else None."""
        shipment = self._call("GET", f"/v2/shipments/{shipment_id}")
        if not isinstance(shipment.get("postage_label"), dict):
            return None
        return self._with_pdf(shipment)

    def _with_pdf(self, shipment: dict) -> BoughtLabel:
        label = label_from(shipment)
        if label.label_pdf_url:
            return label
        try:
            converted = self._call("GET", f"/v2/shipments/{label.shipment_id}/label", params={"file_format": "PDF"})
        except LabelError:
            return label  # the PNG is the label; the PDF is a convenience asked again on a later view
        return label_from(converted)

    def void(self, purchase_id: str) -> str:
        """Ask EasyPost to refund the shipment's postage; its refund_status ("submitted", …)."""
        answer = self._call("POST", f"/v2/shipments/{purchase_id}/refund")
        return text(answer.get("refund_status")) or "submitted"

    def create_tracker(self, tracking_number: str, carrier: str) -> Tracker:
        """A Tracker for the number; its events come to the EasyPost tracking webhook."""
        answer = self._call("POST", "/v2/trackers",
                            json={"tracker": {"tracking_code": tracking_number, "carrier": carrier}})
        return Tracker(id=text(answer.get("id")) or "",
                       tracking_number=text(answer.get("tracking_code")) or tracking_number,
                       carrier=text(answer.get("carrier")), public_url=text(answer.get("public_url")))


def _error_code(body: dict) -> str | None:
    inner = body.get("error")
    return text(inner.get("code")) if isinstance(inner, dict) else None


def _parcel(parcel: Parcel) -> dict:
    out = {"weight": str(parcel.weight_oz)}
    for key, value in (("length", parcel.length_in), ("width", parcel.width_in), ("height", parcel.height_in)):
        if value is not None:
            out[key] = str(value)
    return out


def shipment_from(body: dict) -> Shipment:
    """Our Shipment from EasyPost's Shipment object."""
    shipment_id = text(body.get("id"))
    if not shipment_id:
        raise LabelError("EasyPost answered a shipment without an id", retryable=True)
    rates = []
    for rate in body.get("rates") or []:
        if isinstance(rate, dict) and text(rate.get("id")):
            rates.append(Rate(id=rate["id"], carrier=text(rate.get("carrier")) or "",
                              service=text(rate.get("service")) or "",
                              amount=money(rate.get("rate")), currency=text(rate.get("currency")) or "USD"))
    return Shipment(id=shipment_id, rates=tuple(rates))


def label_from(body: dict) -> BoughtLabel:
    """Our BoughtLabel from a bought EasyPost Shipment (its postage_label and selected_rate)."""
    postage, rate = body.get("postage_label"), body.get("selected_rate")
    if not isinstance(postage, dict) or not isinstance(rate, dict) or not text(body.get("tracking_code")):
        raise LabelError("EasyPost answered a bought shipment without its label", retryable=True)
    label_url = text(postage.get("label_url")) or ""
    png = label_url if (text(postage.get("label_file_type")) or "").endswith("png") else None
    tracker = body.get("tracker") if isinstance(body.get("tracker"), dict) else {}
    return BoughtLabel(purchase_id=body["id"], shipment_id=body["id"], rate_id=text(rate.get("id")),
                       tracking_number=body["tracking_code"], carrier=text(rate.get("carrier")) or "",
                       label_url=label_url, cost=money(rate.get("rate")), currency=text(rate.get("currency")) or "USD",
                       label_pdf_url=text(postage.get("label_pdf_url")), label_png_url=png, qr_url=None,
                       tracking_url=text(tracker.get("public_url")))

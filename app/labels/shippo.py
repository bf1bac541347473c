"""Shippo return labels over its REST API (https://docs.goshippo.com/).

- Auth: header `Authorization: ShippoToken <API token>`.
- A return label: `POST /shipments/` with `extra.is_return: true` and the outbound addresses
  unswapped (`address_from` the shop, `address_to` the shopper: "do not swap the addresses
  yourself", https://docs.goshippo.com/docs/shipments/returns/); `async: false` answers with
  `rates[]` (`object_id`, `amount`, `currency`, `provider`, `servicelevel`).
- Buying: `POST /transactions` `{"rate": <rate object_id>, "label_file_type": "PDF", "async":
  false}` answers a Transaction with `status` SUCCESS/ERROR, `tracking_number`, `label_url`,
  `qr_code_url`, `tracking_url_provider`
  (https://docs.goshippo.com/api-reference/transactions/create-a-shipping-label).
- Shippo documents no idempotency key for `POST /transactions`. (It requires an `Idempotency-Key`
  only on its beta Automations API, `POST /automations/labels`, which picks the rate by its own
  rule and "may change without the notice period": https://docs.goshippo.com/api-reference/
  automations/buy-a-label-using-your-automation-rules; not used here.) So exactly-once is the rate
  id stored before buying and the read-back `GET /transactions` (https://docs.goshippo.com/api-reference/transactions/
  list-all-shipping-labels) for a transaction of that rate before buying again.
- Void: `POST /refunds` `{"transaction": id}` (https://docs.goshippo.com/docs/billing_and_invoices/
  refundinglabels/). Trackers: `POST /tracks/` `{"carrier", "tracking_number"}` registers the number
  for Shippo's track_updated webhooks (app/tracking/shippo.py).
(Fixtures: tests/fixtures/labels/shippo_*.json, from those pages' response samples.)
"""
from __future__ import annotations

import requests

from app.labels.base import Address, BoughtLabel, LabelError, Parcel, Rate, Shipment, Tracker, money, text
from app.labels.http import call

API = "https://api.goshippo.com"
# How many of the newest transactions the read-back looks through for the stored rate (a return's
# buy and its read-back are minutes apart; a busy shop buys fewer labels than this meanwhile).
READ_BACK_PAGE = 100


class Shippo:
    """Shippo, with one account's API token."""

    name = "shippo"

    def __init__(self, api_key: str, base_url: str | None = None, timeout: float = 20):
        self.base = (base_url or API).rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"ShippoToken {api_key}"

    def _call(self, method: str, path: str, **kwargs) -> dict:
        return call(self.session, method, self.base + path, timeout=self.timeout, error_code=_error_code, **kwargs)

    def create_return_shipment(self, shopper: Address, shop: Address, parcel: Parcel, reference: str) -> Shipment:
        """A return shipment with its rates (asked synchronously)."""
        body = {"address_from": shop.fields(), "address_to": shopper.fields(), "parcels": [_parcel(parcel)],
                "extra": {"is_return": True, "reference_1": reference[:50]}, "async": False,
                "metadata": reference[:100]}
        return shipment_from(self._call("POST", "/shipments/", json=body))

    def buy(self, shipment_id: str, rate_id: str, reference: str) -> BoughtLabel:
        """Buy the label for the rate (a Transaction), as a PDF."""
        answer = self._call("POST", "/transactions",
                            json={"rate": rate_id, "label_file_type": "PDF", "async": False,
                                  "metadata": reference[:100]})
        return label_from(answer, shipment_id, rate_id)

    def find_purchase(self, shipment_id: str, rate_id: str) -> BoughtLabel | None:
        """The successful transaction bought for `rate_id`, if any (the read-back after a crash)."""
        page = self._call("GET", "/transactions", params={"results": READ_BACK_PAGE})
        for transaction in page.get("results") or []:
            if not isinstance(transaction, dict):
                continue
            rate = transaction.get("rate")
            bought_rate = text(rate.get("object_id")) if isinstance(rate, dict) else text(rate)
            if bought_rate == rate_id and transaction.get("status") == "SUCCESS":
                return label_from(transaction, shipment_id, rate_id)
        return None

    def void(self, purchase_id: str) -> str:
        """Ask Shippo to refund the transaction's label; the refund's status (QUEUED, …)."""
        answer = self._call("POST", "/refunds", json={"transaction": purchase_id, "async": False})
        return text(answer.get("status")) or "QUEUED"

    def create_tracker(self, tracking_number: str, carrier: str) -> Tracker:
        """Register the number with Shippo tracking (carrier as Shippo's token, e.g. "usps")."""
        answer = self._call("POST", "/tracks/", json={"carrier": carrier.lower(), "tracking_number": tracking_number})
        return Tracker(id=text(answer.get("object_id")) or tracking_number,
                       tracking_number=text(answer.get("tracking_number")) or tracking_number,
                       carrier=text(answer.get("carrier")))


def _error_code(body: dict) -> str | None:
    return text(body.get("code")) if isinstance(body.get("code"), str) else None


def _parcel(parcel: Parcel) -> dict:
    out = {"weight": str(parcel.weight_oz), "mass_unit": "oz", "distance_unit": "in",
           "length": "1", "width": "1", "height": "1"}
    for key, value in (("length", parcel.length_in), ("width", parcel.width_in), ("height", parcel.height_in)):
        if value is not None:
            out[key] = str(value)
    return out


def shipment_from(body: dict) -> Shipment:
    """Our Shipment from Shippo's Shipment object (rates read from `rates[]`)."""
    shipment_id = text(body.get("object_id"))
    if not shipment_id:
        raise LabelError("Shippo answered a shipment without an object_id", retryable=True)
    rates = []
    for rate in body.get("rates") or []:
        if isinstance(rate, dict) and text(rate.get("object_id")):
            level = rate.get("servicelevel") if isinstance(rate.get("servicelevel"), dict) else {}
            rates.append(Rate(id=rate["object_id"], carrier=text(rate.get("provider")) or "",
                              service=text(level.get("token")) or text(level.get("name")) or "",
                              amount=money(rate.get("amount")), currency=text(rate.get("currency")) or "USD"))
    return Shipment(id=shipment_id, rates=tuple(rates))


def label_from(body: dict, shipment_id: str | None, rate_id: str) -> BoughtLabel:
    """Our BoughtLabel from a Transaction; LabelError when Shippo says the purchase failed."""
    status = text(body.get("status"))
    if status != "SUCCESS":
        notes = "; ".join(text(m.get("text")) or "" for m in body.get("messages") or [] if isinstance(m, dict))
        # QUEUED/WAITING: the purchase is under way; read back again later.
        raise LabelError(f"Shippo transaction {status or 'without status'}" + (f": {notes}" if notes else ""),
                         retryable=status in ("QUEUED", "WAITING"))
    rate = body.get("rate")
    amount = currency = None
    carrier = ""
    if isinstance(rate, dict):  # expanded (the API reference's sample): the price bought
        amount, currency = money(rate.get("amount")), text(rate.get("currency"))
        carrier = text(rate.get("provider")) or ""
    label_url = text(body.get("label_url"))
    number = text(body.get("tracking_number"))
    if not label_url or not number:
        raise LabelError("Shippo answered a transaction without its label", retryable=True)
    is_png = (text(body.get("label_file_type")) or "").upper().startswith("PNG")
    return BoughtLabel(purchase_id=body.get("object_id") or "", shipment_id=shipment_id, rate_id=rate_id,
                       tracking_number=number, carrier=carrier, label_url=label_url, cost=amount, currency=currency,
                       label_pdf_url=None if is_png else label_url, label_png_url=label_url if is_png else None,
                       qr_url=text(body.get("qr_code_url")), tracking_url=text(body.get("tracking_url_provider")))

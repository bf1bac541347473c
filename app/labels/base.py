"""What every label provider offers, in our terms, and the rate choice they share."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Protocol


class LabelError(Exception):
    """A provider call that failed. `retryable`: the same call may succeed later (a timeout, a 5xx,
    a lost answer); `already_bought`: the provider refused a buy because the shipment has postage."""

    def __init__(self, message: str, *, retryable: bool = False, already_bought: bool = False,
                 status: int | None = None):
        super().__init__(message)
        self.retryable, self.already_bought, self.status = retryable, already_bought, status


@dataclass(frozen=True)
class Address:
    """A postal address as providers take it (country: ISO 3166 alpha-2)."""

    name: str
    street1: str
    city: str
    zip: str
    country: str
    street2: str = ""
    state: str = ""
    phone: str = ""
    email: str = ""
    company: str = ""

    def fields(self) -> dict:
        """The address as both providers spell it (EasyPost's and Shippo's address objects share
        these keys), empty parts left out."""
        out = {"name": self.name, "company": self.company, "street1": self.street1, "street2": self.street2,
               "city": self.city, "state": self.state, "zip": self.zip, "country": self.country,
               "phone": self.phone, "email": self.email}
        return {key: value for key, value in out.items() if value}


@dataclass(frozen=True)
class Parcel:
    """The parcel: weight in ounces (both providers' default unit), optional dimensions in inches."""

    weight_oz: Decimal
    length_in: Decimal | None = None
    width_in: Decimal | None = None
    height_in: Decimal | None = None


@dataclass(frozen=True)
class Rate:
    """One price offered for a shipment."""

    id: str
    carrier: str
    service: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Shipment:
    """A created shipment and the rates it was offered."""

    id: str
    rates: tuple[Rate, ...] = field(default=())


@dataclass(frozen=True)
class BoughtLabel:
    """A bought label: what the shopper prints and what tracking follows.

    `purchase_id` is the provider's id of the purchase (EasyPost: the shipment; Shippo: the
    transaction), the id a void names."""

    purchase_id: str
    shipment_id: str | None
    rate_id: str | None
    tracking_number: str
    carrier: str
    label_url: str
    # None when the answer does not carry the price (Shippo's transaction names its rate by id):
    # the chosen rate's amount, stored before buying, is the cost then.
    cost: Decimal | None
    currency: str | None
    label_pdf_url: str | None = None
    label_png_url: str | None = None
    qr_url: str | None = None
    tracking_url: str | None = None


@dataclass(frozen=True)
class Tracker:
    """A tracker the provider made for a number (its events come through the tracking webhooks)."""

    id: str
    tracking_number: str
    carrier: str | None = None
    public_url: str | None = None


class Provider(Protocol):
    """One label provider. Every method raises LabelError."""

    name: str

    def create_return_shipment(self, shopper: Address, shop: Address, parcel: Parcel,
                               reference: str) -> Shipment: ...

    def buy(self, shipment_id: str, rate_id: str, reference: str) -> BoughtLabel: ...

    def find_purchase(self, shipment_id: str, rate_id: str) -> BoughtLabel | None: ...

    def void(self, purchase_id: str) -> str: ...

    def create_tracker(self, tracking_number: str, carrier: str) -> Tracker: ...


def money(value: object) -> Decimal:
    """A provider's amount ("5.50", 5.5) as Decimal; LabelError when it is none."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise LabelError(f"the provider sent an amount that is not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise LabelError(f"the provider sent an impossible amount: {value!r}")
    return amount


def choose_rate(rates: tuple[Rate, ...] | list[Rate], carrier: str | None = None,
                service: str | None = None) -> Rate:
    """The cheapest rate, among those of `carrier` (and `service`) when the shop chose one
    (case-insensitive). LabelError when nothing fits."""
    fitting = [rate for rate in rates
               if (not carrier or rate.carrier.lower() == carrier.lower())
               and (not service or rate.service.lower() == service.lower())]
    if not fitting:
        wanted = " ".join(part for part in (carrier, service) if part) or "any carrier"
        raise LabelError(f"no rate offered for {wanted}")
    # Ties go to the first offered: the same answer read twice chooses the same rate.
    return min(fitting, key=lambda rate: rate.amount)


def text(value: object) -> str | None:
    """A JSON value as trimmed text, None for absent/empty/non-scalars."""
    if value is None or isinstance(value, (dict, list)):
        return None
    out = str(value).strip()
    return out or None

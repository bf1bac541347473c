"""The label adapters read the providers' documented responses (tests/fixtures/labels, with their
source notes), and choose the rate the shop wants."""
import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.labels import LabelError, Rate, choose_rate
from app.labels import easypost, shippo

FIXTURES = Path(__file__).parents[1] / "fixtures" / "labels"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_easypost_return_shipment_rates_are_read_as_decimals():
    shipment = easypost.shipment_from(fixture("easypost_returns-create.json"))
    assert shipment.id == "shp_18efc5c59c4b4bc598eb47070948cec8"
    assert {(r.carrier, r.service) for r in shipment.rates} >= {("USPS", "Express")}
    assert all(isinstance(r.amount, Decimal) for r in shipment.rates)
    assert choose_rate(shipment.rates).amount == min(r.amount for r in shipment.rates)


def test_easypost_bought_shipment_gives_number_label_and_cost():
    label = easypost.label_from(fixture("easypost_shipments-buy.json"))
    assert label.tracking_number == "9434600208303109842228"
    assert label.cost == Decimal("8.20") and label.currency == "USD" and label.carrier == "USPS"
    assert label.label_png_url.endswith(".png") and label.label_pdf_url is None
    assert label.purchase_id == label.shipment_id == "shp_40b6f049f00348b18de3804a26f7fd62"


def test_easypost_label_conversion_is_read_too():
    converted = fixture("easypost_shipments-label.json")
    label = easypost.label_from(converted)
    assert label.label_url == converted["postage_label"]["label_url"]


def test_an_unbought_easypost_shipment_is_no_label():
    with pytest.raises(LabelError):
        easypost.label_from(fixture("easypost_returns-create.json"))


def test_shippo_shipment_and_transaction_are_read():
    shipment = shippo.shipment_from(fixture("shippo_shipments-create.json"))
    assert shipment.rates[0].amount == Decimal("5.5") and shipment.rates[0].service == "usps_priority"
    label = shippo.label_from(fixture("shippo_transactions-create.json"), shipment.id, shipment.rates[0].id)
    assert label.tracking_number == "9499907123456123456781" and label.cost == Decimal("5.5")
    assert label.qr_url.startswith("https://") and label.label_pdf_url == label.label_url


def test_a_failed_shippo_transaction_is_an_error_and_a_queued_one_retryable():
    failed = {**fixture("shippo_transactions-create.json"), "status": "ERROR"}
    with pytest.raises(LabelError) as error:
        shippo.label_from(failed, None, "r")
    assert not error.value.retryable and "ERROR" in str(error.value)
    with pytest.raises(LabelError) as queued:
        shippo.label_from({**failed, "status": "QUEUED"}, None, "r")
    assert queued.value.retryable


def rate(rate_id, carrier, service, amount):
    return Rate(id=rate_id, carrier=carrier, service=service, amount=Decimal(amount), currency="USD")


def test_the_cheapest_rate_or_the_shops_carrier():
    rates = [rate("a", "USPS", "Express", "51.20"), rate("b", "UPS", "Ground", "9.10"),
             rate("c", "USPS", "Ground", "8.20")]
    assert choose_rate(rates).id == "c"
    assert choose_rate(rates, carrier="ups").id == "b"
    with pytest.raises(LabelError):
        choose_rate(rates, carrier="FedEx")


@pytest.mark.parametrize("amount", ["NaN", "-1", "Infinity", "abc", None])
def test_impossible_amounts_are_refused(amount):
    body = fixture("easypost_returns-create.json")
    body["rates"][0]["rate"] = amount
    with pytest.raises(LabelError):
        easypost.shipment_from(body)

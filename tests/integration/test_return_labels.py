"""Prepaid return labels bought from the sandbox's EasyPost and Shippo fakes: exactly one label
per return however the purchase is interrupted, its cost recorded, its number attached to the
return so the first carrier scan moves it, and a void that gives the shopper the form back."""
import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from app.crypto import encrypt_secret
from app.extensions import db
from app.labels import LabelError
from app.models import Account, Return, ReturnLabel
from app.services import labels as label_service
from app.services.return_submission import Selection, create_return
from app.services.shopify_access import client_for
from tests.support.journey import sandbox_order
from tests.factories import make_account
from tests.support.portal import connect_to_sandbox, exchangeable_product
from tests.support.shopify_returns import RETURNS_SCOPES, sandbox_returns
from tests.support.labels import (SHOPPER_ADDRESS, drop_next_buy_answers, purchases, return_to_label,
                                  use_label_provider)
from tests.support.tracking import connect, easypost_headers, path_of

pytestmark = pytest.mark.account(name="Acme Outdoor", return_action="first_scan", in_sandbox=True)
CARRIERS = Path(__file__).parents[1] / "fixtures" / "carriers"
LABELS = Path(__file__).parents[1] / "fixtures" / "labels"
PROVIDERS = ["easypost", "shippo"]
# The cheapest rate each fake offers (EasyPost: USPS GroundAdvantage; Shippo: USPS Ground Advantage).
CHEAPEST = {"easypost": Decimal("8.20"), "shippo": Decimal("7.35")}


def label_row(ret) -> ReturnLabel:
    db.session.expire_all()
    return db.session.query(ReturnLabel).filter_by(return_id=ret.id).one()


def reload(ret) -> Return:
    db.session.expire_all()
    return db.session.get(Return, ret.id)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_label_is_bought_once_its_cost_recorded_and_its_number_attached(account, sandbox, provider):
    use_label_provider(account, sandbox, provider)
    ret = return_to_label(account)
    assert label_service.buy_label(ret.id) == "bought"
    assert label_service.buy_label(ret.id) == "bought"  # run twice: nothing more is bought
    label = label_row(ret)
    assert purchases(sandbox)["purchases"] == 1
    assert label.cost == CHEAPEST[provider] and isinstance(label.cost, Decimal) and label.currency == "USD"
    assert reload(ret).tracking_number == label.tracking_number
    assert purchases(sandbox)["trackers"] == [label.tracking_number]
    pdf = requests.get(label.label_pdf_url, timeout=5)
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    if provider == "easypost":
        png = requests.get(label.label_png_url, timeout=5)
        assert png.content.startswith(b"\x89PNG") and label.qr_url is None
    else:  # Shippo offers a QR code
        assert requests.get(label.qr_url, timeout=5).content.startswith(b"\x89PNG")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_crash_between_buying_and_recording_ends_with_one_label(account, sandbox, provider, monkeypatch):
    use_label_provider(account, sandbox, provider)
    ret = return_to_label(account)
    real_record = label_service.record_purchase

    def crash(*_args):
        raise SystemExit("worker killed after the provider sold the label")

    monkeypatch.setattr(label_service, "record_purchase", crash)
    with pytest.raises(SystemExit):
        label_service.buy_label(ret.id)
    db.session.rollback()
    assert label_row(ret).state == "BUYING" and purchases(sandbox)["purchases"] == 1
    monkeypatch.setattr(label_service, "record_purchase", real_record)
    assert label_service.buy_label(ret.id) == "bought"  # read back by the stored id, not bought again
    assert purchases(sandbox)["purchases"] == 1
    assert reload(ret).tracking_number == label_row(ret).tracking_number


@pytest.mark.parametrize("how", ["drop", "fail"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_lost_answer_to_the_buy_ends_with_one_label(account, sandbox, provider, how):
    """The provider bought the label but its answer was lost, or it failed after committing."""
    use_label_provider(account, sandbox, provider)
    ret = return_to_label(account)
    drop_next_buy_answers(sandbox, how=how)
    with pytest.raises(LabelError) as lost:
        label_service.buy_label(ret.id)
    assert lost.value.retryable
    db.session.rollback()
    assert label_row(ret).state == "BUYING"
    assert label_service.buy_label(ret.id) == "bought"
    assert purchases(sandbox)["purchases"] == 1 and label_row(ret).cost == CHEAPEST[provider]


def test_easypost_refuses_a_second_buy_of_a_bought_shipment(account, sandbox):
    use_label_provider(account, sandbox, "easypost")
    ret = return_to_label(account)
    label_service.buy_label(ret.id)
    label = label_row(ret)
    again = requests.post(f"{sandbox.url}/easypost/v2/shipments/{label.shipment_id}/buy",
                          json={"rate": {"id": label.rate_id}}, auth=("EZTK_test_labels_key", ""), timeout=5)
    assert again.status_code == 422 and again.json()["error"]["code"] == "SHIPMENT.POSTAGE.EXISTS"
    # A label job whose record was lost (BUYING again) reads the purchase back instead.
    label.state = "BUYING"
    db.session.commit()
    assert label_service.buy_label(ret.id) == "bought" and purchases(sandbox)["purchases"] == 1


def test_the_fakes_refuse_requests_without_the_providers_auth(sandbox):
    assert requests.post(f"{sandbox.url}/easypost/v2/shipments", json={}, timeout=5).status_code == 401
    wrong_key = requests.post(f"{sandbox.url}/easypost/v2/shipments", json={}, auth=("wrong", ""), timeout=5)
    assert wrong_key.status_code == 401
    assert requests.post(f"{sandbox.url}/shippo/transactions", json={}, timeout=5,
                         headers={"Authorization": "Bearer shippo_test_labels_key"}).status_code == 401


def test_the_first_carrier_scan_moves_the_return_without_the_shopper_typing(account, sandbox, client):
    use_label_provider(account, sandbox, "easypost")
    ret = return_to_label(account)
    label_service.buy_label(ret.id)
    number = label_row(ret).tracking_number
    connection = connect(account, "easypost")
    connection.secret_encrypted = encrypt_secret("label-secret")
    db.session.commit()
    event = json.loads((CARRIERS / "easypost_tracker_updated_fixture.json").read_text())
    event["result"]["tracking_code"] = number
    body = json.dumps(event).encode()
    answer = client.post(path_of(connection), data=body, headers=easypost_headers("label-secret", body))
    assert answer.status_code == 200
    assert reload(ret).status == "IN_TRANSIT"


def test_a_return_without_an_address_fails_with_the_reason_and_buys_nothing(account, sandbox):
    use_label_provider(account, sandbox, "easypost")
    ret = return_to_label(account)
    ret.shipping_address = None
    db.session.commit()
    assert label_service.buy_label(ret.id) == "failed"
    assert "no complete shipping address" in label_row(ret).error and purchases(sandbox)["purchases"] == 0


def test_voiding_refunds_the_label_and_gives_the_number_back(account, sandbox):
    use_label_provider(account, sandbox, "easypost")
    ret = return_to_label(account)
    label_service.buy_label(ret.id)
    label_service.void_label(ret.id, "staff@example.com")
    label = label_row(ret)
    assert label.state == "VOIDED" and purchases(sandbox)["refunds"] == [label.purchase_id]
    assert reload(ret).tracking_number is None


def test_no_provider_no_label(account, sandbox):
    ret = return_to_label(account)
    assert label_service.buy_label(ret.id) == "labels off"
    assert purchases(sandbox)["purchases"] == 0


def documented(name: str) -> set:
    return set(json.loads((LABELS / f"{name}.json").read_text()))


def test_the_fakes_answer_in_the_documented_shapes(account, sandbox):
    """Every field of the providers' documented answers is in the fakes' answers."""
    use_label_provider(account, sandbox, "easypost")
    use_label_provider(account, sandbox, "shippo")
    ep = requests.Session()
    ep.auth = ("EZTK_test_labels_key", "")
    address = {"name": "A", "street1": "1 Main St", "city": "Town", "zip": "90277", "country": "US"}
    shipment = ep.post(f"{sandbox.url}/easypost/v2/shipments", timeout=5, json={"shipment": {
        "to_address": address, "from_address": address, "parcel": {"weight": "10"}, "is_return": True}}).json()
    assert documented("easypost_returns-create") <= set(shipment) and shipment["is_return"] is True
    bought = ep.post(f"{sandbox.url}/easypost/v2/shipments/{shipment['id']}/buy", timeout=5,
                     json={"rate": {"id": shipment["rates"][0]["id"]}}).json()
    assert documented("easypost_shipments-buy") <= set(bought)
    tracker = ep.post(f"{sandbox.url}/easypost/v2/trackers", timeout=5,
                      json={"tracker": {"tracking_code": bought["tracking_code"], "carrier": "USPS"}}).json()
    assert documented("easypost_trackers-create") <= set(tracker)
    sp = requests.Session()
    sp.headers["Authorization"] = "ShippoToken shippo_test_labels_key"
    created = sp.post(f"{sandbox.url}/shippo/shipments/", timeout=5, json={
        "address_from": address, "address_to": address, "parcels": [{"weight": "1", "mass_unit": "lb"}],
        "extra": {"is_return": True}, "async": False}).json()
    assert documented("shippo_shipments-create") <= set(created)
    transaction = sp.post(f"{sandbox.url}/shippo/transactions", timeout=5,
                          json={"rate": created["rates"][0]["object_id"], "label_file_type": "PDF"}).json()
    assert documented("shippo_transactions-create") <= set(transaction)
    refund = sp.post(f"{sandbox.url}/shippo/refunds", timeout=5, json={"transaction": transaction["object_id"]}).json()
    assert documented("shippo_refunds-create") <= set(refund)
    track = sp.post(f"{sandbox.url}/shippo/tracks/", timeout=5,
                    json={"carrier": "usps", "tracking_number": transaction["tracking_number"]}).json()
    assert documented("shippo_tracks-create") <= set(track)


@pytest.fixture
def returns_account(sandbox):
    """A store connected to its sandbox shop with the Returns API scopes (committed)."""
    account = make_account(name="Acme Returns", return_action="manual")
    connect_to_sandbox(account, sandbox, RETURNS_SCOPES)
    db.session.commit()
    return account


@pytest.fixture
def shopify_order(returns_account, sandbox):
    """A paid, shipped order of the store's sandbox shop, stored as intake would store it."""
    product = exchangeable_product(sandbox, returns_account.shop_domain)
    return sandbox_order(returns_account, sandbox, [product.bought.id], "pat@example.com")


def test_the_label_goes_to_shopify_as_the_returns_reverse_delivery_once(returns_account, sandbox, shopify_order,
                                                                          demo_jobs_in_process):
    use_label_provider(returns_account, sandbox, "easypost")
    ret, _ = create_return(returns_account, shopify_order.id,
                           [Selection(shopify_order.lines[0].id, 1, "Faulty", None, "refund")], "labels-shopify")
    label = label_row(ret)
    assert label.state == "BOUGHT" and label.shopify_delivery == "sent"
    made = sandbox_returns(sandbox, returns_account)["returns"]
    assert len(made) == 1
    deliveries = made[0]["reverse_deliveries"]
    assert len(deliveries) == 1 and deliveries[0]["tracking_number"] == label.tracking_number
    assert deliveries[0]["label_url"] == label.label_pdf_url and deliveries[0]["lines"][0][1] == 1
    # A lost record: the job runs again, reads the delivery back and sends nothing more.
    label.shopify_delivery = None
    db.session.commit()
    assert label_service.buy_label(ret.id) == "bought"
    assert len(sandbox_returns(sandbox, returns_account)["returns"][0]["reverse_deliveries"]) == 1
    assert purchases(sandbox)["purchases"] == 1


def test_shopify_refuses_a_reverse_delivery_it_does_not_hold(returns_account, sandbox, shopify_order,
                                                              demo_jobs_in_process):
    use_label_provider(returns_account, sandbox, "easypost")
    ret, _ = create_return(returns_account, shopify_order.id,
                           [Selection(shopify_order.lines[0].id, 1, "Faulty", None, "refund")], "labels-refused")
    made = sandbox_returns(sandbox, returns_account)["returns"][0]
    rfo = f"gid://shopify/ReverseFulfillmentOrder/{made['reverse_fulfillment_order_id']}"
    line = f"gid://shopify/ReverseFulfillmentOrderLineItem/{made['lines'][0]['reverse_fulfillment_order_line_item_id']}"
    client = client_for(returns_account)

    def send(**variables):
        body = {"reverseFulfillmentOrderId": rfo, "lines": [], "tracking": {"number": "1Z999"},
                "label": {"fileUrl": "https://labels.example.com/l.pdf"}, "notifyCustomer": False, **variables}
        return client.run("reverse_delivery_create", body)["reverseDeliveryCreateWithShipping"]["userErrors"]

    assert send(reverseFulfillmentOrderId="gid://shopify/ReverseFulfillmentOrder/999999")[0]["code"] == "NOT_FOUND"
    # The label already took the one unit: no unit is left for a second delivery.
    assert send(lines=[{"reverseFulfillmentOrderLineItemId": line, "quantity": 1}])[0]["code"] == "INVALID"
    assert send(label={"fileUrl": "javascript:alert(1)"})
    assert len(sandbox_returns(sandbox, returns_account)["returns"][0]["reverse_deliveries"]) == 1


def test_the_sweeper_finishes_a_label_a_lost_job_left_and_staff_can_retry_a_failed_one(account, sandbox, app,
                                                                                         monkeypatch):
    use_label_provider(account, sandbox, "easypost")
    ret = return_to_label(account)
    drop_next_buy_answers(sandbox)
    with pytest.raises(LabelError):
        label_service.buy_label(ret.id)
    db.session.rollback()
    assert label_service.labels_to_sweep() == []  # within the grace period: its own retries come first
    monkeypatch.setitem(app.config, "SWEEP_GRACE_SECONDS", 0)
    assert label_service.labels_to_sweep() == [ret.id]
    assert label_service.buy_label(ret.id) == "bought" and label_service.labels_to_sweep() == []
    assert purchases(sandbox)["purchases"] == 1

    broken = return_to_label(account)
    broken.shipping_address = None
    db.session.commit()
    assert label_service.buy_label(broken.id) == "failed"
    assert broken.id not in label_service.labels_to_sweep()  # a refusal waits for staff
    broken = reload(broken)
    broken.shipping_address = dict(SHOPPER_ADDRESS)
    db.session.commit()
    label_service.retry_label(broken.id, "staff@example.com")  # queued (and run, in-process)
    label_service.buy_label(broken.id)
    assert label_row(broken).state == "BOUGHT" and purchases(sandbox)["purchases"] == 2
    with pytest.raises(label_service.LabelNotPossible):
        label_service.retry_label(broken.id, "staff@example.com")


def test_a_cancelled_returns_bought_label_is_voided_once(account, sandbox, monkeypatch):
    from app.services import return_workflow  # noqa: PLC0415  (only these tests cancel)
    use_label_provider(account, sandbox, "easypost")
    ret = return_to_label(account)
    label_service.buy_label(ret.id)
    queued = []
    monkeypatch.setattr(label_service, "enqueue", lambda name, *args, **kw: queued.append((name, args)))
    return_workflow.cancel_return(reload(ret), "pat@example.com", by_customer=True)
    assert ("jobs.labels.void_unused_label_job", (ret.id,)) in queued
    assert label_service.void_unused(ret.id) == "voided"
    assert label_service.void_unused(ret.id) == "voided"  # again: nothing more
    assert purchases(sandbox)["refunds"] == [label_row(ret).purchase_id]


def test_a_label_not_yet_bought_when_its_return_is_cancelled_is_never_bought(account, sandbox, monkeypatch):
    from app.services import return_workflow  # noqa: PLC0415
    use_label_provider(account, sandbox, "easypost")
    ret = return_to_label(account)
    monkeypatch.setattr(label_service, "_buy", lambda *a: (_ for _ in ()).throw(AssertionError("bought")))
    label = label_service._start(db.session.get(Account, account.id), ret)
    assert label.state == "CREATING"
    return_workflow.cancel_return(reload(ret), "pat@example.com", by_customer=True)
    assert label_service.buy_label(ret.id) == "failed"
    assert "cancelled before its label was bought" in label_row(ret).error
    assert purchases(sandbox)["purchases"] == 0


def test_a_declined_returns_label_bought_on_submission_is_voided(account, sandbox, monkeypatch):
    from app.services import return_review  # noqa: PLC0415
    use_label_provider(account, sandbox, "shippo")
    ret = return_to_label(account, status="REQUESTED")
    label_service.buy_label(ret.id)
    assert label_row(ret).state == "BOUGHT"
    monkeypatch.setattr(return_review, "queue_for_return", lambda ret: None)  # its Shopify side: tested elsewhere
    queued = []
    monkeypatch.setattr(label_service, "enqueue", lambda name, *args, **kw: queued.append((name, args)))
    return_review.decline(account.id, ret.id, "boss@example.com", "OTHER", "We cannot take this back.")
    assert queued == [("jobs.labels.void_unused_label_job", (ret.id,))]  # the decline asks for the void
    assert label_service.void_unused(ret.id) == "voided"
    assert purchases(sandbox)["refunds"] == [label_row(ret).purchase_id]

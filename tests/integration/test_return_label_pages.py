"""The label pages: an admin sets labels up (the key stored encrypted and never shown back, every
refusal beside its field with everything typed kept), the shopper's status page offers the label
in place of the tracking form, staff see its state and cost and void it only after being asked."""
from decimal import Decimal

import pytest

from app.crypto import decrypt_secret
from app.extensions import db
from app.models import Account, ReturnLabel
from app.portal.session import status_token
from app.services import labels as label_service
from app.services import return_review
from tests.fixtures.auth import log_in
from tests.support.hostile import HOSTILE
from tests.support.labels import return_to_label, use_label_provider

pytestmark = pytest.mark.account(name="Acme Outdoor", users=["admin", "staff"], in_sandbox=True)
PAGE = "/dashboard/settings/labels"
VALID = {"provider": "easypost", "api_key": "EZTK_secret_key_123", "issue_on": "submission", "weight_oz": "24",
         "carrier": "", "name": "Acme Returns", "company": "",
         "street1": "417 Montgomery Street", "street2": "5th Floor", "city": "San Francisco", "state": "CA",
         "zip": "94104", "country": "us", "phone": ""}


def saved(account) -> Account:
    db.session.expire_all()
    return db.session.get(Account, account.id)


def test_an_admin_sets_up_labels_and_the_key_is_never_shown_back(account, client):
    log_in(client, "boss@example.com")
    answer = client.post(PAGE, data=VALID)
    assert answer.status_code == 303
    stored = saved(account)
    assert stored.label_provider == "easypost" and decrypt_secret(stored.label_api_key_encrypted) == VALID["api_key"]
    assert stored.label_weight_oz == Decimal("24")
    assert stored.label_ship_to["country"] == "US" and stored.label_issue_on == "submission"
    page = client.get(PAGE).get_data(as_text=True)
    assert VALID["api_key"] not in page and "A key is stored" in page
    # Saving again without typing the key keeps it.
    assert client.post(PAGE, data={**VALID, "api_key": ""}).status_code == 303
    assert decrypt_secret(saved(account).label_api_key_encrypted) == VALID["api_key"]


def test_refusals_keep_everything_typed_and_save_nothing(account, client):
    log_in(client, "boss@example.com")
    answer = client.post(PAGE, data={**VALID, "weight_oz": "0", "street1": "", "api_key": ""})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Nothing was saved" in body
    assert "Enter between 0.1" in body and "Enter the street address" in body and "Enter the provider" in body
    assert 'value="San Francisco"' in body and 'value="417 Montgomery Street"' not in body
    assert 'value="0"' in body
    assert saved(account).label_provider == ""


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", ["weight_oz", "street1", "country", "api_key", "provider", "issue_on"])
def test_hostile_values_are_refused_with_nothing_written(account, client, name, value):
    log_in(client, "boss@example.com")
    answer = client.post(PAGE, data={**VALID, name: value})
    assert answer.status_code in (303, 422)
    if answer.status_code == 303:  # a value that is only text where text is allowed
        assert name in ("street1", "api_key")
    else:
        assert saved(account).label_provider == ""


def test_who_pays_is_the_return_shipping_fee_of_the_fees_settings(account, client):
    log_in(client, "boss@example.com")
    assert "your shop (no return shipping fee is set)" in client.get(PAGE).get_data(as_text=True)
    stored = saved(account)
    stored.return_shipping_fee = Decimal("5.95")
    db.session.commit()
    page = client.get(PAGE).get_data(as_text=True)
    assert "the shopper, through the return shipping fee of <strong>5.95 USD</strong>" in page


def test_staff_cannot_open_the_label_settings(account, client):
    log_in(client, "staff@example.com")
    assert client.get(PAGE).status_code in (302, 403)


def test_the_status_page_offers_the_label_and_hides_the_tracking_form(account, client, sandbox):
    use_label_provider(account, sandbox, "shippo")
    ret = return_to_label(account)
    status_page = f"/r/{account.slug}/returns/{status_token(ret)}"
    assert "Add the tracking number" in client.get(status_page).get_data(as_text=True)
    label_service.buy_label(ret.id)
    label = db.session.query(ReturnLabel).filter_by(return_id=ret.id).one()
    body = client.get(status_page).get_data(as_text=True)
    assert "Download your label (PDF)" in body and label.label_pdf_url in body and label.qr_url in body
    assert label.tracking_number in body and "Add the tracking number" not in body


def test_on_approval_the_status_page_says_the_label_comes_later_and_approval_buys_it(account, client, sandbox,
                                                                                    monkeypatch):
    use_label_provider(account, sandbox, "easypost", label_issue_on="approval")
    ret = return_to_label(account, status="REQUESTED")
    body = client.get(f"/r/{account.slug}/returns/{status_token(ret)}").get_data(as_text=True)
    assert "comes once Acme Outdoor approves your return" in body
    queued = []
    monkeypatch.setattr(label_service, "enqueue", lambda name, *args, **kw: queued.append((name, args)))
    monkeypatch.setattr(return_review, "queue_for_return", lambda ret: None)  # its Shopify side: tested elsewhere
    return_review.approve(account.id, ret.id, "boss@example.com")
    assert queued == [("jobs.labels.buy_label_job", (ret.id,))]


def test_a_return_no_review_holds_gets_its_label_at_submission_even_on_approval(account, sandbox, monkeypatch):
    use_label_provider(account, sandbox, "easypost", label_issue_on="approval")
    ret = return_to_label(account)
    queued = []
    monkeypatch.setattr(label_service, "enqueue", lambda name, *args, **kw: queued.append((name, args)))
    assert label_service.after_submission(saved(account), ret.id)
    assert queued == [("jobs.labels.buy_label_job", (ret.id,))]


def test_staff_see_the_label_and_void_it_after_being_asked(account, client, sandbox):
    use_label_provider(account, sandbox, "easypost")
    ret = return_to_label(account)
    label_service.buy_label(ret.id)
    log_in(client, "staff@example.com")
    page = client.get(f"/dashboard/returns/{ret.id}").get_data(as_text=True)
    assert "Prepaid label" in page and "8.20 USD" in page and "Void label" in page
    asked = client.post(f"/dashboard/returns/{ret.id}/label/void")
    assert asked.status_code == 200 and "Void the prepaid label" in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(ReturnLabel).filter_by(return_id=ret.id).one().state == "BOUGHT"
    assert client.post(f"/dashboard/returns/{ret.id}/label/void", data={"confirmed": "yes"}).status_code == 303
    db.session.expire_all()
    assert db.session.query(ReturnLabel).filter_by(return_id=ret.id).one().state == "VOIDED"


def test_the_shopper_cannot_replace_the_labels_number(account, client, sandbox):
    use_label_provider(account, sandbox, "easypost")
    ret = return_to_label(account)
    label_service.buy_label(ret.id)
    number = db.session.query(ReturnLabel).filter_by(return_id=ret.id).one().tracking_number
    answer = client.post(f"/r/{account.slug}/returns/{status_token(ret)}/tracking",
                         data={"tracking_number": "1Z999AA1"})
    assert answer.status_code == 422 and "already on this return" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(ret), ret.id).tracking_number == number


def test_the_demo_store_buys_labels_from_the_sandbox(account, sandbox):
    from app.demo.labels import connect_demo_labels
    from app.demo.sandbox import SandboxControl

    lines = connect_demo_labels(SandboxControl(sandbox.url), account)
    assert any("prepaid EasyPost label" in line for line in lines)
    ret = return_to_label(account)
    assert label_service.buy_label(ret.id) == "bought"
    connect_demo_labels(SandboxControl(sandbox.url), account)  # again: nothing changes
    assert saved(account).label_provider == "easypost"


def test_staff_buy_the_label_of_a_return_waiting_for_approval(account, client, sandbox, demo_jobs_in_process):
    use_label_provider(account, sandbox, "easypost", label_issue_on="approval")
    ret = return_to_label(account)
    log_in(client, "staff@example.com")
    page = client.get(f"/dashboard/returns/{ret.id}").get_data(as_text=True)
    assert "labels are bought when the return is approved" in page and "Buy the prepaid label now" in page
    assert client.post(f"/dashboard/returns/{ret.id}/label/retry").status_code == 303
    db.session.expire_all()
    assert db.session.query(ReturnLabel).filter_by(return_id=ret.id).one().state == "BOUGHT"
    assert "Void label" in client.get(f"/dashboard/returns/{ret.id}").get_data(as_text=True)

"""The return action settings: when options are issued, where items restock and whether refunds
restock; the locations come from the store (the sandbox here), and a slow or unreachable Shopify
is said plainly without losing the stored choice."""
import re
import time

import pytest

from app.extensions import db
from app.models import Account
from tests.factories import make_user
from tests.fixtures.auth import log_in
from tests.support.portal import SCOPES, connect_to_sandbox
from tests.support.settings import SETTINGS, post_settings

pytestmark = pytest.mark.account(return_action="processing", users=["admin"], logged_in="admin")



@pytest.fixture
def connected(account, sandbox, monkeypatch):
    monkeypatch.setattr("tests.support.portal.SCOPES", SCOPES + ["read_locations", "write_inventory"])
    connect_to_sandbox(account, sandbox)
    db.session.commit()
    shop = sandbox.store.get_shop(account.shop_domain)
    return account, shop


def saved(account) -> Account:
    db.session.expire_all()
    return db.session.get(Account, account.id)


def location_ids(body: str) -> list[str]:
    select = re.search(r'<select[^>]*id="restock_location_id".*?</select>', body, re.S).group(0)
    return re.findall(r'<option[^>]*value="(\d*)"', select)


def test_the_settings_page_explains_each_action_and_lists_the_stores_locations(connected, client):
    account, shop = connected
    body = client.get("/dashboard/settings").get_data(as_text=True)
    for text in ("First scan", "without restocking", "Processing", "Manual", "Shop&#39;s default location",
                 "Main warehouse", "Put returned items back into stock (refunds, credit notes and exchanges)"):
        assert text in body, text
    assert location_ids(body)[0] == "" and str(shop.id * 10 + 1) in location_ids(body)


def test_settings_are_saved(connected, client):
    account, shop = connected
    location = str(shop.id * 10 + 1)
    response = post_settings(client, {"return_action": "first_scan", "restock_location_id": location,
                                           "restock_returned_units": None})
    assert response.status_code == 303
    stored = saved(account)
    assert (stored.return_action, stored.restock_location_id, stored.restock_returned_units) == (
        "first_scan", int(location), False)
    assert post_settings(client, {"return_action": "manual", "restock_location_id": "",
                                  "restock_returned_units": "y"}).status_code == 303
    stored = saved(account)
    assert (stored.return_action, stored.restock_location_id, stored.restock_returned_units) == ("manual", None, True)


@pytest.mark.parametrize("data, message", [
    ({"return_action": "whenever", "restock_location_id": ""}, "Not a valid choice"),
    ({"return_action": None, "restock_location_id": ""}, "Choose when the options are issued."),
    ({"return_action": "manual", "restock_location_id": "123456"}, "Choose one of the store&#39;s locations."),
    ({"return_action": "manual", "restock_location_id": "abc"}, "Choose one of the store&#39;s locations."),
])
def test_bad_values_are_refused_next_to_the_field(connected, client, data, message):
    account, _ = connected
    response = post_settings(client, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert saved(account).return_action == "processing" and saved(account).restock_location_id is None


def test_a_slow_shopify_is_said_plainly_and_the_stored_location_is_kept(connected, client, app, sandbox,
                                                                        monkeypatch):
    account, shop = connected
    account.restock_location_id = shop.id * 10 + 2
    db.session.commit()
    monkeypatch.setitem(app.config, "SETTINGS_SHOPIFY_TIMEOUT", 0.3)
    sandbox.store.set_faults(account.shop_domain, latency_ms=1500)
    started = time.monotonic()
    body = client.get("/dashboard/settings").get_data(as_text=True)
    assert time.monotonic() - started < 1.5
    assert "Shopify is slow or unreachable right now" in body
    assert location_ids(body) == ["", str(shop.id * 10 + 2)]
    # Saving the other settings still works, and keeps the location.
    assert post_settings(client, {"return_action": "manual", "restock_location_id": str(shop.id * 10 + 2),
                                  "restock_returned_units": "y"}).status_code == 303
    assert (saved(account).return_action, saved(account).restock_location_id) == ("manual", shop.id * 10 + 2)


def test_a_down_shopify_is_said_plainly(connected, client, sandbox):
    account, _ = connected
    sandbox.store.set_faults(account.shop_domain, error_rate=1.0)
    response = client.get("/dashboard/settings")
    assert response.status_code == 200
    assert "Shopify is slow or unreachable right now" in response.get_data(as_text=True)


def test_an_unconnected_store_says_to_connect(account, client):
    body = client.get("/dashboard/settings").get_data(as_text=True)
    assert "Connect your store to choose where returned items are restocked." in body
    assert location_ids(body) == [""]
    assert post_settings(client, {"return_action": "first_scan", "restock_location_id": ""}).status_code == 303
    assert saved(account).return_action == "first_scan"


def test_staff_may_not_change_the_return_action(account, client):
    make_user(account, role="staff", email="staff@example.com")
    db.session.commit()
    client.post("/logout")
    log_in(client, "staff@example.com")
    assert client.post(SETTINGS, data={"return_action": "manual"}).status_code == 403
    assert saved(account).return_action == "processing"

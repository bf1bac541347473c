"""A signed delivery Shopify triggered too long ago (or ahead of this server's clock) is set aside:
answered 200 so Shopify does not retry it, not stored, noted as webhook trouble, and the order
it carried is still read by the reconciliation. Genuine retries and late deliveries pass."""
import json
import time
from datetime import datetime, timedelta, timezone
from functools import partial

import pytest
from sqlalchemy import select

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Account, Order
from app.services import intake, reconcile
from tests.support.connect import SHOP as SANDBOX_SHOP, connected_account, make_shop, use_virtual_time
from tests.integration.test_webhook_fast_path import (BODY, SHOP, door, queued_for_one_delivery,  # noqa: F401 (fixture)
                                                       stored)
from tests.integration.test_webhook_health import CONNECTED_TWO_DAYS_AGO, webhooks_section
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.shopify_webhooks import SECRET, signed_headers


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def ago(**delta) -> str:
    return stamp(datetime.now(timezone.utc) - timedelta(**delta))


def post(client, triggered, body: bytes = BODY, shop: str = SHOP, secret: str = SECRET):
    """Post the body signed, triggered at `triggered`: a header value, None (no header) or a function
    giving the value when the test runs (times near a boundary are reckoned then, not when the
    tests were collected)."""
    if callable(triggered):
        triggered = triggered()
    headers = signed_headers(body, shop, secret=secret)  # a fresh event id each time
    if triggered is None:
        del headers["X-Shopify-Triggered-At"]
    else:
        headers["X-Shopify-Triggered-At"] = triggered
    return client.post("/webhooks/shopify", data=body, headers=headers)


@pytest.mark.parametrize("triggered", [
    pytest.param("2019-03-29T18:00:27.877041743Z", id="years old"),
    pytest.param(partial(ago, hours=48, minutes=1), id="just past 48 hours"),
    pytest.param("0001-01-01T00:00:00Z", id="year 1"),
    pytest.param(partial(ago, minutes=-16), id="16 minutes ahead"),
    pytest.param("9999-12-31T23:59:59.999999999Z", id="year 9999"),
    pytest.param(partial(ago, days=-1), id="a day ahead"),
])
def test_a_replay_triggered_outside_the_window_is_answered_200_and_not_stored(door, client, triggered):
    response = post(client, triggered)
    assert response.status_code == 200 and "set aside" in response.json["error"]
    assert stored() == 0 and door[1]["queued"] == []


@pytest.mark.parametrize("triggered", [
    pytest.param(partial(ago, seconds=0), id="now"),
    pytest.param(partial(ago, hours=4, minutes=5), id="Shopify's last retry"),
    pytest.param(partial(ago, hours=30), id="a day late"),
    pytest.param(partial(ago, hours=47, minutes=59), id="just inside 48 hours"),
    pytest.param(partial(ago, minutes=-14), id="14 minutes ahead"),
    pytest.param(None, id="no header"),
])
def test_genuine_retries_and_late_deliveries_are_accepted(door, client, app, triggered):
    response = post(client, triggered)
    assert (response.status_code, response.json) == (200, {"status": "accepted"})
    # The fast path (RQ) only stores: a worker's dispatcher queues the row.
    assert stored() == 1 and len(door[1]["queued"]) == queued_for_one_delivery(app)


def test_the_window_is_a_setting(door, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_AGE_HOURS", 1)
    monkeypatch.setitem(app.config, "WEBHOOK_CLOCK_SKEW_MINUTES", 0.5)
    assert "set aside" in post(client, ago(hours=1, minutes=1)).json["error"]
    assert "set aside" in post(client, ago(minutes=-1)).json["error"]
    assert post(client, ago(minutes=59)).json == {"status": "accepted"}


def test_a_bad_signature_is_judged_before_the_time(door, client):
    response = post(client, "2019-03-29T18:00:27Z", secret="shpss_wrong")
    assert response.status_code == 401
    assert db.session.scalar(select(Account.webhooks_stale_count).where(Account.shop_domain == SHOP)) in (0, None)


@CONNECTED_TWO_DAYS_AGO
def test_stale_deliveries_are_webhook_trouble_with_what_to_do(account, client, monkeypatch):
    monkeypatch.setattr(intake, "REFUSAL_WRITE_SECONDS", 0)
    body = json.dumps({"id": 1}).encode()
    assert "No sign of trouble" in webhooks_section(client)
    for triggered in ("2019-03-29T18:00:27Z", ago(days=3)):
        assert post(client, triggered, body=body, shop=account.shop_domain).status_code == 200
    section = webhooks_section(client)
    assert (f"Boomerang set aside 2 signed deliveries from {account.shop_domain} that Shopify triggered too long "
            "ago or ahead of this server's clock") in section
    assert "Check that this server's clock is right" in section and "No sign of trouble" not in section
    db.session.expire_all()
    assert db.session.get(Account, account.id).webhooks_refused_count in (0, None)  # not a signature problem


def test_the_reconciliation_still_stores_the_order_a_stale_delivery_carried(app, client, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, orders=0)
    account = connected_account(shop, reconciled_until=datetime.now(timezone.utc) - timedelta(minutes=10))
    account.webhook_secret_encrypted = encrypt_secret(SECRET)
    db.session.commit()
    shop.sandbox.clock.set(time.time())
    placed = shop.store.place_order(SANDBOX_SHOP, email="stale@example.com", seed=12)
    body = json.dumps({"id": placed.id, "email": "stale@example.com", "line_items": []}).encode()
    response = post(client, "2019-03-29T18:00:27Z", body=body, shop=SANDBOX_SHOP)
    assert response.status_code == 200 and "set aside" in response.json["error"]
    assert db.session.scalar(select(Order).where(Order.account_id == account.id)) is None
    assert reconcile.reconcile_account(account.id)["created"] == 1
    assert db.session.scalar(select(Order.shopify_order_id).where(Order.account_id == account.id)) == placed.id

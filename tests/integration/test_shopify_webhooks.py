"""`POST /webhooks/shopify`: real order payloads signed with the shop's secret are stored once,
newest data wins, and hostile or malformed deliveries change nothing."""
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Order, PendingDelivery, WebhookDelivery
from app.services.intake import intake_engine
from tests.factories import is_processed, make_account
from tests.fixture_files import shopify_json
from tests.support.shopify_webhooks import SECRET, post_webhook, signed_headers

# Every delivery here goes through both doors: the WSGI fast path and the Flask view.
pytestmark = pytest.mark.usefixtures("webhook_door")

SHOP = "acme-outdoor.myshopify.com"

pytestmark = pytest.mark.account(shop_domain=SHOP, webhook_secret=SECRET)


def fixture_body(name, key):
    return shopify_json(name)[key]


# (fixture, key, expected facts) — the values are read off the real payloads.
REAL_ORDERS = [
    ("order_rest_docs_450789469.json", "order",
     dict(name="#1001", email="bob.norman@hostmail.com", total="409.94", subtotal="398.00", discounts="0.00",
          tags=[], codes=["TENOFF"], country="US", lines=3)),
    ("order_rest_python_api_fixture_450789469.json", "order",
     dict(name="#1001", email="bob.norman@hostmail.com", total="409.94", subtotal="398.00", discounts="0.00",
          tags=[], codes=["TENOFF"], country="US", lines=3)),
    ("webhook_orders_create_docs_2026-04.metadata.json", "response",
     dict(name="#9999", email="jon@example.com", total="404.95", subtotal="404.95", discounts="20.00",
          tags=["tag1", "tag2"], codes=[], country="US", lines=5)),
]


def count(model, **where):
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


@pytest.mark.parametrize("fixture, key, expected", REAL_ORDERS, ids=[r[0] for r in REAL_ORDERS])
def test_every_real_order_fixture_is_stored_with_the_right_facts(account, client, drain_jobs, fixture, key, expected):
    response = post_webhook(client, fixture_body(fixture, key), SHOP)
    assert response.status_code == 200
    drain_jobs()
    order = db.session.scalar(select(Order).where(Order.account_id == account.id))
    assert order.name == expected["name"]
    assert order.email == expected["email"]
    assert order.total_price == Decimal(expected["total"])
    assert order.subtotal_price == Decimal(expected["subtotal"])
    assert order.total_discounts == Decimal(expected["discounts"])
    assert order.tags == expected["tags"]
    assert order.discount_codes == expected["codes"]
    assert order.shipping_country == expected["country"]
    assert len(order.lines) == expected["lines"]
    assert all(isinstance(line.discounted_unit_price, Decimal) for line in order.lines)
    delivery = db.session.scalar(select(WebhookDelivery))
    assert is_processed(delivery.id) and delivery.topic == "orders/create"


def test_the_real_dev_store_capture_is_accepted_and_kept(account, client, drain_jobs):
    """A partial body (the capture lacks name and totals) is stored as a delivery; with no API
    access the order waits for the Admin API or reconciliation instead of being half-written."""
    body = shopify_json("order_webhook_real_devstore_NIO_5361640702167.json")
    assert post_webhook(client, body, SHOP).status_code == 200
    drain_jobs()
    assert count(WebhookDelivery) == 1
    assert count(Order) == 0


def test_a_delivery_sent_three_times_is_stored_and_processed_once(account, client, drain_jobs):
    body = fixture_body(*REAL_ORDERS[2][:2])
    answers = [post_webhook(client, body, SHOP, event_id="evt-1").json["status"] for _ in range(3)]
    drain_jobs()
    assert answers == ["accepted", "duplicate", "duplicate"]
    assert count(WebhookDelivery) == 1 and count(Order) == 1


def test_out_of_order_deliveries_keep_the_newest_data(account, client, drain_jobs):
    older = fixture_body(*REAL_ORDERS[2][:2])
    newer = {**older, "updated_at": "2022-01-05T10:00:00-05:00", "tags": "vip, wholesale",
             "email": "jon.new@example.com"}
    post_webhook(client, newer, SHOP, topic="orders/updated")
    post_webhook(client, older, SHOP, topic="orders/create")  # arrives last, is older
    drain_jobs()
    order = db.session.scalar(select(Order))
    assert order.tags == ["vip", "wholesale"] and order.email == "jon.new@example.com"
    assert count(WebhookDelivery) == 2 and count(Order) == 1


def test_the_previous_secret_is_accepted_during_a_rotation(app, client, drain_jobs):
    make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret("new-secret"),
                 previous_webhook_secret_encrypted=encrypt_secret(SECRET))
    db.session.commit()
    body = fixture_body(*REAL_ORDERS[2][:2])
    assert post_webhook(client, body, SHOP, secret=SECRET).status_code == 200
    assert post_webhook(client, body, SHOP, secret="new-secret").status_code == 200
    assert post_webhook(client, body, SHOP, secret="some-other-secret").status_code == 401


def _post_raw(client, body: bytes, headers: dict):
    return client.post("/webhooks/shopify", data=body, headers=headers)


def test_bad_missing_or_lowercased_hmac_is_401_and_nothing_is_stored(account, client):
    body = json.dumps(fixture_body(*REAL_ORDERS[2][:2])).encode()
    good = signed_headers(body, SHOP)
    bad = {**good, "X-Shopify-Hmac-Sha256": good["X-Shopify-Hmac-Sha256"][:-4] + "AAA="}
    lowered = {**good, "X-Shopify-Hmac-Sha256": good["X-Shopify-Hmac-Sha256"].lower()}
    missing = {k: v for k, v in good.items() if k != "X-Shopify-Hmac-Sha256"}
    tampered_body = body.replace(b"jon@example.com", b"eve@example.com")
    for headers, sent in [(bad, body), (lowered, body), (missing, body), (good, tampered_body)]:
        response = _post_raw(client, sent, headers)
        assert response.status_code == 401
        assert "HMAC" in response.json["error"]
    assert count(WebhookDelivery) == 0 and count(Order) == 0


def test_an_unknown_shop_gets_the_same_401(account, client):
    body = b'{"id": 1}'
    response = _post_raw(client, body, signed_headers(body, "stranger.myshopify.com"))
    assert response.status_code == 401
    assert count(WebhookDelivery) == 0


@pytest.mark.parametrize("body, status, message", [
    (b"", 400, "empty body"),
    (b"   ", 400, "empty body"),
    (b"{not json", 400, "not valid JSON"),
    (b"\xff\xfe\x00garbage", 400, "not valid JSON"),
    (b"[1, 2, 3]", 400, "not a JSON object"),
    (b'"an order"', 400, "not a JSON object"),
    (b'{"id": 1, "note": "\xff"}', 400, "not valid JSON"),  # bad UTF-8 inside a nested value
    (b'{"id": 1, "line_items": [{"id": 2,}]}', 400, "not valid JSON"),
    (b'{"id": 1} trailing', 400, "not valid JSON"),
    (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "not valid JSON"),  # past any parser's depth
])
def test_malformed_bodies_are_400_and_nothing_is_stored(account, client, body, status, message):
    response = _post_raw(client, body, signed_headers(body, SHOP))
    assert response.status_code == status
    assert message in response.json["error"]
    assert count(WebhookDelivery) == 0


@pytest.mark.parametrize("body", [
    b'{"id": 1, "note": "gift \\ud83d"}',  # a cut emoji: a lone surrogate escape
    b'{"id": 1, "total_weight": NaN}',
], ids=["lone-surrogate", "nan"])
def test_json_only_the_lenient_parser_reads_is_still_accepted(account, client, body):
    response = _post_raw(client, body, signed_headers(body, SHOP))
    assert response.status_code == 200
    assert count(WebhookDelivery) == 1


def test_a_missing_topic_is_400(account, client):
    body = b'{"id": 1}'
    headers = {k: v for k, v in signed_headers(body, SHOP).items() if k != "X-Shopify-Topic"}
    assert _post_raw(client, body, headers).status_code == 400
    assert count(WebhookDelivery) == 0


def test_a_10_mb_body_is_413_and_nothing_is_stored(account, client):
    body = b'{"padding": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = _post_raw(client, body, signed_headers(body, SHOP))
    assert response.status_code == 413
    assert count(WebhookDelivery) == 0


def test_an_unparseable_triggered_at_is_400(account, client):
    body = b'{"id": 1}'
    headers = {**signed_headers(body, SHOP), "X-Shopify-Triggered-At": "yesterday-ish"}
    assert _post_raw(client, body, headers).status_code == 400
    assert count(WebhookDelivery) == 0


def test_webhooks_need_no_csrf_token(account, client, monkeypatch, app):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert post_webhook(client, fixture_body(*REAL_ORDERS[2][:2]), SHOP).status_code == 200


def test_a_store_reconnected_to_a_new_account_receives_at_once(account, client, drain_jobs):
    body = fixture_body(*REAL_ORDERS[2][:2])
    assert post_webhook(client, body, SHOP).status_code == 200  # caches the shop's keys
    db.session.delete(account)
    db.session.commit()
    make_account()  # takes the deleted account's id where the database reuses ids
    newcomer = make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET))
    db.session.commit()
    # The cached keys still verify, but name an account that is gone: intake re-reads and stores.
    assert post_webhook(client, body, SHOP, event_id="after-reconnect").status_code == 200
    drain_jobs()
    assert count(Order, account_id=newcomer.id) == 1


def test_intake_through_a_real_engine_commits_each_delivery_once(e2e_app):
    """The production path (an Engine, autocommitted INSERT on PostgreSQL), not the test's
    rolled-back connection: deliveries are committed, each with its one pending row (written in
    the same statement on PostgreSQL), and duplicates are no-ops."""
    with e2e_app.app_context():
        make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET))
        db.session.commit()
        client = e2e_app.test_client()
        body = fixture_body(*REAL_ORDERS[2][:2])
        statuses = [post_webhook(client, body, SHOP, event_id=event).json["status"]
                    for event in ("a", "a", "b")]
        db.session.remove()
        assert statuses == ["accepted", "duplicate", "accepted"]
        assert count(WebhookDelivery) == 2
        pending = db.session.scalars(select(PendingDelivery)).all()
        if e2e_app.extensions["jobs"].runs_in_process:  # processed at once: nothing left pending
            assert pending == [] and count(Order) == 1
        else:  # a worker's to do
            assert sorted(p.delivery_id for p in pending) == sorted(db.session.scalars(select(WebhookDelivery.id)))
            assert [(p.attempts, p.dispatched_at, p.last_error) for p in pending] == [(0, None, None)] * 2
        db.session.remove()


def test_intake_survives_a_database_restart_between_deliveries(e2e_app):
    """The intake engine skips the pool's pre-ping; a connection the database dropped (as a
    restart does) is retried on a fresh one, so the delivery is still stored and answered 200."""
    with e2e_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the autocommitted intake engine is the PostgreSQL path")
        make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET))
        db.session.commit()
        client = e2e_app.test_client()
        body = fixture_body(*REAL_ORDERS[2][:2])
        assert post_webhook(client, body, SHOP, event_id="before").json["status"] == "accepted"
        with intake_engine(db.engine).connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.connect() as admin:
            assert admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar()
        response = post_webhook(client, body, SHOP, event_id="after")
        db.session.remove()
        assert response.status_code == 200 and response.json["status"] == "accepted"
        assert count(WebhookDelivery) == 2
        db.session.remove()

"""Nothing lost: Redis down at intake, deliveries re-enqueued by the sweeper, jobs run twice,
and the app/uninstalled and privacy topics."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Account, Order, OutboxEmail, PendingDelivery, Return, WebhookDelivery
from app.services.deliveries import process_delivery
from jobs.intake import sweep_unprocessed_deliveries_job
from tests.fixtures.app import REDIS_URL, make_test_app, rolled_back
from tests.factories import is_processed, make_account, make_delivery, make_order
from tests.fixtures.auth import log_in
from tests.fixture_files import shopify_json
from tests.support.shopify_webhooks import SECRET, post_webhook

SHOP = "acme-outdoor.myshopify.com"

pytestmark = pytest.mark.account(shop_domain=SHOP, webhook_secret=SECRET)
# A test marked so posts its deliveries through both doors: the WSGI fast path and the Flask view.
both_doors = pytest.mark.usefixtures("webhook_door")

ORDER = shopify_json("webhook_orders_create_docs_2026-04.metadata.json")["response"]


def metadata_body(topic_file):
    return shopify_json(topic_file)["response"]


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture(scope="module")
def _app_with_redis_down(_session_app):
    return make_test_app(SQLALCHEMY_DATABASE_URI=_session_app.config["SQLALCHEMY_DATABASE_URI"],
                         JOBS_BACKEND="rq", REDIS_URL="redis://127.0.0.1:1/0")


def test_redis_down_at_intake_keeps_the_delivery_and_the_sweeper_processes_it(_app_with_redis_down, monkeypatch):
    with rolled_back(_app_with_redis_down) as app:
        make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET))
        db.session.commit()
        response = post_webhook(app.test_client(), ORDER, SHOP)
        assert response.status_code == 200  # Shopify must not be told to retry: we have it
        delivery = db.session.scalar(select(WebhookDelivery))
        assert not is_processed(delivery.id) and count(Order) == 0

        # Later, with jobs working again, the sweeper finds it (it is older than the sweep delay).
        delivery.received_at = datetime.now(timezone.utc) - timedelta(minutes=10)
        db.session.commit()
        from app.queue.backends import InProcessBackend

        app.extensions["jobs"] = InProcessBackend(app)
        try:
            assert sweep_unprocessed_deliveries_job() == 1
        finally:
            app.extensions["jobs"] = _app_with_redis_down.extensions["jobs"]
        db.session.expire_all()
        assert count(Order) == 1
        assert is_processed(db.session.scalar(select(WebhookDelivery.id)))


@both_doors
def test_the_sweeper_leaves_fresh_and_processed_deliveries_alone(account, client):
    post_webhook(client, ORDER, SHOP)  # processed at once (in-process) or queued (RQ)
    make_delivery(account, event_id="fresh", body=json.dumps(ORDER))
    db.session.commit()
    assert sweep_unprocessed_deliveries_job() == 0


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set (the embedded configuration has no Redis)")
@both_doors
def test_with_redis_the_delivery_waits_in_the_queue_until_a_worker_runs(account, client, drain_jobs):
    post_webhook(client, ORDER, SHOP)
    assert count(Order) == 0  # answered 200 before any processing
    drain_jobs()
    assert count(Order) == 1


@both_doors
def test_processing_a_delivery_twice_changes_nothing(account, client, drain_jobs):
    post_webhook(client, ORDER, SHOP)
    drain_jobs()
    delivery = db.session.scalar(select(WebhookDelivery))
    order = db.session.scalar(select(Order))
    before = (order.updated_at, order.email, len(order.lines))
    assert process_delivery(delivery.id) == "already processed"
    db.session.add(PendingDelivery(delivery_id=delivery.id, attempts=0))  # even a forced re-run only
    db.session.commit()                                                   # re-applies the same data
    process_delivery(delivery.id)
    db.session.expire_all()
    order = db.session.scalar(select(Order))
    assert (order.updated_at, order.email, len(order.lines)) == before
    assert count(Order) == 1


@both_doors
def test_app_uninstalled_disconnects_the_store(account, client, drain_jobs):
    account.access_token_encrypted = encrypt_secret("shpat_x")
    db.session.commit()
    assert account.is_connected
    post_webhook(client, metadata_body("webhook_app_uninstalled_docs_2026-04.metadata.json"), SHOP,
                 topic="app/uninstalled")
    drain_jobs()
    db.session.expire_all()
    refreshed = db.session.get(Account, account.id)
    assert not refreshed.is_connected
    assert "uninstalled" in refreshed.disconnect_reason


@both_doors
def test_customers_redact_anonymises_that_customers_orders_and_returns(account, client, drain_jobs):
    payload = metadata_body("webhook_customers_redact_docs_2026-04.metadata.json")
    email = payload["customer"]["email"]
    theirs = make_order(account, email=email, customer_name="Jane Doe", shipping_address={"city": "Ottawa"})
    other = make_order(account, email="someone@example.com", customer_name="Sam")
    db.session.add(Return(account_id=account.id, order_id=theirs.id, rma_number="R-1", shopify_order_id=1,
                          order_name=theirs.name, customer_email=email, customer_name="Jane Doe", currency="USD"))
    db.session.commit()
    post_webhook(client, payload, SHOP, topic="customers/redact")
    drain_jobs()
    db.session.expire_all()
    redacted = db.session.get(Order, theirs.id)
    assert (redacted.email, redacted.customer_name, redacted.shipping_address) == (None, None, None)
    assert redacted.total_price is not None  # the money record stays
    assert db.session.get(Order, other.id).email == "someone@example.com"
    ret = db.session.scalar(select(Return))
    assert ret.customer_email is None and ret.customer_name is None


@both_doors
def test_customers_redact_deletes_the_emails_written_to_that_customer(account, client, drain_jobs):
    """The Outbox holds the customer's address and, for credit notes, a gift card code."""
    from app.services.mail import store_email

    payload = metadata_body("webhook_customers_redact_docs_2026-04.metadata.json")
    email = payload["customer"]["email"]
    store_email(account, email, "Your credit note", "Gift card code: ABCD", "<p>ABCD</p>")
    store_email(account, "someone@example.com", "Your return", "text", "<p>html</p>")
    db.session.commit()
    post_webhook(client, payload, SHOP, topic="customers/redact")
    drain_jobs()
    db.session.expire_all()
    assert db.session.scalars(select(OutboxEmail.to_address)).all() == ["someone@example.com"]


@both_doors
def test_shop_redact_deletes_the_stores_data(account, client, drain_jobs):
    from app.services.mail import store_email

    make_order(account)
    store_email(account, "buyer@example.com", "Your credit note", "Gift card code: ABCD", "<p>ABCD</p>")
    db.session.commit()
    post_webhook(client, metadata_body("webhook_shop_redact_docs_2026-04.metadata.json"), SHOP, topic="shop/redact")
    drain_jobs()
    db.session.expire_all()
    assert count(Order) == 0
    assert count(OutboxEmail) == 0
    assert db.session.get(Account, account.id) is not None  # the retailer's login stays


@both_doors
def test_a_customer_data_request_becomes_a_downloadable_export(account, client, drain_jobs):
    from tests.factories import make_user

    payload = metadata_body("webhook_customers_data_request_docs_2026-04.metadata.json")
    email = payload["customer"]["email"]
    make_order(account, email=email, customer_name="Jane Doe")
    make_order(account, email="someone-else@example.com")
    admin = make_user(account, role="admin")
    db.session.commit()
    post_webhook(client, payload, SHOP, topic="customers/data_request")
    drain_jobs()
    log_in(client, admin.email)
    page = client.get("/dashboard/privacy").get_data(as_text=True)
    assert email in page
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.topic == "customers/data_request"))
    export = client.get(f"/dashboard/privacy/{delivery.id}/export.json")
    assert export.headers["Content-Disposition"].startswith("attachment")
    data = export.json
    assert [o["email"] for o in data["orders"]] == [email]


@both_doors
def test_another_accounts_data_request_is_a_404(account, client):
    from tests.factories import make_user

    other = make_account()
    theirs = WebhookDelivery(account_id=other.id, shop_domain=other.shop_domain, topic="customers/data_request",
                             event_id="x", body="{}")
    admin = make_user(account, role="admin")
    db.session.add(theirs)
    db.session.commit()
    log_in(client, admin.email)
    assert client.get(f"/dashboard/privacy/{theirs.id}/export.json").status_code == 404


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set (the embedded configuration has no Redis)")
@both_doors
def test_the_sweeper_requeues_a_delivery_whose_job_failed(account, client, drain_jobs, monkeypatch):
    """RQ remembers a failed job's id; a sweep after the failure must still queue a new attempt."""
    calls = []

    def flaky(delivery_id):
        calls.append(delivery_id)
        if len(calls) == 1:
            pending = db.session.get(PendingDelivery, delivery_id)
            pending.attempts += 1
            db.session.commit()
            raise RuntimeError("Shopify was down")
        return process_delivery(delivery_id)

    monkeypatch.setattr("jobs.intake.process_delivery", flaky)
    # In its batch, the delivery goes the single way (the body path declines it) and fails there.
    monkeypatch.setattr("app.services.delivery_batches.process_delivery", flaky)
    monkeypatch.setattr("app.services.delivery_batches._mapped_order", lambda delivery: None)
    from dataclasses import replace

    from app.queue import SPECS

    name = "jobs.intake.process_webhook_delivery_job"
    monkeypatch.setitem(SPECS, name, replace(SPECS[name], retry_intervals=()))
    post_webhook(client, ORDER, SHOP)
    drain_jobs()
    assert count(Order) == 0
    delivery = db.session.scalar(select(WebhookDelivery))
    delivery.received_at = datetime.now(timezone.utc) - timedelta(minutes=10)
    db.session.commit()
    assert sweep_unprocessed_deliveries_job() == 1
    drain_jobs()
    assert count(Order) == 1 and len(calls) == 2

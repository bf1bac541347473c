"""Photos are personal data: Shopify's privacy webhooks (customers/redact, shop/redact,
customers/data_request), order retention and the sweep of photos never sent all cover them, in the
database and in the store (the local directory, or S3), and each is safe to run twice."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Return, ReturnItem, ReturnPhoto, WebhookDelivery
from app.photos.storage import new_key
from app.services import privacy
from app.services.photos import photo_store
from app.services.retention import purge_expired_orders
from jobs.maintenance import sweep_pending_photos_job
from tests.factories import make_account, make_user
from tests.fixture_files import shopify_json
from tests.fixtures.auth import log_in
from tests.support.photos import jpeg
from tests.support.portal import make_line, make_portal_order
from tests.support.shopify_webhooks import SECRET, post_webhook

SHOP = "acme-outdoor.myshopify.com"
pytestmark = pytest.mark.account(shop_domain=SHOP, webhook_secret=SECRET)


def payload(name):
    return shopify_json(f"webhook_{name}_docs_2026-04.metadata.json")["response"]


def order_with_photos(account, email, *, days_ago=3, returned=True, session="s" * 32):
    """An order of `email` with a pending photo and (`returned`) a return whose item has one."""
    order = make_portal_order(account, [make_line()], email=email, days_ago=days_ago)
    line = order.lines[0]
    photos = [_photo(account, order, line, session_key=session)]
    if returned:
        ret = Return(account_id=account.id, order_id=order.id, rma_number=f"R-{order.id}", customer_email=email,
                     shopify_order_id=order.shopify_order_id, order_name=order.name, currency="USD")
        ret.items.append(ReturnItem(order_line_id=line.id, shopify_line_id=line.shopify_line_id, title=line.title,
                                    unit_value=Decimal("50.00"), quantity=1, reason="Faulty"))
        db.session.add(ret)
        db.session.flush()
        photos.append(_photo(account, order, line, item=ret.items[0]))
    db.session.commit()
    return order, [p.storage_key for p in photos]


def _photo(account, order, line, item=None, session_key=None, created_at=None):
    key = new_key()
    photo_store().put(key, jpeg(), "image/jpeg")
    row = ReturnPhoto(account_id=account.id, order_id=order.id, order_line_id=line.id,
                      return_item_id=item.id if item else None, session_key=None if item else session_key,
                      storage_key=key, content_type="image/jpeg", byte_size=100, width=10, height=10,
                      created_at=created_at or datetime.now(timezone.utc))
    db.session.add(row)
    db.session.flush()
    return row


def kept_keys():
    db.session.expire_all()
    return set(db.session.scalars(select(ReturnPhoto.storage_key)))


def test_customers_redact_deletes_that_customers_photos(account, client, drain_jobs, stored):
    body = payload("customers_redact")
    _, theirs = order_with_photos(account, body["customer"]["email"])
    _, others = order_with_photos(account, "someone@example.com")
    post_webhook(client, body, SHOP, topic="customers/redact")
    drain_jobs()
    assert kept_keys() == set(others)
    assert stored.keys() == set(others)
    # Again (Shopify retries; a run cut short is run again): nothing else goes, nothing fails.
    privacy.redact_customer(account, body)
    db.session.commit()
    assert kept_keys() == set(others) and stored.keys() == set(others)


def test_shop_redact_deletes_all_the_shops_photos(account, client, drain_jobs, stored):
    order_with_photos(account, "a@example.com")
    order_with_photos(account, "b@example.com", returned=False)
    other = make_account()
    _, elsewhere = order_with_photos(other, "a@example.com")
    post_webhook(client, payload("shop_redact"), SHOP, topic="shop/redact")
    drain_jobs()
    assert kept_keys() == set(elsewhere)
    assert stored.keys() == set(elsewhere)
    privacy.redact_shop(account)
    db.session.commit()
    assert stored.keys() == set(elsewhere)


def test_the_data_export_lists_the_customers_photos(account, client, drain_jobs, stored):
    body = payload("customers_data_request")
    email = body["customer"]["email"]
    order_with_photos(account, email)
    order_with_photos(account, "someone@example.com")
    admin = make_user(account, role="admin")
    db.session.commit()
    post_webhook(client, body, SHOP, topic="customers/data_request")
    drain_jobs()
    log_in(client, admin.email)
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.topic == "customers/data_request"))
    data = client.get(f"/dashboard/privacy/{delivery.id}/export.json").json
    assert len(data["photos"]) == 2
    assert sorted(p["attached"] for p in data["photos"]) == [False, True]
    attached = next(p for p in data["photos"] if p["attached"])
    assert attached["rma_number"].startswith("R-") and attached["content_type"] == "image/jpeg"


def test_retention_deletes_the_photos_of_orders_it_purges(account, stored):
    account.order_storage_months = 3
    _, old = order_with_photos(account, "old@example.com", days_ago=200)
    _, recent = order_with_photos(account, "new@example.com", days_ago=5)
    assert purge_expired_orders(account.id, rest_ratio=0) == 1
    assert kept_keys() == set(recent) and stored.keys() == set(recent)
    assert db.session.scalar(select(func.count()).select_from(Return)) == 2  # returns keep their snapshots
    assert purge_expired_orders(account.id, rest_ratio=0) == 0
    assert stored.keys() == set(recent)
    assert not set(old) & stored.keys()


def test_photos_never_sent_with_a_return_are_swept_after_a_day(app, account, stored):
    order = make_portal_order(account, [make_line()], email="pat@example.com")
    line = order.lines[0]
    long_ago = datetime.now(timezone.utc) - timedelta(hours=app.config["PHOTO_PENDING_HOURS"] + 1)
    left = _photo(account, order, line, session_key="s" * 32, created_at=long_ago).storage_key
    fresh = _photo(account, order, line, session_key="s" * 32).storage_key
    _, (recent_pending, sent) = order_with_photos(account, "x@example.com")
    # A photo sent with its return long ago is the return's, not left behind.
    db.session.execute(ReturnPhoto.__table__.update().values(created_at=long_ago)
                       .where(ReturnPhoto.storage_key == sent))
    db.session.commit()
    assert sweep_pending_photos_job() == 1
    assert left not in kept_keys() and left not in stored.keys()
    assert {fresh, recent_pending, sent} <= stored.keys()
    assert sweep_pending_photos_job() == 0


def test_deleting_a_photo_twice_is_harmless(app, stored):
    store = photo_store()
    key = new_key()
    store.put(key, b"bytes", "image/jpeg")
    assert store.get(key) == b"bytes"
    store.delete(key)
    store.delete(key)
    assert store.get(key) is None and stored.keys() == set()

"""returns/* webhooks: a return made or changed in Shopify refreshes what can still be returned and
is stored; hostile or odd bodies are answered and end processed, with nothing written, never a
5xx, never a job that retries forever."""
import json

import pytest
import requests

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Order, ShopifyReturn, WebhookDelivery
from app.services.deliveries import process_delivery
from tests.factories import is_processed
from tests.fixture_files import shopify_json
from tests.support.shopify_webhooks import SECRET, post_webhook
from tests.support.shopify_returns import placed_order, returns_account

# Every delivery here goes through both doors: the WSGI fast path and the Flask view.
pytestmark = pytest.mark.usefixtures("webhook_door")


@pytest.fixture
def manual_account(app, sandbox, virtual_clock):
    """An account under the Manual action, connected to a sandbox shop with the returns scopes
    (``returns_account``), its webhooks signed with ``SECRET``."""
    account = returns_account(sandbox, "manual")
    account.webhook_secret_encrypted = encrypt_secret(SECRET)
    db.session.commit()
    return account


def delivery_of(event_id: str) -> WebhookDelivery:
    return db.session.query(WebhookDelivery).filter_by(event_id=event_id).one()


def test_a_merchant_return_webhook_stores_it_and_refreshes_what_is_returnable(app, client, sandbox, manual_account,
                                                                              drain_jobs):
    order = placed_order(manual_account, sandbox)
    shop_domain = manual_account.shop_domain
    made = requests.post(f"{sandbox.url}/_sandbox/shops/{shop_domain}/orders/{order.shopify_order_id}/returns",
                         json={"lines": [{"line_id": order.lines[0].shopify_line_id, "quantity": 1}]}, timeout=5)
    body = shopify_json("webhook_returns_request_docs_2026-04.metadata.json")["response"]
    body["order"] = {"id": order.shopify_order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order.shopify_order_id}"}
    body["admin_graphql_api_id"] = made.json()["gid"]
    assert post_webhook(client, body, shop_domain, topic="returns/approve", event_id="ret-1").status_code == 200
    drain_jobs()
    process_delivery(delivery_of("ret-1").id)  # runs twice: nothing more happens
    db.session.expire_all()
    stored = db.session.query(ShopifyReturn).filter_by(made_in_shopify=True).one()
    assert stored.name == f"{order.name}-R1" and db.session.get(Order, order.id).lines[0].returnable_quantity == 0
    assert is_processed(delivery_of("ret-1").id)


@pytest.mark.parametrize("body", [
    {}, {"order": None}, {"order": "4783296544821"}, {"order": {"id": "abc"}}, {"order": {"id": -5}},
    {"order": {"id": 2 ** 70}}, {"order": {"admin_graphql_api_id": "gid://shopify/Customer/5"}},
    {"order": {"id": "١٢٣"}}, {"order": {"id": "12\\u00003"}}, [1, 2, 3], "just a string", 42,
    {"order": {"id": 1.5}}, {"order": {"id": True}},
])
def test_an_odd_returns_body_ends_processed_with_nothing_written(app, client, manual_account, drain_jobs, body):
    raw = json.dumps(body).encode()
    answer = post_webhook(client, None, manual_account.shop_domain, topic="returns/update", event_id="odd", body=raw)
    assert answer.status_code in (200, 400)
    if answer.status_code == 200:
        drain_jobs()
        db.session.expire_all()
        assert is_processed(delivery_of("odd").id)
    assert db.session.query(ShopifyReturn).count() == 0


def test_a_lone_surrogate_in_a_returns_body_is_answered_not_a_500(app, client, manual_account, drain_jobs):
    raw = b'{"order": {"id": 1, "note": "\\ud800"}, "name": "\\udfff"}'
    answer = post_webhook(client, None, manual_account.shop_domain, topic="returns/cancel", event_id="surrogate",
                          body=raw)
    assert answer.status_code in (200, 400)
    drain_jobs()
    assert db.session.query(ShopifyReturn).count() == 0

"""The Dead deliveries page: admins see each dead delivery with its error and retry one or all
(POST, CSRF, no question asked); staff get 403; another account's deliveries stay out of reach."""
import json
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import Order
from tests.factories import is_processed, make_account, make_delivery, pending_row
from tests.fixtures.auth import log_in
from tests.fixture_files import shopify_json
from tests.integration.test_auth import csrf_token_from

ORDER = shopify_json("webhook_orders_create_docs_2026-04.metadata.json")["response"]
PAGE = "/dashboard/deliveries/dead"


def delivery(account, attempts=5, error="RuntimeError: Shopify answered 502", order_id=None, pending=True):
    body = dict(ORDER, id=order_id or ORDER["id"],
                admin_graphql_api_id=f"gid://shopify/Order/{order_id or ORDER['id']}")
    row = make_delivery(account, pending=pending, attempts=attempts, last_error=error,
                        event_id=f"event-{order_id}-{attempts}-{len(str(error))}", body=json.dumps(body),
                        received_at=datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc))
    db.session.commit()
    return row


def test_admins_see_each_dead_delivery_with_its_error_and_nothing_else(app, client):
    account = make_account(shop_domain="acme-outdoor.myshopify.com")
    other = make_account()
    db.session.commit()
    dead = delivery(account, error="ShopifyDataError: <script>alert(1)</script> \ufffd")
    delivery(account, attempts=2, order_id=2)                       # still being tried
    delivery(account, attempts=7, order_id=3, pending=False)       # done at last
    delivery(other, order_id=4, error="another store's error")      # another account's
    crashed = delivery(account, order_id=5, error=None)             # the worker died in its last attempt
    log_in(client, account, "admin")
    html = client.get(PAGE).get_data(as_text=True)
    assert "2 dead deliveries" in html
    rows = re.findall(r'<tr id="delivery-(\d+)">', html)
    assert sorted(map(int, rows)) == sorted([dead.id, crashed.id])
    assert "acme-outdoor.myshopify.com" in html and "<code>orders/create</code>" in html
    assert "20 Nov 2026, 09:30 UTC" in html and "5 attempts" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "No error was recorded" in html and "another store" not in html


def test_staff_get_403_on_the_page_and_on_both_retries(app, client):
    account = make_account()
    db.session.commit()
    dead = delivery(account)
    log_in(client, account, role="staff")
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}/retry").status_code == 403
    assert client.post(f"{PAGE}/{dead.id}/retry").status_code == 403
    assert pending_row(dead.id).attempts == 5


def test_retry_one_makes_it_live_and_it_is_processed(app, client, drain_jobs, monkeypatch):
    account = make_account()
    db.session.commit()
    first, second = delivery(account, order_id=820982911946154508), delivery(account, order_id=11)
    log_in(client, account, "admin")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    token = csrf_token_from(client, PAGE)
    assert client.post(f"{PAGE}/{first.id}/retry").status_code == 400  # no CSRF token
    response = client.post(f"{PAGE}/{first.id}/retry", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    drain_jobs()
    assert is_processed(first.id) and not is_processed(second.id)
    assert db.session.scalar(select(Order.shopify_order_id)) == 820982911946154508
    html = client.get(PAGE).get_data(as_text=True)
    assert "1 delivery is being processed again" in html and f'id="delivery-{second.id}"' in html
    assert f'id="delivery-{first.id}"' not in html
    # A second press (or the back button): nothing is dead any more, nothing happens twice.
    client.post(f"{PAGE}/{first.id}/retry", data={"csrf_token": token})
    assert "Nothing to retry" in client.get(PAGE).get_data(as_text=True)


def test_retry_all_makes_every_dead_delivery_of_the_account_live(app, client, drain_jobs):
    account, other = make_account(), make_account()
    db.session.commit()
    mine = [delivery(account, order_id=n) for n in (21, 22, 23)]
    theirs = delivery(other, order_id=24)
    log_in(client, account, "admin")
    assert client.post(f"{PAGE}/retry").status_code == 303
    drain_jobs()
    assert all(is_processed(d.id) for d in mine)
    assert pending_row(theirs.id).attempts == 5  # another account's: untouched
    assert "No dead deliveries" in client.get(PAGE).get_data(as_text=True)


def test_another_accounts_delivery_or_an_impossible_id_cannot_be_retried(app, client):
    account, other = make_account(), make_account()
    db.session.commit()
    theirs = delivery(other)
    log_in(client, account, "admin")
    client.post(f"{PAGE}/{theirs.id}/retry")
    assert pending_row(theirs.id).attempts == 5
    assert client.post(f"{PAGE}/{2 ** 63}/retry").status_code == 404
    assert client.post(f"{PAGE}/{10 ** 30}/retry").status_code == 404


def test_the_overview_and_the_store_page_link_to_the_dead_deliveries(app, client):
    account = make_account(connected_at=datetime.now(timezone.utc) - timedelta(days=1))
    db.session.commit()
    delivery(account)
    log_in(client, account, "admin")
    home = client.get("/dashboard/").get_data(as_text=True)
    assert re.search(r'<a class="stat stat-alert" href="/dashboard/deliveries/dead"><span class="stat-value">1</span>',
                     home)
    assert "could not be processed in 5 attempts" in home and f'href="{PAGE}">Dead deliveries</a>' in home
    store = client.get("/dashboard/connect").get_data(as_text=True)
    assert f'<a href="{PAGE}">1 dead delivery</a>' in store

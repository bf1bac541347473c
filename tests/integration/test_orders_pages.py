"""The dashboard's orders: search, pages (newest first), one order with lines and returns, scoping."""
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Return
from tests.factories import make_account, make_order
from tests.fixtures.auth import log_in

BASE = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


def names(html):
    return re.findall(r'class="order-link">([^<]+)<', html)


def seed(account, count, **fields):
    orders = []
    for n in range(count):
        values = dict(name=f"#{1001 + n}", email=f"buyer{n}@example.com",
                      customer_name=f"Customer {n}", created_at=BASE + timedelta(hours=n),
                      updated_at=BASE + timedelta(hours=n))
        values.update(fields)
        orders.append(make_order(account, **values))
    db.session.commit()
    return orders


def test_staff_see_the_orders_newest_first_in_pages_of_25(app, client, account):
    seed(account, 30)
    log_in(client, account)
    first = client.get("/dashboard/orders")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert names(html) == [f"#{1001 + n}" for n in range(29, 4, -1)]
    older = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert 'rel="prev"' not in html
    html = client.get(older).get_data(as_text=True)
    assert names(html) == ["#1005", "#1004", "#1003", "#1002", "#1001"]
    assert 'rel="next"' not in html
    newer = re.search(r'href="([^"]+)" rel="prev"', html).group(1).replace("&amp;", "&")
    assert names(client.get(newer).get_data(as_text=True)) == names(first.get_data(as_text=True))


def test_pages_are_stable_when_many_orders_share_a_time(app, client, account):
    seed(account, 60, created_at=BASE)
    log_in(client, account)
    seen, url = [], "/dashboard/orders"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += names(html)
        match = re.search(r'href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert len(seen) == 60 and len(set(seen)) == 60


@pytest.mark.parametrize("query, expected", [
    ("#1003", ["#1003"]), ("1003", ["#1003"]), ("  1003 ", ["#1003"]),
    ("BUYER4@Example.com", ["#1005"]), ("buyer1", ["#1002"]), ("Customer 2", ["#1003"]),
    ("%", []), ("_", []), ("' OR 1=1 --", []), ("#99999", []), ("<script>", []),
])
def test_search_by_order_number_email_or_name(app, client, account, query, expected):
    seed(account, 5)
    log_in(client, account)
    response = client.get("/dashboard/orders", query_string={"q": query})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert names(html) == expected
    assert "<script>" not in html.split("<main")[1]


def test_search_by_date_range_and_keep_the_filters_across_pages(app, client, account):
    seed(account, 30, created_at=BASE)
    seed(account, 3, created_at=BASE - timedelta(days=5), name="#2000")
    log_in(client, account)
    html = client.get("/dashboard/orders", query_string={
        "date_from": "2026-09-25", "date_to": "2026-09-27"}).get_data(as_text=True)
    assert names(html) == ["#2000"] * 3
    html = client.get("/dashboard/orders", query_string={"date_from": "2026-10-01"}).get_data(as_text=True)
    assert len(names(html)) == 25
    older = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "date_from=2026-10-01" in older
    assert len(names(client.get(older).get_data(as_text=True))) == 5


@pytest.mark.parametrize("params, field, message", [
    ({"date_from": "2026-13-45"}, "date_from", "Enter a date like 2026-03-31."),
    ({"date_to": "yesterday"}, "date_to", "Enter a date like 2026-03-31."),
    ({"date_from": "2026-10-02", "date_to": "2026-10-01"}, "date_to", "on or after"),
    ({"q": "x" * 201}, "q", "at most 200 characters"),
])
def test_bad_filters_are_explained_next_to_the_field(app, client, account, params, field, message):
    seed(account, 2)
    log_in(client, account)
    response = client.get("/dashboard/orders", query_string=params)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html


@pytest.mark.parametrize("params", [{"after": "nonsense"}, {"before": "1-"}, {"after": "9" * 30 + "-1"},
                                    {"after": "1-1", "before": "1-1"}, {"after": "99999999999999999999-1"}])
def test_broken_page_links_get_a_clear_400(app, client, account, params):
    log_in(client, account)
    response = client.get("/dashboard/orders", query_string=params)
    assert response.status_code == 400
    assert "page link is broken" in response.get_data(as_text=True)


def test_another_accounts_orders_are_invisible(app, client, account):
    mine = seed(account, 2)
    other = make_account()
    theirs = make_order(other, name="#7777", email="secret@example.com")
    db.session.commit()
    log_in(client, account)
    html = client.get("/dashboard/orders").get_data(as_text=True)
    assert "#7777" not in html and "secret@example.com" not in html
    assert names(client.get("/dashboard/orders", query_string={"q": "#7777"}).get_data(as_text=True)) == []
    assert client.get(f"/dashboard/orders/{theirs.id}").status_code == 404
    assert client.get(f"/dashboard/orders/{mine[0].id}").status_code == 200
    assert client.get("/dashboard/orders/999999999").status_code == 404


def test_an_order_page_shows_its_lines_and_returns(app, client, account):
    order = seed(account, 1, total_discounts=Decimal("24.00"), tags=["vip"], discount_codes=["SPRING20"])[0]
    line = order.lines[0]
    line.quantity, line.fulfilled_quantity, line.refunded_quantity = 3, 2, 1
    db.session.add(Return(account_id=account.id, order_id=order.id, rma_number="RMA-1001-A",
                          status="IN_TRANSIT", shopify_order_id=order.shopify_order_id,
                          order_name=order.name, currency="USD"))
    db.session.commit()
    log_in(client, account)
    html = client.get(f"/dashboard/orders/{order.id}").get_data(as_text=True)
    assert "<h1>Order #1001</h1>" in html
    for text in ("Trail Runner", "42 / Grey", "96.00 USD", "(list 120.00)", "RMA-1001-A", "in transit",
                 "SPRING20", "vip", "buyer0@example.com"):
        assert text in html
    cells = re.findall(r"</span>(\d+)</td>", html)
    assert cells == ["3", "2", "1"]  # quantity, fulfilled, refunded


def test_an_empty_list_says_what_to_do(app, client, account):
    log_in(client, account, role="admin")
    html = client.get("/dashboard/orders").get_data(as_text=True)
    assert "Connect your Shopify store" in html
    html = client.get("/dashboard/orders", query_string={"q": "nothing"}).get_data(as_text=True)
    assert "No orders match" in html


def test_the_nav_links_orders_for_everyone_and_the_store_page_for_admins(app, client, account):
    log_in(client, account, role="staff")
    html = client.get("/dashboard/orders").get_data(as_text=True)
    assert 'href="/dashboard/orders" aria-current="page"' in html
    assert 'href="/dashboard/connect"' not in html

"""The return window in the portal: counted from the order date or from each parcel's delivery
(the retailer's choice), with "Return by <date>" on each item and the date in the closed-window
message; the server refuses what the page refuses; the setting refuses hostile values."""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from app.domain.return_window import format_day
from app.extensions import db
from app.models import Account, Return
from tests.factories import make_user
from tests.fixtures.auth import log_in
from tests.support.portal import make_line, make_portal_order
from tests.support.settings import post_settings, settings_data

NOW = datetime.now(timezone.utc)


def day(moment: datetime) -> str:
    return format_day(moment.date())


pytestmark = pytest.mark.account(name="Acme Outdoor", return_window_days=30,
                                 granted_scopes=["read_orders", "read_all_orders", "read_products"])


def parcel(pid, days_ago, lines, delivered_days_ago=None):
    shipped = NOW - timedelta(days=days_ago)
    delivered = NOW - timedelta(days=delivered_days_ago) if delivered_days_ago is not None else None
    return {"id": pid, "created_at": shipped.isoformat(), "delivered_at": delivered.isoformat() if delivered else None,
            "estimated_delivery_at": None, "status": "delivered" if delivered else "fulfilled", "lines": lines}


def items_page(client, account, order):
    assert client.post(f"/r/{account.slug}", data={"order_number": order.name, "email": order.email}).status_code == 303
    return client.get(f"/r/{account.slug}/items").get_data(as_text=True)


def test_each_item_says_the_date_to_return_it_by(account, client):
    order = make_portal_order(account, [make_line(title="Trail Shoe")], email="pat@example.com", days_ago=3)
    db.session.commit()
    body = items_page(client, account, order)
    assert f"Return by {day(order.created_at + timedelta(days=30))}" in body


def test_counted_from_delivery_a_late_parcel_is_still_returnable(account, client):
    account.return_window_basis = "delivery"
    line = make_line(title="Trail Shoe")
    order = make_portal_order(account, [line], email="pat@example.com", days_ago=40)
    order.fulfillments = [parcel(1, 38, {str(line.shopify_line_id): 1}, delivered_days_ago=20)]
    db.session.commit()
    body = items_page(client, account, order)
    assert "You can return 1 of 1." in body
    assert f"Return by {day(NOW + timedelta(days=10))}" in body


def test_without_read_all_orders_no_window_ends_after_the_order_can_be_issued(account, client):
    """Shopify shows apps orders up to 60 days old without read_all_orders: the cap (46 days
    from the order) holds whatever the basis."""
    account.return_window_basis = "delivery"
    account.granted_scopes = ["read_orders", "read_products"]
    line = make_line(title="Trail Shoe")
    order = make_portal_order(account, [line], email="pat@example.com", days_ago=40)
    order.fulfillments = [parcel(1, 38, {str(line.shopify_line_id): 1}, delivered_days_ago=20)]
    db.session.commit()
    body = items_page(client, account, order)
    assert f"Return by {day(order.created_at + timedelta(days=46))}" in body


def test_counted_from_the_order_date_the_same_order_is_closed_with_its_date(account, client):
    line = make_line(title="Trail Shoe")
    order = make_portal_order(account, [line], email="pat@example.com", days_ago=40)
    order.fulfillments = [parcel(1, 38, {str(line.shopify_line_id): 1}, delivered_days_ago=20)]
    db.session.commit()
    body = items_page(client, account, order)
    assert ("The return window for this order has closed. Returns were accepted until "
            f"{day(order.created_at + timedelta(days=30))}.") in body


def test_a_line_over_two_parcels_counts_each_unit_from_its_parcel(account, client):
    account.return_window_basis = "delivery"
    line = make_line(title="Wool Socks", quantity=2, fulfilled_quantity=2)
    order = make_portal_order(account, [line], email="pat@example.com", days_ago=45)
    key = str(line.shopify_line_id)
    order.fulfillments = [parcel(1, 44, {key: 1}, delivered_days_ago=40), parcel(2, 10, {key: 1})]
    db.session.commit()
    body = items_page(client, account, order)
    assert "You can return 1 of 2." in body
    assert f"Return by {day(NOW + timedelta(days=20))}" in body
    # The server holds to it: two units are refused, one is taken.
    data = {"order_id": str(order.id), "submission_token": "tok-0123456789abcdef",
            f"line-{line.id}-return": "1", f"line-{line.id}-quantity": "2", f"line-{line.id}-reason": "Faulty",
            f"line-{line.id}-option": "refund"}
    refused = client.post(f"/r/{account.slug}/submit", data=data)
    assert refused.status_code == 422 and "you can return between 1 and 1" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Return)) == 0
    data[f"line-{line.id}-quantity"] = "1"
    assert client.post(f"/r/{account.slug}/submit", data=data).status_code == 303


def test_when_every_parcel_window_closed_the_item_says_when(account, client):
    account.return_window_basis = "delivery"
    line = make_line(title="Wool Socks", quantity=2, fulfilled_quantity=2)
    order = make_portal_order(account, [line], email="pat@example.com", days_ago=80)
    key = str(line.shopify_line_id)
    order.fulfillments = [parcel(1, 79, {key: 1}, delivered_days_ago=70), parcel(2, 60, {key: 1},
                                                                                 delivered_days_ago=50)]
    db.session.commit()
    body = items_page(client, account, order)
    assert f"The return window for this item closed on {day(NOW - timedelta(days=20))}." in body


@pytest.fixture
def admin(account, client):
    make_user(account, role="admin", email="boss@example.com")
    db.session.commit()
    log_in(client, "boss@example.com")
    return account


def test_the_retailer_chooses_what_the_window_counts_from(admin, client):
    page = client.get("/dashboard/settings").get_data(as_text=True)
    assert "The return window counts from" in page
    assert post_settings(client, {"return_window_basis": "delivery"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Account, admin.id).return_window_basis == "delivery"
    page = client.get("/dashboard/settings").get_data(as_text=True)
    assert '<option selected value="delivery">' in page


@pytest.mark.parametrize("value", ["delivery%00", "%ED%A0%80", "delivery%FF", "%EF%BC%91", "9" * 400, "x" * 5000,
                                   "fulfilment", ""])
def test_hostile_window_bases_are_refused_and_change_nothing(admin, client, value):
    """NUL bytes, a UTF-8-encoded lone surrogate, bytes that are not UTF-8, a full-width digit,
    huge numbers, over-long text and other words: a clear error, nothing saved."""
    fields = {**settings_data(client, {"return_window_basis": None}), "name": "Changed"}
    body = urlencode(fields) + f"&return_window_basis={value}"
    response = client.post("/dashboard/settings", data=body.encode(),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Not a valid choice" in body or "Choose what the window counts from." in body
    db.session.expire_all()
    saved = db.session.get(Account, admin.id)
    assert (saved.name, saved.return_window_basis) == ("Acme Outdoor", "order")

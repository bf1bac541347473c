"""General settings: saved when valid, refused with a reason next to the field when not."""
import pytest

from app.extensions import db
from app.models import Account
from tests.factories import PASSWORD, make_account, make_user

VALID = {"name": "Acme", "return_window_days": "45", "order_storage_months": "6",
         "logo_url": "https://cdn.example.com/logo.png", "primary_color": "#aa3300"}


@pytest.fixture
def account(app, client):
    account = make_account()
    make_user(account, role="admin", email="boss@example.com")
    db.session.commit()
    client.post("/login", data={"email": "boss@example.com", "password": PASSWORD})
    return account


def test_settings_are_saved(account, client):
    assert client.post("/dashboard/settings", data=VALID).status_code == 303
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert (saved.name, saved.return_window_days, saved.order_storage_months, saved.primary_color) == (
        "Acme", 45, 6, "#aa3300")
    assert saved.logo_url == "https://cdn.example.com/logo.png"


@pytest.mark.parametrize("field, value, message", [
    ("return_window_days", "0", "between 1 and 365"),
    ("return_window_days", "abc", "Not a valid integer value."),
    ("order_storage_months", "99", "between 1 and 24"),
    ("primary_color", "red; background:url(x)", "Use a colour like"),
    ("logo_url", "javascript:alert(1)", "Enter a full https:// address."),
    ("name", "", "Enter the store&#39;s name."),
])
def test_bad_settings_are_refused_next_to_the_field(account, client, field, value, message):
    before = (account.name, account.return_window_days, account.primary_color)
    response = client.post("/dashboard/settings", data={**VALID, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert (saved.name, saved.return_window_days, saved.primary_color) == before


def test_without_read_all_orders_the_window_is_capped_and_says_why(account, client):
    account.granted_scopes = ["read_orders", "read_products"]
    db.session.commit()
    response = client.post("/dashboard/settings", data={**VALID, "return_window_days": "90"})
    assert response.status_code == 422
    assert "without the read_all_orders permission" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Account, account.id).return_window_days != 90
    account = db.session.get(Account, account.id)
    account.granted_scopes = ["read_orders", "read_all_orders"]
    db.session.commit()
    assert client.post("/dashboard/settings", data={**VALID, "return_window_days": "90"}).status_code == 303

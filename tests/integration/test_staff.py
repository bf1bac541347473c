"""An admin adds and removes staff; staff see the returns side only."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in


@pytest.fixture
def admin(app, client):
    account = make_account()
    user = make_user(account, role="admin", email="boss@example.com")
    db.session.commit()
    log_in(client, "boss@example.com")
    return user


def users_of(account_id):
    return db.session.scalars(select(User.email).where(User.account_id == account_id).order_by(User.id)).all()


def test_admin_adds_a_staff_member_who_can_log_in_but_not_reach_settings(admin, client):
    response = client.post("/dashboard/staff", data={"name": "Sam", "email": "Sam@Example.com",
                                                      "password": "a long staff password", "role": "staff"})
    assert response.status_code == 303
    assert users_of(admin.account_id) == ["boss@example.com", "sam@example.com"]
    assert "sam@example.com" in client.get("/dashboard/staff").get_data(as_text=True)
    client.post("/logout")
    response = client.post("/login", data={"email": "sam@example.com", "password": "a long staff password"})
    assert response.status_code == 303
    home = client.get("/dashboard/").get_data(as_text=True)
    assert "Settings" not in home  # staff are not offered what they cannot open
    assert client.get("/dashboard/settings").status_code == 403


@pytest.mark.parametrize("data, message", [
    ({"email": "bad"}, "Enter a valid email address."),
    ({"email": "boss@example.com"}, "already has a login"),
    ({"password": "short"}, "Use at least 10 characters."),
    ({"role": "owner"}, "Not a valid choice"),
    ({"name": "n" * 200}, "Field cannot be longer than 120 characters."),
])
def test_adding_staff_with_bad_input_shows_why_and_writes_nothing(admin, client, data, message):
    form = {"name": "Sam", "email": "sam@example.com", "password": "a long staff password", "role": "staff", **data}
    response = client.post("/dashboard/staff", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert users_of(admin.account_id) == ["boss@example.com"]


def test_admin_removes_a_staff_member(admin, client):
    staff = make_user(db.session.get(type(admin.account), admin.account_id), role="staff", email="sam@example.com")
    db.session.commit()
    # Without JavaScript the button first leads to a page that asks; nothing is removed yet.
    asked = client.post(f"/dashboard/staff/{staff.id}/remove")
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "Remove sam@example.com? They will no longer be able to log in." in page
    assert 'name="confirmed" value="yes"' in page and "Go back" in page
    assert users_of(admin.account_id) == ["boss@example.com", "sam@example.com"]
    response = client.post(f"/dashboard/staff/{staff.id}/remove", data={"confirmed": "yes"})
    assert response.status_code == 303
    assert users_of(admin.account_id) == ["boss@example.com"]


def test_admin_cannot_remove_themself_or_the_last_admin(admin, client):
    client.post(f"/dashboard/staff/{admin.id}/remove", data={"confirmed": "yes"})
    assert users_of(admin.account_id) == ["boss@example.com"]
    assert "You cannot remove yourself." in client.get("/dashboard/staff").get_data(as_text=True)


def test_admin_cannot_remove_someone_from_another_account(admin, client):
    other = make_user(make_account(), role="staff", email="theirs@example.com")
    db.session.commit()
    assert client.post(f"/dashboard/staff/{other.id}/remove").status_code == 404  # not asked about someone else
    client.post(f"/dashboard/staff/{other.id}/remove", data={"confirmed": "yes"})
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "theirs@example.com")) == 1


def test_the_staff_list_shows_only_this_accounts_people(admin, client):
    make_user(make_account(), email="stranger@example.com")
    db.session.commit()
    assert "stranger@example.com" not in client.get("/dashboard/staff").get_data(as_text=True)

"""Sign-up, login and logout through the real forms, including hostile and malformed input."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Account, User
from tests.factories import PASSWORD, make_account, make_user
from tests.support.settings import settings_data


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def csrf_token_from(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_signup_creates_the_account_and_its_admin_who_then_logs_in(client, auth):
    response = auth.signup(store="Acme Outdoor", email="  Owner@Example.COM ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "your account is ready" in client.get("/login").get_data(as_text=True)
    user = db.session.scalar(select(User))
    assert user.email == "owner@example.com"
    assert user.role == "admin"
    assert user.password_hash != PASSWORD and "correct" not in user.password_hash
    assert db.session.get(Account, user.account_id).slug == "acme-outdoor"
    assert auth.login(email="owner@example.com").status_code == 303
    assert "Acme Outdoor" in client.get("/dashboard/").get_data(as_text=True)


@pytest.mark.parametrize("fields, field, message", [
    ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ({"email": ""}, "email", "Enter your email address."),
    ({"password": "short", "confirm": "short"}, "password", "Use at least 10 characters."),
    ({"password": "password123", "confirm": "password123"}, "password", "too easy to guess"),
    ({"password": "aaaaaaaaaaaa", "confirm": "aaaaaaaaaaaa"}, "password", "too easy to guess"),
    ({"confirm": "something else entirely"}, "confirm", "The two passwords differ."),
    ({"store_name": ""}, "store_name", "Enter your store&#39;s name."),
    ({"store_name": "x" * 121}, "store_name", "Field cannot be longer than 120 characters."),
    ({"email": "a" * 250 + "@example.com"}, "email", "That email address is too long."),
    ({"password": "p" * 129 + "Q1!", "confirm": "p" * 129 + "Q1!"}, "password", "Use at most 128 characters."),
])
def test_signup_rejects_bad_input_next_to_the_field_and_writes_nothing(client, fields, field, message):
    data = {"store_name": "Acme", "email": "owner@example.com", "password": "correct horse battery",
            "confirm": "correct horse battery", **fields}
    response = client.post("/signup", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html)
    assert error and message in error.group(1)
    assert count(User) == 0 and count(Account) == 0


def test_a_form_without_its_csrf_token_is_refused(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/signup", data={"store_name": "Acme", "email": "o@example.com",
                                            "password": "correct horse battery", "confirm": "correct horse battery"})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    assert count(User) == 0


def test_a_form_with_its_csrf_token_is_accepted(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    token = csrf_token_from(client, "/signup")
    response = client.post("/signup", data={"csrf_token": token, "store_name": "Acme", "email": "o@example.com",
                                            "password": "correct horse battery", "confirm": "correct horse battery"})
    assert response.status_code == 303
    assert count(User) == 1


def test_htmx_requests_carry_the_csrf_token_in_a_header(app, client, auth, monkeypatch):
    auth.signup()
    auth.login()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    token = csrf_token_from(client, "/dashboard/settings")
    without = client.post("/dashboard/settings", headers={"HX-Request": "true"}, data={"name": "X"})
    assert without.status_code == 400
    data = settings_data(client, {"name": "Renamed", "primary_color": "#112233"})
    with_header = client.post("/dashboard/settings", headers={"HX-Request": "true", "X-CSRFToken": token}, data=data)
    assert with_header.status_code == 303


def test_login_and_logout(app, client, auth):
    make_user(make_account(), email="staff@example.com")
    db.session.commit()
    response = auth.login(email="Staff@Example.com ")
    assert response.status_code == 303
    assert client.get("/dashboard/").status_code == 200
    assert auth.logout().status_code == 303
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize("email, password", [
    ("staff@example.com", "wrong password!"), ("nobody@example.com", PASSWORD), ("", ""), ("x" * 300, "y")])
def test_login_with_wrong_credentials_says_so_without_saying_which(app, client, auth, email, password):
    make_user(make_account(), email="staff@example.com")
    db.session.commit()
    response = auth.login(email=email, password=password)
    assert response.status_code == 422
    assert client.get("/dashboard/").status_code == 302
    html = response.get_data(as_text=True)
    if email and len(email) < 254:
        assert "That email and password do not match." in html


def test_a_deactivated_user_cannot_log_in(app, client, auth):
    user = make_user(make_account(), email="gone@example.com")
    user.active = False
    db.session.commit()
    assert auth.login(email="gone@example.com").status_code == 422


def test_login_only_follows_next_within_the_site(app, client, auth):
    make_user(make_account(), email="staff@example.com")
    db.session.commit()
    response = client.post("/login?next=https://evil.example/steal", data={"email": "staff@example.com",
                                                                          "password": PASSWORD})
    assert response.headers["Location"] == "/dashboard/"
    client.post("/logout")
    response = client.post("/login?next=/dashboard/settings", data={"email": "staff@example.com",
                                                                    "password": PASSWORD})
    assert response.headers["Location"] == "/dashboard/settings"


def test_an_expired_session_gets_hx_redirect_on_htmx_requests(client):
    response = client.get("/dashboard/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_session_cookie_is_httponly_and_samesite_lax(client, auth):
    response = auth.signup()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_oversized_form_is_refused_with_413(app, client):
    response = client.post("/login", data={"email": "a@example.org", "password": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert count(User) == 0


def test_the_site_root_leads_to_the_login_or_the_dashboard(app, client, auth):
    make_user(make_account(), email="staff@example.com")
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/?next=//evil.example").headers["Location"].endswith("/login")  # nothing followed
    auth.login(email="staff@example.com")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/")
    assert client.head("/").status_code == 302

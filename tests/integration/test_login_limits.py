"""Login and sign-up limits: failures only, per address and per account; the client's address
behind trusted proxies; a sign-up that does not tell who has an account."""
import itertools
import re
from urllib.parse import quote

import pytest
from flask import request
from sqlalchemy import func, select

from app import register_proxy_fix
from app.config import Config, TestConfig
from app.extensions import db
from app.models import Account, User
from tests.factories import PASSWORD, make_account, make_user

# Every test keys on its own addresses and emails: the limiter's memory lives as long as the app.
_numbers = itertools.count(1)


def fresh_address() -> str:
    n = next(_numbers)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def post_login(client, email, password, address=None, **headers):
    return client.post("/login", data={"email": email, "password": password}, headers=headers,
                       environ_base={"REMOTE_ADDR": address or fresh_address()})


@pytest.fixture
def admin(app):
    user = make_user(make_account(), email=f"admin{next(_numbers)}@example.com")
    db.session.commit()
    return user


def test_failures_from_one_address_are_limited_and_the_message_is_clear(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    here = fresh_address()
    codes = [post_login(client, admin.email, "wrong password!", here).status_code for _ in range(3)]
    assert codes == [422, 422, 422]
    refused = post_login(client, admin.email, PASSWORD, here)  # even the right password, from here
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    page = refused.get_data(as_text=True)
    assert "Too many failed attempts. Please wait a few minutes, then try again." in page
    assert 'name="email"' in page  # the login form itself, not a dead end
    assert client.get("/dashboard/").status_code == 302
    assert post_login(client, admin.email, PASSWORD).status_code == 303  # another address


def test_successful_logins_never_count(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "2 per minute")
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "2 per minute")
    here = fresh_address()
    for _ in range(6):
        assert post_login(client, admin.email, PASSWORD, here).status_code == 303
        client.post("/logout")
    assert post_login(client, admin.email, "wrong password!", here).status_code == 422


def test_an_attacker_who_knows_the_admins_email_cannot_keep_the_admin_out(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "5 per minute")
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "3 per 10 minutes")
    attackers = [fresh_address() for _ in range(20)]
    codes = [post_login(client, admin.email, f"guess number {n}", address).status_code
             for n, address in enumerate(attackers)]
    # Past the account's limit each address keeps one guess, checked like any other.
    assert codes == [422] * 20
    # An address that has failed is now refused at once, even with the right password: guessing slows.
    assert post_login(client, admin.email.upper(), PASSWORD, attackers[0]).status_code == 429
    assert post_login(client, admin.email, "another guess", attackers[1]).status_code == 429
    # The admin, at an address that has not failed, types the right password and is in.
    response = post_login(client, f"  {admin.email.upper()} ", PASSWORD)
    assert response.status_code == 303
    assert client.get("/dashboard/").status_code == 200


def test_one_address_failing_for_many_emails_is_limited_by_address(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    here = fresh_address()
    codes = [post_login(client, "who1@example.com", "nope nope nope", here).status_code,
             post_login(client, "who2@example.com", "nope nope nope", here).status_code,
             post_login(client, admin.email, PASSWORD, here).status_code]  # a success between: not counted
    client.post("/logout")
    codes += [post_login(client, f"who{n}@example.com", "nope nope nope", here).status_code for n in range(3, 6)]
    assert codes == [422, 422, 303, 422, 429, 429]


# (A NUL in the email itself reaches PostgreSQL, which refuses it: that is the forms' to refuse.)
@pytest.mark.parametrize("email", ["a%01b%1F%40example.com", "%ED%A0%80%40example.com", "%FF%FE%40example.com",
                                   quote("x" * 249 + "@e.co"), quote("١٢٣@example.com"),
                                   quote("'; DROP TABLE users;--@example.com")])
def test_hostile_emails_are_counted_like_any_other(app, client, monkeypatch, email):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "2 per minute")
    here = fresh_address()
    # A raw body, so a NUL and lone surrogates (U+D800 as UTF-8) arrive as a browser could send them.
    codes = [client.post("/login", data=f"email={email}&password=nope%00%ED%BF%BF{'x' * 20}",
                         content_type="application/x-www-form-urlencoded",
                         environ_base={"REMOTE_ADDR": here}).status_code for _ in range(3)]
    assert codes == [422, 422, 429]  # the email's own count, reached from an address that failed


def test_forwarded_headers_are_ignored_without_trusted_proxies(app, client, monkeypatch):
    assert Config.TRUSTED_PROXY_HOPS == 0 and TestConfig.TRUSTED_PROXY_HOPS == 0
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    here = fresh_address()
    # A client forging X-Forwarded-For does not get a new address (so a new budget) each time.
    codes = [post_login(client, "nobody@example.com", "nope nope nope", here,
                        **{"X-Forwarded-For": fresh_address()}).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]


@pytest.fixture
def behind_one_proxy(app, monkeypatch):
    """The app as create_app builds it with TRUSTED_PROXY_HOPS=1 (restored afterwards)."""
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_HOPS", 1)
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)
    register_proxy_fix(app)
    return app


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(behind_one_proxy, client, admin, monkeypatch):
    monkeypatch.setitem(behind_one_proxy.config, "LOGIN_RATE_LIMIT", "3 per minute")
    proxy, attacker, customer = fresh_address(), fresh_address(), fresh_address()
    codes = [post_login(client, admin.email, "wrong password!", proxy,
                        **{"X-Forwarded-For": f"{fresh_address()}, {attacker}"}).status_code for _ in range(4)]
    # The proxy's own entry is trusted, what the client put before it is not.
    assert codes == [422, 422, 422, 429]
    # Ten bad logins behind the load balancer do not lock out everyone else behind it.
    assert post_login(client, admin.email, PASSWORD, proxy,
                      **{"X-Forwarded-For": customer}).status_code == 303


def test_behind_a_trusted_proxy_the_address_and_scheme_are_the_clients(behind_one_proxy, client):
    seen = {}

    def record(response):
        seen.update(scheme=request.scheme, address=request.remote_addr)
        return response

    behind_one_proxy.after_request_funcs.setdefault(None, []).append(record)
    try:
        client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.9.9, 203.0.113.77"},
                   environ_base={"REMOTE_ADDR": "10.0.0.2"})
    finally:
        behind_one_proxy.after_request_funcs[None].remove(record)
    assert seen == {"scheme": "https", "address": "203.0.113.77"}


def _page_without_tokens(response_html: str) -> str:
    return re.sub(r'nonce="[^"]*"|name="csrf_token"[^>]*>|content="[^"]*"', "", response_html)


def test_signup_answers_the_same_for_a_new_and_a_registered_email(app, client, monkeypatch):
    make_user(make_account(), email="taken@example.com")
    db.session.commit()
    from app.services import accounts

    hashed = []
    real_hash = accounts.hash_password
    monkeypatch.setattr(accounts, "hash_password", lambda password: hashed.append(1) or real_hash(password))
    answers = []
    for email in ("taken@example.com", "new@example.com", "TAKEN@Example.com"):
        response = client.post("/signup", data={"store_name": "Acme", "email": email, "password": PASSWORD,
                                                "confirm": PASSWORD},
                               environ_base={"REMOTE_ADDR": fresh_address()})
        answers.append((response.status_code, response.headers.get("Location"),
                        _page_without_tokens(client.get("/login").get_data(as_text=True))))
        assert len(hashed) == len(answers)  # the same work either way: one password hash
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 303 and answers[0][1] == "/login"
    assert "Thank you. If this email address is new to Boomerang" in answers[0][2]
    assert "already exists" not in answers[0][2]
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    assert db.session.scalar(select(func.count()).select_from(Account)) == 2
    # The registered owner's password is untouched; the new owner can log in.
    assert post_login(client, "taken@example.com", PASSWORD).status_code == 303
    client.post("/logout")
    assert post_login(client, "new@example.com", PASSWORD).status_code == 303


def test_signup_is_rate_limited_per_address_and_form_errors_do_not_count(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNUP_RATE_LIMIT", "2 per minute")
    here = fresh_address()

    def signup(email, password=PASSWORD, address=here):
        return client.post("/signup", data={"store_name": "Acme", "email": email,
                                            "password": password, "confirm": password},
                           environ_base={"REMOTE_ADDR": address}).status_code

    assert signup("one@example.com", password="short") == 422
    assert signup("not an email \x00") == 422
    assert signup("x" * 300 + "@example.com") == 422
    assert [signup(f"s{n}@example.com") for n in range(4)] == [303, 303, 429, 429]
    assert signup("other@example.com", address=fresh_address()) == 303

"""Portal look-up limits count failed look-ups only, per shop and address and per shop and order
number: a shopper who finds the order is never counted, and one shopper's failures do not block
another customer of the shop."""
import itertools
from urllib.parse import quote

import pytest

from app.extensions import db
from tests.factories import make_account
from tests.fixtures.auth import look_up_order
from tests.support.portal import make_line, make_portal_order

_numbers = itertools.count(1)
TOO_MANY = "Too many attempts. Please wait a minute and try again."


def fresh_address() -> str:
    n = next(_numbers)
    return f"192.0.{n // 250}.{n % 250 + 1}"


pytestmark = pytest.mark.account(name="Acme Outdoor")


@pytest.fixture
def portal_account(account, app, monkeypatch):
    """The account with two orders the portal can find, #1234 (pat@example.com) and #5678
    (sam@example.com), and look-up limits low enough to reach: 3 failures a minute per address,
    3 per 10 minutes per order number."""
    make_portal_order(account, [make_line()], name="#1234", email="pat@example.com")
    make_portal_order(account, [make_line()], name="#5678", email="sam@example.com")
    db.session.commit()
    monkeypatch.setitem(app.config, "PORTAL_LOOKUP_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "PORTAL_ORDER_RATE_LIMIT", "3 per 10 minutes")
    return account


def test_failed_lookups_from_one_address_are_limited_per_shop(portal_account, client):
    here, other_shop = fresh_address(), make_account()
    db.session.commit()
    codes = [look_up_order(client, portal_account, f"#9{n}", "x@example.com", here).status_code for n in range(2)]
    found = look_up_order(client, portal_account, "#1234", "pat@example.com", here)
    codes.append(found.status_code)  # found: not counted
    codes += [look_up_order(client, portal_account, f"#9{n}", "x@example.com", here).status_code for n in range(2, 4)]
    assert codes == [422, 422, 303, 422, 429]
    refused = look_up_order(client, portal_account, "#1234", "pat@example.com", here)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    page = refused.get_data(as_text=True)
    assert TOO_MANY in page and 'name="order_number"' in page  # the look-up form, not a dead end
    assert look_up_order(client, other_shop, "#1", "x@example.com", here).status_code == 422  # another shop
    # Another shopper of the same shop, at another address, is not blocked.
    assert look_up_order(client, portal_account, "#5678", "sam@example.com", fresh_address()).status_code == 303


def test_successful_lookups_never_count(portal_account, client):
    here = fresh_address()
    for _ in range(6):
        assert look_up_order(client, portal_account, "#1234", "pat@example.com", here).status_code == 303
    assert look_up_order(client, portal_account, "#1234", "wrong@example.com", here).status_code == 422


def test_guessing_one_order_numbers_email_is_limited_per_order_but_its_customer_gets_in(portal_account, client):
    guessers = [fresh_address() for _ in range(6)]
    codes = [look_up_order(client, portal_account, "1234", f"guess{n}@example.com", address).status_code
             for n, address in enumerate(guessers)]
    assert codes == [422] * 6  # past the order's limit, each new address keeps one guess
    assert look_up_order(client, portal_account, "# 1234", "guess9@example.com", guessers[0]).status_code == 429
    # The customer, at an address that has not failed, finds the order.
    assert look_up_order(client, portal_account, "#1234", "PAT@example.com", fresh_address()).status_code == 303
    # Another order of the shop is not touched by the guessing.
    assert look_up_order(client, portal_account, "#5678", "sam@example.com", fresh_address()).status_code == 303


@pytest.mark.parametrize("number, email", [
    ("%01%1F", "a%01%40example.com"), ("%ED%A0%80", "%ED%A0%80%40example.com"), ("%FF%FE", "x%40example.com"),
    (quote("١٢٣٤"), "pat%40example.com"), ("9" * 64, quote("x" * 240 + "@example.com")),
])
def test_hostile_lookups_are_counted_without_a_5xx(portal_account, client, monkeypatch, number, email):
    monkeypatch.setitem(client.application.config, "PORTAL_LOOKUP_RATE_LIMIT", "100 per minute")
    here = fresh_address()
    codes = [client.post(f"/r/{portal_account.slug}", data=f"order_number={number}&email={email}",
                         content_type="application/x-www-form-urlencoded",
                         environ_base={"REMOTE_ADDR": here}).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]  # the order number's own count, reached from an address that failed

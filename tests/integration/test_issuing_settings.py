"""Settings, "Credit notes and exchanges": which credit the shop gets and why, the gift card limit,
and the exchange mode and issued-notice choices — saved when valid; a forged value is refused with
the reason next to the field and nothing is written; admins only; CSRF checked."""
import html
import re
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Account
from tests.fixtures.auth import log_in
from tests.support.forms import CONTENT_TYPE, multipart
from tests.support.settings import SETTINGS, post_settings, settings_data

# Not connected: the settings page asks Shopify nothing (its locations list says to connect).
pytestmark = pytest.mark.account(name="Acme Outdoor", currency="EUR", users=["admin", "staff"], logged_in="admin")

VALID = {"exchange_mode": "separate_order", "issued_notice": "email"}


def section(body: str) -> str:
    """The "Credit notes and exchanges" section of the settings page."""
    return body.split('id="issuing"', 1)[1].split("</section>", 1)[0]


def text_of(markup: str) -> str:
    """The words of an HTML fragment, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def stored(account) -> tuple[str, str]:
    """The account's exchange mode and issued notice as stored now."""
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    return saved.exchange_mode, saved.issued_notice


@pytest.mark.parametrize("version, says", [
    ("NEW_CUSTOMER_ACCOUNTS", "Store credit (the shop uses new customer accounts)"),
    ("CLASSIC", "Gift cards (store credit needs Shopify's new customer accounts; this shop uses "
                                  "classic accounts)"),
    (None, "Unknown until the store is connected"),
])
def test_the_section_says_which_credit_the_shop_gets_and_why(account, client, version, says):
    account.customer_accounts_version = version
    db.session.commit()
    body = client.get(SETTINGS).get_data(as_text=True)
    shown = text_of(section(body))
    assert f"A credit note becomes {says}" in shown
    assert "A guest order (no customer) always gets a gift card" in shown
    assert "Gift card limit" not in shown


def test_the_gift_card_limit_is_shown_when_known(account, client):
    account.gift_card_issue_limit = Decimal("500")
    db.session.commit()
    shown = text_of(section(client.get(SETTINGS).get_data(as_text=True)))
    assert "Gift card limit 500.00 EUR per gift card issued" in shown
    assert "worth more than the gift card limit goes to staff" in shown


def test_defaults_are_checked_and_the_restock_checkbox_keeps_its_label(account, client):
    body = client.get(SETTINGS).get_data(as_text=True)
    form = section(body)
    assert re.search(r'<input checked id="exchange_mode-0" name="exchange_mode"[^>]* value="shopify">', form)
    assert re.search(r'<input checked id="issued_notice-0" name="issued_notice"[^>]* value="shopify">', form)
    assert "Shopify exchanges on the original order" in form
    assert "A separate $0 exchange order, for warehouses that only ship normal orders" in form
    assert "Shopify tells the customer" in form and "Boomerang emails the customer" in form
    assert "Put returned items back into stock (refunds, credit notes and exchanges)" in body


def test_the_choices_are_saved(account, client):
    response = post_settings(client, VALID)
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard/settings")
    assert stored(account) == ("separate_order", "email")
    form = section(client.get(SETTINGS).get_data(as_text=True))
    assert 'checked id="exchange_mode-1"' in form and 'checked id="issued_notice-1"' in form
    assert post_settings(client, {"exchange_mode": "shopify", "issued_notice": "shopify"}).status_code == 303
    assert stored(account) == ("shopify", "shopify")


FORGED = [
    ("exchange_mode", "draft_order", "Choose one of the two ways to send exchanges."),
    ("exchange_mode", "SHOPIFY", "Choose one of the two ways to send exchanges."),
    ("exchange_mode", "shоpify", "Choose one of the two ways to send exchanges."),       # a Cyrillic о
    ("exchange_mode", "shopify\x00", "Choose one of the two ways to send exchanges."),
    ("exchange_mode", "shopify ", "Choose one of the two ways to send exchanges."),
    ("exchange_mode", "s" * 10_000, "Choose one of the two ways to send exchanges."),
    ("exchange_mode", "", "Choose how exchanges are sent."),
    ("exchange_mode", None, "Choose how exchanges are sent."),
    ("issued_notice", "sms", "Choose Shopify or Boomerang."),
    ("issued_notice", "email\u202e", "Choose Shopify or Boomerang."),
    ("issued_notice", "１", "Choose Shopify or Boomerang."),                             # a full-width digit
    ("issued_notice", "", "Choose who tells the customer."),
    ("issued_notice", None, "Choose who tells the customer."),
]


@pytest.mark.parametrize("name, value, message", FORGED, ids=[f"{n}={v!r:.20}" for n, v, _ in FORGED])
def test_a_forged_value_is_refused_next_to_the_field_and_nothing_is_written(account, client, name, value, message):
    response = post_settings(client, {**VALID, name: value})
    assert response.status_code == 422
    form = section(response.get_data(as_text=True))
    assert f'<p class="error" id="{name}-error">{message}</p>' in form
    assert "\x00" not in response.get_data(as_text=True)
    assert stored(account) == ("shopify", "shopify")


def test_a_lone_surrogate_or_bytes_that_are_not_utf8_are_refused(account, client):
    for raw in (b"\xed\xa0\x80", b"email\xff"):
        page = {name: value.encode() for name, value in settings_data(client, {}).items()}
        body = multipart({**page, "exchange_mode": b"shopify", "issued_notice": raw})
        response = client.post(SETTINGS, data=body, content_type=CONTENT_TYPE)
        assert response.status_code == 422
        assert '<p class="error" id="issued_notice-error">Choose Shopify or Boomerang.</p>' in \
            response.get_data(as_text=True)
    assert stored(account) == ("shopify", "shopify")


def test_a_post_without_a_csrf_token_is_a_400(account, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post(SETTINGS, data=VALID).status_code == 400
    assert stored(account) == ("shopify", "shopify")


def test_staff_may_not_change_them(account, client):
    client.post("/logout")
    log_in(client, "staff@example.com")
    assert client.post(SETTINGS, data=VALID).status_code == 403
    assert client.get(SETTINGS).status_code == 403
    assert stored(account) == ("shopify", "shopify")

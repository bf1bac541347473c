"""The settings page is one form with one Save: every section saved together, or nothing saved and
everything typed shown again with each refusal next to its field; the portal colour must keep
white button text readable (WCAG AA), with a preview; a colour stored before that still renders
readably in the portal."""
import re

import pytest

from app.extensions import db
from app.models import Account
from app.services.rules import create_rule
from tests.factories import make_user
from tests.fixtures.auth import log_in
from tests.support.forms import CONTENT_TYPE, multipart
from tests.support.rules import FAULTY_REFUND
from tests.support.settings import SETTINGS, page_values, post_settings, settings_data

pytestmark = pytest.mark.account(users=["admin"], logged_in="admin")

VALID = {"name": "Acme", "return_window_days": "45", "order_storage_months": "6",
         "logo_url": "https://cdn.example.com/logo.png", "primary_color": "#aa3300"}
LIGHT_YELLOW = "#ffe680"


def saved(account) -> Account:
    db.session.expire_all()
    return db.session.get(Account, account.id)


def snapshot(account) -> tuple:
    stored = saved(account)
    return (stored.name, stored.return_window_days, stored.order_storage_months, stored.logo_url,
            stored.primary_color, stored.option_mode, stored.exchange_enabled, stored.return_reasons,
            stored.excluded_product_tags, stored.return_action, stored.exchange_mode, stored.issued_notice)


def test_the_page_is_one_form_with_one_save_button(account, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    body = client.get(SETTINGS).get_data(as_text=True)
    main = body[body.index("<main"):]
    assert len(re.findall(r"<form\b", main)) == 1
    assert len(re.findall(r'<button[^>]*type="submit"', main)) == 1
    assert main.count('name="csrf_token"') == 1


def test_settings_are_saved(account, client):
    assert post_settings(client, VALID).status_code == 303
    stored = saved(account)
    assert (stored.name, stored.return_window_days, stored.order_storage_months, stored.primary_color) == (
        "Acme", 45, 6, "#aa3300")
    assert stored.logo_url == "https://cdn.example.com/logo.png"


def test_one_save_keeps_the_changes_made_in_every_section(account, client):
    create_rule(account.id, FAULTY_REFUND)  # rules mode needs a rule that can decide something
    response = post_settings(client, {**VALID, "option_mode": "rules", "exchange_enabled": None,
                                      "return_reasons": "Faulty\nToo big", "excluded_product_tags": "final-sale",
                                      "return_action": "manual", "restock_returned_units": None,
                                      "exchange_mode": "separate_order", "issued_notice": "email"})
    assert response.status_code == 303
    stored = saved(account)
    assert (stored.name, stored.primary_color, stored.option_mode, stored.exchange_enabled) == (
        "Acme", "#aa3300", "rules", False)
    assert (stored.return_reasons, stored.excluded_product_tags) == (["Faulty", "Too big"], ["final-sale"])
    assert (stored.return_action, stored.restock_returned_units) == ("manual", False)
    assert (stored.exchange_mode, stored.issued_notice) == ("separate_order", "email")
    assert "Settings saved." in client.get(SETTINGS).get_data(as_text=True)


def test_a_refusal_in_one_section_keeps_what_was_typed_in_all_and_writes_nothing(account, client):
    before = snapshot(account)
    response = post_settings(client, {"name": "Acme Renamed", "primary_color": "#0b4f9c", "option_mode": "rules",
                                      "return_reasons": "Faulty\nfaulty", "return_action": "manual",
                                      "issued_notice": "email"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "“faulty” is listed twice." in body
    shown = settings_data(client, {})  # what the page now shows, had it been reloaded: the stored values
    assert shown["name"] != "Acme Renamed"
    typed = page_values(body)
    assert (typed["name"], typed["primary_color"], typed["option_mode"], typed["return_action"],
            typed["issued_notice"]) == ("Acme Renamed", "#0b4f9c", "rules", "manual", "email")
    assert typed["return_reasons"] == "Faulty\nfaulty"
    assert snapshot(account) == before
    # the summary at the top names the field and links to it
    assert re.search(r'<a href="#return_reasons">[^<]*listed twice', body)


@pytest.mark.parametrize("field, value, message", [
    ("return_window_days", "0", "between 1 and 365"),
    ("return_window_days", "abc", "Enter a number of days in digits, e.g. 30."),
    ("return_window_days", "٣٠", "Enter a number of days in digits, e.g. 30."),      # Arabic-Indic 30
    ("return_window_days", "３０", "Enter a number of days in digits, e.g. 30."),      # full-width 30
    ("return_window_days", "9" * 5000, "between 1 and 365"),
    ("return_window_days", "1" + "0" * 30, "between 1 and 365"),
    ("order_storage_months", "99", "between 1 and 24"),
    ("primary_color", "red; background:url(x)", "Use a colour like"),
    ("primary_color", "#１２３４５６", "Use a colour like"),
    ("primary_color", "#aa3300\x00", "Use letters, digits and punctuation only."),
    ("primary_color", "#aa3300" * 1000, "Use a colour like"),
    ("logo_url", "javascript:alert(1)", "Enter a full https:// address."),
    ("logo_url", "https://cdn.example.com/\x00.png", "Use letters, digits and punctuation only."),
    ("logo_url", "http://cdn.example.com/logo.png",
     "Use an https:// address: browsers block images sent over plain http."),
    ("logo_url", "HTTP://cdn.example.com/logo.png", "Use an https:// address"),
    ("logo_url", "//cdn.example.com/logo.png", "Enter a full https:// address."),
    ("name", "", "Enter the store&#39;s name."),
    ("name", "Acme\x00", "Use letters, digits and punctuation only."),
    ("name", "x" * 121, "at most 120 characters"),
    ("return_reasons", "Faulty\nToo\x00small", "Use letters, digits and punctuation only."),
    ("excluded_product_tags", "final\x00sale", "Use letters, digits and punctuation only."),
    ("return_action", "soon", "Not a valid choice"),
    ("restock_location_id", "١", "Choose one of the store&#39;s locations."),
])
def test_bad_settings_are_refused_next_to_the_field(account, client, field, value, message):
    before = snapshot(account)
    response = post_settings(client, {**VALID, field: value})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert "\x00" not in body
    assert re.search(rf'<p class="error" id="{field}-error">', body)
    assert snapshot(account) == before


@pytest.mark.parametrize("field", ["name", "return_reasons", "primary_color", "return_window_days"])
@pytest.mark.parametrize("raw", [b"\xed\xa0\x80", b"\xff"], ids=["lone-surrogate", "not-utf8"])
def test_bytes_that_are_not_utf8_are_refused(account, client, field, raw):
    before = snapshot(account)
    values = {name: value.encode() for name, value in settings_data(client, {}).items()}
    response = client.post(SETTINGS, data=multipart({**values, field: b"Acme" + raw}), content_type=CONTENT_TYPE)
    assert response.status_code == 422
    assert re.search(rf'<p class="error" id="{field}-error">', response.get_data(as_text=True))
    assert snapshot(account) == before


def test_a_colour_white_text_cannot_be_read_on_is_refused_with_the_nearest_shade_that_can(account, client):
    before = snapshot(account)
    response = post_settings(client, {**VALID, "primary_color": LIGHT_YELLOW})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "White text on #ffe680 reaches only 1.2:1; readable text needs 4.5:1 (WCAG AA)." in body
    assert "The nearest shade that passes is #907300." in body
    assert snapshot(account) == before
    assert post_settings(client, {**VALID, "primary_color": "#907300"}).status_code == 303
    assert saved(account).primary_color == "#907300"


def test_the_preview_shows_the_portal_in_the_colour_and_says_whether_it_reads(account, client):
    page = client.get(SETTINGS).get_data(as_text=True)
    assert 'id="colour-preview"' in page
    good = client.get(f"{SETTINGS}/colour-preview", query_string={"primary_color": "#0b4f9c"})
    assert good.status_code == 200
    text = good.get_data(as_text=True)
    assert 'fill="#0b4f9c"' in text and "readable" in text
    bad = client.get(f"{SETTINGS}/colour-preview", query_string={"primary_color": LIGHT_YELLOW})
    text = bad.get_data(as_text=True)
    assert "reaches only 1.2:1" in text
    # as it would be (white on the yellow), beside the nearest shade that reads
    assert '<rect x="12" y="12" width="150" height="40" rx="8" fill="#ffe680"/>' in text
    assert re.search(r'fill="#ffffff" class="preview-button-text"', text)
    assert '<rect x="12" y="12" width="150" height="40" rx="8" fill="#907300"/>' in text


@pytest.mark.parametrize("value", ["", "red", "%2312%0034", "%23%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96",
                                   "%23" + "a" * 100_000, "%ED%A0%80", "%23ffe680%00"])
def test_the_preview_of_something_that_is_not_a_colour_says_what_a_colour_looks_like(account, client, value):
    response = client.get(f"{SETTINGS}/colour-preview?primary_color={value}")
    assert response.status_code == 200
    assert "Use a colour like #1f6feb." in response.get_data(as_text=True)
    assert "\x00" not in response.get_data(as_text=True)


def test_staff_may_not_preview_or_save(account, client):
    make_user(account, role="staff", email="staff@example.com")
    db.session.commit()
    client.post("/logout")
    log_in(client, "staff@example.com")
    assert client.get(f"{SETTINGS}/colour-preview?primary_color=%23000000").status_code == 403
    assert client.post(SETTINGS, data=VALID).status_code == 403


def test_a_colour_stored_before_the_check_still_renders_readably_in_the_portal(account, client):
    account.primary_color = LIGHT_YELLOW
    db.session.commit()
    body = client.get(f"/r/{account.slug}").get_data(as_text=True)
    style = re.search(r"<style[^>]*>(.*?)</style>", body, re.S).group(1)
    assert "--brand: #ffe680" in style
    assert "--on-brand: #1b1f24" in style  # dark text on the light button, 12.9:1
    assert "--link: #876d00" in style      # links in the nearest shade reading 4.5:1 on every surface


def test_without_read_all_orders_the_window_is_capped_and_says_why(account, client):
    account.granted_scopes = ["read_orders", "read_products"]
    db.session.commit()
    response = post_settings(client, {**VALID, "return_window_days": "90"})
    assert response.status_code == 422
    assert "without the read_all_orders permission" in response.get_data(as_text=True)
    assert saved(account).return_window_days != 90
    account = saved(account)
    account.granted_scopes = ["read_orders", "read_all_orders"]
    db.session.commit()
    assert post_settings(client, {**VALID, "return_window_days": "90"}).status_code == 303

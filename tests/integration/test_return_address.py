"""Where the parcel goes: the shop's address read from Shopify, the retailer's own return address
and instructions (Settings), shown on the confirmation, the status page, the email and a printable
packing slip with the RMA's barcode."""
import re

import pytest
from sqlalchemy import select

from app.domain.contrast import contrast_ratio
from app.extensions import db
from app.models import Account, OutboxEmail, Return
from sandbox import shop_address as sandbox_address
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in, look_up_order
from tests.support.connect import connect_with_token, login_admin, make_shop, use_virtual_time
from tests.integration.test_portal_flow import choose, review
from tests.support.forms import CONTENT_TYPE, multipart
from tests.support.portal import make_line, make_portal_order
from tests.support.settings import SETTINGS, post_settings, settings_data

SHOPS_ADDRESS = "Acme Outfitters\n150 Elgin Street\nUnit 8\nOttawa, ON K2P 1L4\nCanada"
REFRESH = "/dashboard/settings/return-address/from-shopify"


def test_the_shops_address_is_read_from_shopify_when_the_store_connects(app, client, sandbox, monkeypatch,
                                                                          drain_jobs):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, orders=0)
    account, _ = login_admin(client, shop_domain=None)
    assert connect_with_token(client, shop).status_code == 303
    drain_jobs()
    db.session.expire_all()
    assert db.session.get(Account, account.id).shop_address == SHOPS_ADDRESS
    page = client.get("/dashboard/settings").get_data(as_text=True)
    assert "Shoppers send their parcels to your shop's address in Shopify" in page
    assert "150 Elgin Street" in page and "Ottawa, ON K2P 1L4" in page


pytestmark = pytest.mark.account(name="Acme Outfitters", return_reasons=["Faulty", "Too small"], in_sandbox=True,
                                 users=["admin"])  # boss@example.com


def test_the_shops_address_can_be_read_again_and_a_store_of_its_own_replaces_it(account, client, sandbox):
    log_in(client, "boss@example.com")
    sandbox_address.set_address(sandbox.store.get_shop(account.shop_domain), address1="9 Quay Road",
                                city="Leith", zip="EH6 6QQ", country="United Kingdom", countryCodeV2="GB")
    response = client.post(REFRESH)
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard/settings#return-address")
    db.session.expire_all()
    assert (db.session.get(Account, account.id).shop_address
            == "Acme Outfitters\n9 Quay Road\nLeith, EH6 6QQ\nUnited Kingdom")
    assert "Your shop&#39;s address was read from Shopify." in client.get("/dashboard/settings").get_data(as_text=True)

    response = post_settings(client, {"return_address": " Acme Returns \r\n 4 Dock St \r\n\r\nLeith EH6 7AA ",
                                      "return_instructions":
                                          "Pack the items in their box.\r\nUse any tracked service."})
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert saved.return_address == "Acme Returns\n4 Dock St\nLeith EH6 7AA"
    assert saved.return_instructions == "Pack the items in their box.\nUse any tracked service."
    assert saved.parcel_address == saved.return_address
    page = client.get("/dashboard/settings").get_data(as_text=True)
    assert "Shoppers send their parcels to the return address below" in page
    # Emptied, the shop's address applies again.
    post_settings(client, {"return_address": "  ", "return_instructions": ""})
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert saved.return_address is None and saved.return_instructions is None
    assert saved.parcel_address == saved.shop_address


def test_reading_the_address_from_a_shop_that_cannot_answer_says_so_and_keeps_the_old_one(account, client, sandbox):
    log_in(client, "boss@example.com")
    account.shop_address = "Old Address\nSomewhere"
    db.session.commit()
    sandbox.store.get_shop(account.shop_domain).faults.update(error_rate=1.0)
    response = client.post(REFRESH, follow_redirects=True)
    assert response.status_code == 200
    assert "could not be read from Shopify" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Account, account.id).shop_address == "Old Address\nSomewhere"


LONG_LINE = "x" * 121


@pytest.mark.parametrize("field, raw, message", [
    ("return_address", b"4 Dock St\x00", "Use letters, digits and punctuation only."),
    ("return_address", b"4 Dock St\xed\xa0\x80", "Use letters, digits and punctuation only."),
    ("return_address", b"4 Dock St\xff", "Use letters, digits and punctuation only."),
    ("return_address", b"\x1b[31mDock", "Use letters, digits and punctuation only."),
    ("return_address", "\n".join(["line"] * 9).encode(), "at most 8 lines"),
    ("return_address", LONG_LINE.encode(), "at most 120 characters"),
    ("return_address", ("a\n" * 400).encode(), "at most 8 lines"),
    ("return_instructions", b"Pack well\x00", "Use letters, digits and punctuation only."),
    ("return_instructions", ("x" * 1001).encode(), "at most 1000 characters"),
    ("return_instructions", "٣".encode() * 2000, "at most 1000 characters"),
])
def test_hostile_input_is_refused_next_to_the_field_and_nothing_is_written(account, client, field, raw, message):
    log_in(client, "boss@example.com")
    account.return_address, account.return_instructions = "Kept\nAddress", "Kept instructions"
    db.session.commit()
    fields = {name: value.encode() for name, value in settings_data(client, {}).items()}
    fields.update({"return_address": b"4 Dock St\nLeith", "return_instructions": b"Pack well", field: raw})
    response = client.post(SETTINGS, data=multipart(fields), content_type=CONTENT_TYPE)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert "\x00" not in body and "\ufffd" not in body and "\x1b" not in body
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert (saved.return_address, saved.return_instructions) == ("Kept\nAddress", "Kept instructions")


def test_staff_cannot_change_the_return_address(account, client):
    make_user(account, role="staff", email="staff@example.com")
    db.session.commit()
    log_in(client, "staff@example.com")
    assert client.post(SETTINGS, data={"return_address": "Mine", "return_instructions": ""}).status_code == 403
    assert client.post(REFRESH).status_code == 403
    db.session.expire_all()
    assert db.session.get(Account, account.id).return_address is None


def _submit(client, account, order):
    look_up_order(client, account, order.name, order.email)
    _, _, hidden = review(client, account, choose(order.lines[0], option="refund"))
    location = client.post(f"/r/{account.slug}/submit", data=hidden).headers["Location"]
    return location, location.rsplit("/confirmed", 1)[0]


def test_the_shopper_is_told_where_to_send_it_on_every_page_and_in_the_email(account, client):
    account.return_address = "Acme Returns\n4 Dock St\nLeith EH6 7AA"
    account.return_instructions = "Pack the items in their box.\nUse any tracked service."
    order = make_portal_order(account, [make_line(title="Trail Jacket", sku="TJ-1")], email="pat@example.com")
    db.session.commit()
    confirmation, status = _submit(client, account, order)
    ret = db.session.scalar(select(Return))
    for url in (confirmation, status):
        page = client.get(url).get_data(as_text=True)
        assert "Send your parcel to" in page
        assert "Acme Returns<br>4 Dock St<br>Leith EH6 7AA" in page
        assert "Pack the items in their box.<br>Use any tracked service." in page
        assert f'href="{status}/packing-slip"' in page
    email = db.session.scalar(select(OutboxEmail))
    assert "Send your parcel to:\nAcme Returns\n4 Dock St\nLeith EH6 7AA" in email.text_body
    assert "Pack the items in their box.\nUse any tracked service." in email.text_body
    assert f"{status}/packing-slip" in email.text_body
    assert "Acme Returns<br>4 Dock St<br>Leith EH6 7AA" in email.html_body
    assert ret.rma_number in email.text_body


def test_without_any_address_the_shopper_is_told_to_ask_the_shop(app, client):
    account = make_account(name="Nowhere Shop")
    order = make_portal_order(account, [make_line()], email="pat@example.com")
    db.session.commit()
    confirmation, status = _submit(client, account, order)
    page = client.get(confirmation).get_data(as_text=True)
    assert "Nowhere Shop has not given a return address here yet" in page
    assert "Send your parcel to" not in page


def test_the_packing_slip_has_the_rma_its_barcode_the_items_and_both_addresses(account, client):
    account.shop_address = "Acme Outfitters\n150 Elgin Street\nOttawa, ON K2P 1L4\nCanada"
    account.return_instructions = "Use any tracked service."
    order = make_portal_order(account, [make_line(title="Trail Jacket", variant_title="M / Blue", sku="TJ-1",
                                                  quantity=2, fulfilled_quantity=2)],
                              email="pat@example.com", customer_name="Pat Shopper")
    db.session.commit()
    look_up_order(client, account, order.name, order.email)
    _, _, hidden = review(client, account, choose(order.lines[0], quantity=2, option="refund", reason="Too small"))
    status = client.post(f"/r/{account.slug}/submit", data=hidden).headers["Location"].rsplit("/confirmed", 1)[0]
    ret = db.session.scalar(select(Return))
    response = client.get(status + "/packing-slip")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'aria-label="Barcode of {ret.rma_number}"' in page and "<rect" in page
    assert page.count(ret.rma_number) >= 3
    assert "Acme Outfitters<br>150 Elgin Street<br>Ottawa, ON K2P 1L4<br>Canada" in page
    for text in ("Trail Jacket", "M / Blue", "TJ-1", "Too small", "Refund", "Pat Shopper", order.name,
                 "Use any tracked service."):
        assert text in page
    assert re.search(r'<td[^>]*>\s*2\s*</td>', page)


def test_a_forged_or_other_shops_packing_slip_link_is_a_404_and_a_cancelled_one_says_do_not_send(account, client):
    other = make_account()
    order = make_portal_order(account, [make_line()], email="pat@example.com")
    db.session.commit()
    _, status = _submit(client, account, order)
    token = status.rsplit("/", 1)[1]
    assert client.get(f"/r/{account.slug}/returns/{token}x/packing-slip").status_code == 404
    assert client.get(f"/r/{other.slug}/returns/{token}/packing-slip").status_code == 404
    assert client.get(f"/r/{account.slug}/returns/%00%ED%A0%80/packing-slip").status_code == 404
    client.post(status + "/cancel", data={"confirmed": "yes"})
    page = client.get(status + "/packing-slip").get_data(as_text=True)
    assert "This return is cancelled: please do not send anything." in page
    assert "Barcode of" not in page


def test_the_emails_links_read_on_white_even_in_a_light_colour_stored_before_colours_were_checked(account, client):
    account.primary_color = "#ffe680"  # white text on it reads at 1.2:1; links in it would too
    order = make_portal_order(account, [make_line(title="Trail Jacket", sku="TJ-1")], email="pat@example.com")
    db.session.commit()
    _submit(client, account, order)
    html = db.session.scalar(select(OutboxEmail)).html_body
    colours = set(re.findall(r'<a [^>]*style="color: (#[0-9a-f]{6});"', html))
    assert colours and "#ffe680" not in colours
    assert all(contrast_ratio(colour, "#ffffff") >= 4.5 for colour in colours), colours

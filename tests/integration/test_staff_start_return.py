"""Staff start a return for a customer from the order page (a phone call): choose items, reason
and option as the shop's mode allows, confirm what it will issue, and the return is made by the
same service as the portal's, with the staff member in its history; the customer may be emailed
the status link. Hostile input is refused with a reason and writes nothing."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEmail, Return, ReturnEvent
from tests.factories import make_account
from tests.support.forms import CONTENT_TYPE, multipart
from tests.support.portal import (exchangeable_product, line_for_variant, make_line,
                                   make_portal_order)


pytestmark = pytest.mark.account(name="Acme Outfitters", return_reasons=["Faulty", "Too small"], in_sandbox=True,
                                 users=["staff"], logged_in="staff")


def start_url(order):
    return f"/dashboard/orders/{order.id}/return"


def returns_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Return))


def choose(line, quantity=1, reason="Faulty", option=None, variant=None, note=None):
    data = {f"line-{line.id}-return": "1", f"line-{line.id}-quantity": str(quantity), f"line-{line.id}-reason": reason}
    for key, value in (("option", option), ("variant", variant), ("note", note)):
        if value is not None:
            data[f"line-{line.id}-{key}"] = str(value)
    return data


def hidden_inputs(body: str) -> dict:
    form = body.split('id="confirm-start"')[1].split("</form>")[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))


def test_staff_start_a_return_from_the_order_page_confirm_what_it_issues_and_email_the_customer(account, client):
    jacket = make_line(title="Trail Jacket", fulfilled_quantity=2, quantity=2)
    order = make_portal_order(account, [jacket, make_line(title="Socks")], email="pat@example.com",
                              customer_name="Pat Shopper")
    db.session.commit()
    page = client.get(f"/dashboard/orders/{order.id}").get_data(as_text=True)
    assert f'href="{start_url(order)}"' in page and "Start a return" in page

    form = client.get(start_url(order)).get_data(as_text=True)
    assert "Trail Jacket" in form and "Refund" in form and "Credit note" in form and "Exchange" in form

    response = client.post(start_url(order), data={**choose(jacket, quantity=2, option="refund"),
                                                   **choose(order.lines[1], option="credit", reason="Too small")})
    assert response.status_code == 200
    confirm = response.get_data(as_text=True)
    assert returns_count() == 0  # asking first
    assert "Start this return for Pat Shopper?" in confirm
    assert "Refund: 2 items, about 100.00 USD" in confirm and "Credit note: 1 item, about 50.00 USD" in confirm
    assert "Nothing is issued now" in confirm
    assert 'name="email_customer"' in confirm and "pat@example.com" in confirm
    hidden = hidden_inputs(confirm)

    done = client.post(start_url(order) + "/confirm", data={**hidden, "email_customer": "y"})
    assert done.status_code == 303
    ret = db.session.scalar(select(Return))
    assert done.headers["Location"] == f"/dashboard/returns/{ret.id}"
    assert [(i.title, i.quantity, i.option, i.reason) for i in ret.items] == [
        ("Trail Jacket", 2, "refund", "Faulty"), ("Socks", 1, "credit", "Too small")]
    created = db.session.scalar(
        select(ReturnEvent).where(ReturnEvent.return_id == ret.id, ReturnEvent.kind == "created"))
    assert created.actor == "staff@example.com"
    assert created.message == f"Return {ret.rma_number} started by staff@example.com for the customer: 3 items."
    email = db.session.scalar(select(OutboxEmail))
    assert email.to_address == "pat@example.com" and ret.rma_number in email.subject
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Return {ret.rma_number} started for Pat Shopper" in page and "emailed the status link" in page
    link = re.search(r"http://localhost(/r/\S+)", email.text_body).group(1)
    status = client.get(link).get_data(as_text=True)
    # The customer's history names the shop, not the staff member's login.
    assert f"Return {ret.rma_number} started for you by the shop: 3 items." in status
    assert "staff@example.com" not in status

    # The same confirmation sent again (double click, back button) makes no second return.
    again = client.post(start_url(order) + "/confirm", data={**hidden, "email_customer": "y"})
    assert again.status_code == 303 and returns_count() == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 1


def test_without_the_email_box_the_customer_is_not_emailed_and_changing_choices_keeps_them(account, client):
    order = make_portal_order(account, [make_line(title="Trail Jacket")], email="pat@example.com")
    db.session.commit()
    data = choose(order.lines[0], option="credit", reason="Too small", note="Called on the phone")
    hidden = hidden_inputs(client.post(start_url(order), data=data).get_data(as_text=True))
    edit = client.post(start_url(order), data={**hidden, "action": "edit"}).get_data(as_text=True)
    p = f"line-{order.lines[0].id}"
    assert f'id="{p}-return" name="{p}-return" value="1" checked' in edit
    assert 'value="credit" checked' in edit and 'value="Too small" selected' in edit
    assert "Called on the phone" in edit
    assert client.post(start_url(order) + "/confirm", data=hidden).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    ret = db.session.scalar(select(Return))
    assert ret.items[0].note == "Called on the phone"


def test_an_exchange_offers_the_products_other_sizes_in_stock(account, client, sandbox):
    product = exchangeable_product(sandbox, account.shop_domain)
    order = make_portal_order(account, [line_for_variant(product)], email="pat@example.com")
    db.session.commit()
    line = order.lines[0]
    asked = client.post(start_url(order), data=choose(line, option="exchange"))
    assert asked.status_code == 422
    body = asked.get_data(as_text=True)
    assert "Choose the size or colour" in body
    wanted = product.in_stock[0]
    assert f'value="{wanted.id}"' in body and f'value="{product.sold_out[0].id}"' not in body
    confirm = client.post(start_url(order), data=choose(line, option="exchange", variant=wanted.id))
    assert confirm.status_code == 200 and "Exchange: 1 item" in confirm.get_data(as_text=True)
    hidden = hidden_inputs(confirm.get_data(as_text=True))
    assert client.post(start_url(order) + "/confirm", data=hidden).status_code == 303
    assert db.session.scalar(select(Return)).items[0].exchange_variant_id == wanted.id


def test_in_rules_mode_staff_choose_no_option_and_the_rules_decide(account, client):
    account.option_mode = "rules"
    order = make_portal_order(account, [make_line(title="Trail Jacket")], email="pat@example.com")
    db.session.commit()
    form = client.get(start_url(order)).get_data(as_text=True)
    assert "Refund" not in form and "the shop's rules decide" in form
    confirm = client.post(start_url(order), data=choose(order.lines[0])).get_data(as_text=True)
    assert "Your rules decide" in confirm
    assert client.post(start_url(order) + "/confirm", data=hidden_inputs(confirm)).status_code == 303
    ret = db.session.scalar(select(Return))
    assert ret.option_source == "rules" and ret.items[0].resolution == "UNDECIDED"


@pytest.mark.parametrize("field, raw, message", [
    ("quantity", "²".encode(), "Choose how many to return."),
    ("quantity", "٣".encode(), "Choose how many to return."),
    ("quantity", b"99999999999999999999999", "Choose how many to return."),
    ("quantity", b"5", "you can return between 1 and 1"),
    ("reason", b"Faulty\x00", "choose a reason from the list"),
    ("reason", b"Broken", "choose a reason from the list"),
    ("note", b"Called\x00", "Use letters, digits and punctuation only."),
    ("note", b"Called \xed\xa0\x80", "Use letters, digits and punctuation only."),
    ("note", b"x" * 501, "under 500 characters"),
    ("option", b"cash", "choose one of Refund, Credit note, Exchange"),
])
def test_hostile_choices_are_refused_with_a_reason_and_nothing_is_written(account, client, field, raw, message):
    order = make_portal_order(account, [make_line(title="Trail Jacket")], email="pat@example.com")
    db.session.commit()
    fields = {k: v.encode() for k, v in choose(order.lines[0], option="refund").items()}
    fields[f"line-{order.lines[0].id}-{field}"] = raw
    for url in (start_url(order), start_url(order) + "/confirm"):
        body = multipart({**fields, "submission_token": b"t" * 40})
        response = client.post(url, data=body, content_type=CONTENT_TYPE)
        assert response.status_code == 422, url
        text = response.get_data(as_text=True)
        assert message in text, url
        assert "\x00" not in text and "\ufffd" not in text
    assert returns_count() == 0


def test_another_stores_order_or_line_is_refused(account, client):
    other = make_account()
    theirs = make_portal_order(other, [make_line()], email="x@example.com")
    mine = make_portal_order(account, [make_line()], email="pat@example.com")
    db.session.commit()
    assert client.get(start_url(theirs)).status_code == 404
    assert client.post(start_url(theirs) + "/confirm", data=choose(theirs.lines[0], option="refund")).status_code == 404
    response = client.post(start_url(mine), data=choose(theirs.lines[0], option="refund"))
    assert (response.status_code == 422
            and "One of the items is not part of this order." in response.get_data(as_text=True))
    response = client.post(start_url(mine) + "/confirm", data={**choose(theirs.lines[0], option="refund"),
                                                               "submission_token": "t" * 40})
    assert response.status_code == 422
    assert returns_count() == 0


def test_staff_print_the_packing_slip_from_the_return_page_and_not_another_stores(account, client):
    order = make_portal_order(account, [make_line(title="Trail Jacket")], email="pat@example.com")
    other = make_account()
    theirs = make_portal_order(other, [make_line()], email="x@example.com")
    db.session.commit()
    confirm = client.post(start_url(order), data=choose(order.lines[0], option="refund")).get_data(as_text=True)
    location = client.post(start_url(order) + "/confirm", data=hidden_inputs(confirm)).headers["Location"]
    ret = db.session.scalar(select(Return))
    page = client.get(location).get_data(as_text=True)
    assert f'href="/dashboard/returns/{ret.id}/packing-slip"' in page
    slip = client.get(f"/dashboard/returns/{ret.id}/packing-slip").get_data(as_text=True)
    assert f'aria-label="Barcode of {ret.rma_number}"' in slip and "Trail Jacket" in slip
    assert f'href="/dashboard/returns/{ret.id}">Back to the return' in slip
    from app.services.return_submission import Selection, create_return

    their_ret, _ = create_return(other, theirs.id, [Selection(theirs.lines[0].id, 1, "Faulty", option="refund")],
                                 "other-token")
    assert client.get(f"/dashboard/returns/{their_ret.id}/packing-slip").status_code == 404


def test_an_order_without_email_cannot_be_emailed_and_odd_order_ids_are_404(account, client):
    order = make_portal_order(account, [make_line(title="Trail Jacket")])
    order.email = None  # a phone or POS order: no address to write to
    db.session.commit()
    confirm = client.post(start_url(order), data=choose(order.lines[0], option="refund")).get_data(as_text=True)
    assert "The order has no email address, so the customer cannot be emailed." in confirm
    assert 'name="email_customer"' not in confirm
    assert client.post(start_url(order) + "/confirm", data={**hidden_inputs(confirm), "email_customer": "y"}
                       ).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    for odd in ("99999999999999999999999", "0", "-1", "%D9%A3", "1%00"):
        assert client.get(f"/dashboard/orders/{odd}/return").status_code == 404
        assert client.post(f"/dashboard/orders/{odd}/return/confirm").status_code == 404

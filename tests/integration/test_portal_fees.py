"""Fees in the portal: the shopper sees each fee and the total after them before submitting, the
return keeps the fees it was submitted with, and fees changed in between are never taken unseen."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Account, Return
from tests.fixtures.auth import look_up_order
from tests.support.hostile import form_body
from tests.support.portal import make_line, make_portal_order

pytestmark = pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty", "Too small", "Changed my mind"],
                                 restocking_fees={"Changed my mind": "10"}, return_shipping_fee=Decimal("4.95"))


def choose(line, reason, option, quantity=1):
    return {f"line-{line.id}-return": "1", f"line-{line.id}-quantity": str(quantity),
            f"line-{line.id}-reason": reason, f"line-{line.id}-option": option}


def review(client, account, data):
    response = client.post(f"/r/{account.slug}/items", data=data)
    body = response.get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                             body.split('class="edit-form"')[0]))
    return response, body, hidden


def text_of(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("− ", "−")


def shop_order(account):
    order = make_portal_order(account, [make_line(title="Trail Jacket", discounted_unit_price=Decimal("80.00")),
                                        make_line(title="Wool Socks", discounted_unit_price=Decimal("12.00"))],
                              email="pat@example.com")
    db.session.commit()
    return order


def test_the_shopper_sees_each_fee_and_the_total_after_them_before_submitting(account, client):
    order = shop_order(account)
    jacket, socks = order.lines
    look_up_order(client, account, order.name, "pat@example.com")
    response, body, hidden = review(client, account, {**choose(jacket, "Changed my mind", "refund"),
                                                      **choose(socks, "Faulty", "credit")})
    assert response.status_code == 200, body
    shown = text_of(body)
    assert "Restocking fee (10%) −8.00 USD" in shown          # only the reason that carries one
    assert "Return shipping fee −4.95 USD" in shown
    assert "Estimated total: 79.05 USD" in shown              # 80 + 12 − 8 − 4.95
    assert hidden["fees_shown"] == "12.95"
    assert client.post(f"/r/{account.slug}/submit", data=hidden).status_code == 303
    ret = db.session.scalar(select(Return))
    assert ret.return_shipping_fee == Decimal("4.95")
    assert [i.restocking_fee_percentage for i in ret.items] == [Decimal("10"), None]


def test_a_credit_note_pays_the_same_fees_as_a_refund(account, client):
    order = shop_order(account)
    look_up_order(client, account, order.name, "pat@example.com")
    _response, body, _hidden = review(client, account, choose(order.lines[0], "Changed my mind", "credit"))
    assert "Estimated total: 67.05 USD" in text_of(body)  # 80 − 8 − 4.95
    _response, body, _hidden = review(client, account, choose(order.lines[0], "Faulty", "credit"))
    assert "Restocking fee" not in body and "Estimated total: 75.05 USD" in text_of(body)


def test_fees_changed_after_the_review_refuse_the_submission_and_write_nothing(account, client):
    order = shop_order(account)
    look_up_order(client, account, order.name, "pat@example.com")
    _response, _body, hidden = review(client, account, choose(order.lines[0], "Changed my mind", "refund"))
    db.session.get(Account, account.id).restocking_fees = {"Changed my mind": "25"}
    db.session.commit()
    refused = client.post(f"/r/{account.slug}/submit", data=hidden)
    assert refused.status_code == 422
    assert "fees changed" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Return)) == 0
    # Checked again, the new fee is shown and taken.
    _response, body, hidden = review(client, account, choose(order.lines[0], "Changed my mind", "refund"))
    assert "Restocking fee (25%) −20.00 USD" in text_of(body)
    assert client.post(f"/r/{account.slug}/submit", data=hidden).status_code == 303


@pytest.mark.parametrize("tampered", ["0", "0.00", "12.95\x00", "\ud800", "１２.９５", "9" * 5000])
def test_a_tampered_fees_figure_is_refused_and_nothing_is_written(account, client, tampered):
    order = shop_order(account)
    look_up_order(client, account, order.name, "pat@example.com")
    _response, _body, hidden = review(client, account, choose(order.lines[0], "Changed my mind", "refund"))
    refused = client.post(f"/r/{account.slug}/submit", data=form_body({**hidden, "fees_shown": tampered}),
                          content_type="application/x-www-form-urlencoded")
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Return)) == 0


def test_a_later_change_of_the_settings_never_reaches_a_submitted_return(account, client):
    order = shop_order(account)
    look_up_order(client, account, order.name, "pat@example.com")
    _response, _body, hidden = review(client, account, choose(order.lines[0], "Changed my mind", "refund"))
    client.post(f"/r/{account.slug}/submit", data=hidden)
    stored = db.session.get(Account, account.id)
    stored.restocking_fees, stored.return_shipping_fee = {}, None
    db.session.commit()
    ret = db.session.scalar(select(Return))
    assert ret.return_shipping_fee == Decimal("4.95") and ret.items[0].restocking_fee_percentage == Decimal("10")

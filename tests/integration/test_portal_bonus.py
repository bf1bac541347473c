"""Bonus credit in the portal: shown beside each option that earns it, counted on the review, and
kept on the return as submitted; the settings refuse what is not a bonus and keep what was typed."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Return
from tests.fixtures.auth import look_up_order
from tests.support.portal import make_line, make_portal_order
from tests.support.settings import post_settings

pytestmark = pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty", "Too small"],
                                 credit_bonus="10%", exchange_enabled=False)


def text_of(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("+ ", "+")


def test_the_bonus_shows_beside_the_credit_note_and_on_the_review_and_is_kept(account, client):
    order = make_portal_order(account, [make_line(title="Trail Jacket", discounted_unit_price=Decimal("80.00"))],
                              email="pat@example.com")
    db.session.commit()
    line = order.lines[0]
    look_up_order(client, account, order.name, "pat@example.com")
    page = text_of(client.get(f"/r/{account.slug}/items").get_data(as_text=True))
    assert "+8.00 USD bonus per item (10% extra, as a gift card)" in page
    assert page.count("bonus per item") == 1  # beside the credit note only, not the refund
    data = {f"line-{line.id}-return": "1", f"line-{line.id}-quantity": "1", f"line-{line.id}-reason": "Faulty",
            f"line-{line.id}-option": "credit"}
    body = client.post(f"/r/{account.slug}/items", data=data).get_data(as_text=True)
    assert "Bonus +8.00 USD as a gift card, once your credit note is issued" in text_of(body)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                             body.split('class="edit-form"')[0]))
    client.post(f"/r/{account.slug}/submit", data=hidden)
    assert db.session.scalar(select(Return)).items[0].bonus_amount == Decimal("8.00")


@pytest.mark.account(users=["admin"], logged_in="admin", credit_bonus="10%", restocking_fees={"Faulty": "5"})
@pytest.mark.parametrize("field, typed", [
    ("credit_bonus", "101%"), ("credit_bonus", "-5"), ("credit_bonus", "²"), ("exchange_bonus", "1e9"),
    ("exchange_bonus", "a\x00b"), ("credit_bonus", "x" * 300),
    ("restocking_fees", "Faulty: 150"), ("restocking_fees", "Lost: 5"), ("restocking_fees", "Faulty: ５"),
    ("return_shipping_fee", "-1"), ("return_shipping_fee", "9" * 400), ("return_shipping_fee", "1\x00"),
])
def test_a_bonus_or_fee_that_is_not_one_is_refused_beside_its_field_and_nothing_is_saved(account, client, field,
                                                                                         typed):
    response = post_settings(client, {field: typed})
    assert response.status_code in (400, 422)
    stored = db.session.get(Account, account.id)
    assert (stored.credit_bonus, stored.restocking_fees, stored.return_shipping_fee) == ("10%", {"Faulty": "5"}, None)


@pytest.mark.account(users=["admin"], logged_in="admin")
def test_a_bonus_and_fees_are_saved_as_typed_and_shown_again(account, client):
    response = post_settings(client, {"credit_bonus": "12.5 %", "exchange_bonus": "5",
                                      "restocking_fees": "faulty: 7.5", "return_shipping_fee": "3.5"})
    assert response.status_code == 303
    stored = db.session.get(Account, account.id)
    assert (stored.credit_bonus, stored.exchange_bonus) == ("12.5%", "5.00")
    assert (stored.restocking_fees, stored.return_shipping_fee) == ({"Faulty": "7.5"}, Decimal("3.50"))
    page = client.get("/dashboard/settings").get_data(as_text=True)
    assert 'value="12.5%"' in page and 'value="5.00"' in page and "Faulty: 7.5" in page and 'value="3.50"' in page

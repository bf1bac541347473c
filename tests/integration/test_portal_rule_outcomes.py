"""The shop's rule outcomes in the portal: an Exchange only line offers only the exchange and the
server refuses any other option for it (a forged post writes nothing); a Keep item line says the
shopper keeps it, and the return then asks for no parcel; a Restocking fee rule's percentage is
what the review shows and what the return stores."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEmail, Return
from app.portal.session import status_token
from app.services.rules import create_rule
from tests.fixtures.auth import look_up_order
from tests.support.portal import make_line, make_portal_order

pytestmark = pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty", "Too small", "Changed my mind"],
                                 restocking_fees={"Changed my mind": "10"}, exchange_enabled=True)
CHEAP = [{"dimension": "item_price", "operator": "lt", "value": "20"}]
EXCHANGE_NOTE = "This item can be exchanged for another size or colour"


def rule(account, outcome, conditions=CHEAP, **more):
    create_rule(account.id, {"name": outcome, "outcome": outcome, "enabled": True, "conditions": conditions,
                             **more})


def choose(line, reason, option):
    return {f"line-{line.id}-return": "1", f"line-{line.id}-quantity": "1", f"line-{line.id}-reason": reason,
            f"line-{line.id}-option": option}


def text_of(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("− ", "−")


def options_of(body: str, line) -> list[str]:
    return re.findall(rf'name="line-{line.id}-option" value="([a-z]+)"', body)


def hidden_of(body: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                           body.split('class="edit-form"')[0]))


@pytest.fixture
def order(account, client):
    made = make_portal_order(account, [make_line(title="Trail Jacket", discounted_unit_price=Decimal("80.00")),
                                       make_line(title="Wool Socks", discounted_unit_price=Decimal("12.00"))],
                             email="pat@example.com")
    db.session.commit()
    look_up_order(client, account, made.name, "pat@example.com")
    return made


def returns() -> int:
    return db.session.scalar(select(func.count()).select_from(Return))


def test_an_exchange_only_line_offers_only_the_exchange(account, client, order):
    rule(account, "exchange_only")
    jacket, socks = order.lines
    body = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert options_of(body, socks) == ["exchange"]
    assert options_of(body, jacket) == ["refund", "credit", "exchange"]
    assert f'id="line-{socks.id}-exchange-only">{EXCHANGE_NOTE}' in body
    assert f"line-{jacket.id}-exchange-only" not in body


@pytest.mark.parametrize("option", ["refund", "credit", ""])
def test_a_forged_option_for_an_exchange_only_line_is_refused_and_nothing_written(account, client, order, option):
    rule(account, "exchange_only")
    jacket, socks = order.lines
    data = {**choose(jacket, "Faulty", "refund"), **choose(socks, "Faulty", option)}
    response = client.post(f"/r/{account.slug}/items", data=data)
    assert response.status_code == 422
    if option:  # (no option at all is the form's own error)
        assert "Wool Socks can only be exchanged for another size or colour." in response.get_data(as_text=True)
    # Straight to the submission, as a forged post would: refused, nothing written.
    forged = client.post(f"/r/{account.slug}/submit", data={**data, "order_id": str(order.id),
                                                            "submission_token": "f" * 43})
    assert forged.status_code == 422
    assert returns() == 0


def test_a_kept_line_says_so_and_its_return_asks_for_no_parcel(account, client, order):
    rule(account, "keep_credit")
    jacket, socks = order.lines
    body = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert options_of(body, socks) == ["credit"] and f"line-{socks.id}-keep-item" in body
    # The shopper's refund becomes the shop's credit note, shown before submitting.
    review = client.post(f"/r/{account.slug}/items", data=choose(socks, "Faulty", "refund"))
    shown = text_of(review.get_data(as_text=True))
    assert review.status_code == 200
    assert "You get Credit note" in shown and "Keep the item: no need to send it back" in shown
    confirmation = client.post(f"/r/{account.slug}/submit", data=hidden_of(review.get_data(as_text=True)),
                               follow_redirects=True)
    page = confirmation.get_data(as_text=True)
    assert confirmation.status_code == 200 and "Keep the item: no need to send it back" in page
    assert "Tracking number" not in text_of(page) and "packing-slip" not in page
    ret = db.session.scalar(select(Return))
    assert ret.keep_only and ret.items[0].option == "credit" and ret.action_triggered_at is not None
    status = client.get(f"/r/{account.slug}/returns/{status_token(ret)}").get_data(as_text=True)
    assert "Keep the item: no need to send it back" in status
    assert 'name="tracking_number"' not in status and "packing-slip" not in status
    assert "Cancel this return" not in status
    forged = client.post(f"/r/{account.slug}/returns/{status_token(ret)}/tracking", data={"tracking_number": "1Z999"})
    assert forged.status_code == 422 and "there is no parcel to track" in forged.get_data(as_text=True)
    assert db.session.get(Return, ret.id).tracking_number is None
    email = db.session.scalar(select(OutboxEmail))
    assert "keep the item, no need to send it back" in email.text_body
    assert "in the parcel" not in email.text_body and "tracking number" not in email.text_body


def test_a_fee_rule_is_shown_on_the_review_and_stored(account, client, order):
    rule(account, "fee", [{"dimension": "item_price", "operator": "gt", "value": "50"}], fee_percentage="15")
    jacket, socks = order.lines
    review = client.post(f"/r/{account.slug}/items", data={**choose(jacket, "Changed my mind", "refund"),
                                                            **choose(socks, "Changed my mind", "refund")})
    body = review.get_data(as_text=True)
    shown = text_of(body)
    # The rule's 15% replaces the reason's 10% on the jacket; the socks keep the reason's.
    assert "Restocking fee (15%) −12.00 USD" in shown and "Restocking fee (10%) −1.20 USD" in shown
    hidden = hidden_of(body)
    assert hidden["fees_shown"] == "13.20"
    assert client.post(f"/r/{account.slug}/submit", data=hidden).status_code == 303
    ret = db.session.scalar(select(Return))
    assert [i.restocking_fee_percentage for i in ret.items] == [Decimal(15), Decimal(10)]

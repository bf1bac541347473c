"""Through the portal: the shopper's confirmation is written once and its link opens the return's
page; cancelling sends one cancelled email however often it is posted; a shop that switched the
confirmation off sends none."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail
from tests.integration.test_portal_flow import _submit_one
from tests.support.portal import make_line, make_portal_order

pytestmark = pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty", "Too small"], in_sandbox=True)


def kinds() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail.kind).order_by(OutboxEmail.id)))


def test_the_confirmation_links_to_the_return_and_cancelling_is_emailed_once(account, client):
    order = make_portal_order(account, [make_line()], email="pat@example.com")
    db.session.commit()
    status_url = _submit_one(client, account, order, option="refund")
    confirmation = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "submitted"))
    link = re.search(r"https?://\S+/returns/[^\s/]+", confirmation.text_body).group()
    assert client.get(link.split("localhost", 1)[-1]).status_code == 200
    assert f'href="{link}"' in confirmation.html_body
    for _ in range(2):
        client.post(status_url + "/cancel", data={"confirmed": "yes"})
    assert kinds() == ["submitted", "cancelled"]


@pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty"], in_sandbox=True,
                     shopper_emails_off=["submitted"])
def test_a_shop_that_switched_the_confirmation_off_sends_none(account, client):
    order = make_portal_order(account, [make_line()], email="pat@example.com")
    db.session.commit()
    _submit_one(client, account, order, option="refund")
    assert kinds() == []

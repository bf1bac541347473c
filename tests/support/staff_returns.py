"""The staff returns workflow's shared parts: an account with a staff member logged in, and what
the returns list shows."""
import re

import pytest

from app.extensions import db
from app.models import Return
from tests.factories import PASSWORD, make_account, make_user

LIST = "/dashboard/returns"
HX = {"HX-Request": "true"}


@pytest.fixture
def account(app, client):
    """An account with a staff member (logged in) and an admin."""
    # Manual: closing is the only moment anything would be issued, and these returns' items are
    # mostly undecided, so no test here reaches Shopify.
    account = make_account(name="Acme Outdoor", return_action="manual")
    make_user(account, role="staff", email="staff@example.com")
    make_user(account, role="admin", email="boss@example.com")
    db.session.commit()
    client.post("/login", data={"email": "staff@example.com", "password": PASSWORD})
    return account


def listed(client, **args) -> list[str]:
    """The RMA numbers the returns list shows for those query arguments, in order."""
    response = client.get(LIST, query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.findall(r'class="order-link" href="/dashboard/returns/\d+">(R-\d+)<', response.get_data(as_text=True))


def reload(ret) -> Return:
    """The return as stored now."""
    db.session.expire_all()
    return db.session.get(Return, ret.id)

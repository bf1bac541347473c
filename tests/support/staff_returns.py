"""The staff returns workflow's shared parts: the account its tests share, and what the returns
list shows."""
import re

import pytest

from app.extensions import db
from app.models import Return

LIST = "/dashboard/returns"
HX = {"HX-Request": "true"}

# The account of the staff returns tests, for their modules' ``pytestmark``: a staff member (logged
# in) and an admin. Manual: closing is the only moment anything would be issued, and these returns'
# items are mostly undecided, so no test here reaches Shopify.
STAFF_ACCOUNT = pytest.mark.account(name="Acme Outdoor", return_action="manual", users=["staff", "admin"],
                                    logged_in="staff")


def listed(client, **args) -> list[str]:
    """The RMA numbers the returns list shows for those query arguments, in order."""
    response = client.get(LIST, query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.findall(r'class="order-link" href="/dashboard/returns/\d+">(R-\d+)<', response.get_data(as_text=True))


def reload(ret) -> Return:
    """The return as stored now."""
    db.session.expire_all()
    return db.session.get(Return, ret.id)

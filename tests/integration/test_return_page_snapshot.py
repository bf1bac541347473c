"""The staff return page is built from one reading of the return: when a job commits while the page
is being built (an item issued by the first scan, say), the page shows the item either as it was or
as it became, never its new badge beside its old details (seen: "Issued" with no refund under it)."""
import re

import pytest

from app.extensions import db
from app.models import ReturnItem
from tests.factories import make_return

pytestmark = pytest.mark.account(name="Acme Outdoor", return_action="first_scan", users=["staff"],
                                 logged_in="staff")


def test_an_item_issued_while_the_page_is_built_is_shown_whole(account, client, monkeypatch):
    ret = make_return(account, status="IN_TRANSIT", items=[("refund", "ISSUING")])
    db.session.commit()
    item_id = ret.items[0].id
    facts_of = __import__("app.dashboard.returns", fromlist=["item_facts"]).item_facts

    def facts_then_a_job_commits(ret_):
        facts = facts_of(ret_)
        # The issuing job's commit becomes visible between two reads of the page (written here on the
        # page's own connection, past the session's objects: the suite's transaction is rolled back).
        table = ReturnItem.__table__
        db.session.connection().execute(table.update().where(table.c.id == item_id).values(
            resolution="ISSUED", refund_state="PAID", issued_amount=ret_.items[0].unit_value))
        return facts

    monkeypatch.setattr("app.dashboard.returns.item_facts", facts_then_a_job_commits)
    response = client.get(f"/dashboard/returns/{ret.id}")
    assert response.status_code == 200
    cell = response.get_data(as_text=True).split('aria-hidden="true">Issue state </span>', 1)[1].split("</td>", 1)[0]
    words = " ".join(re.sub(r"<[^>]+>", " ", cell).split())
    assert words.startswith("Being issued") or ("Issued" in words and "Refund paid: 20.00 USD" in words), words

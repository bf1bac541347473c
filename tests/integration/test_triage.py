"""Triage from the staff returns list and the overview: each row says the options, the value, where
issuing stands (a failure flagged), the carrier state and whether someone must decide; the
overview's counts are links to the list they count; the filters refuse hostile values cleanly."""
import re
from decimal import Decimal

import pytest

from app.extensions import db
from tests.factories import make_account, make_return
from tests.support.staff_returns import LIST, STAFF_ACCOUNT, listed

pytestmark = STAFF_ACCOUNT


def row_of(body: str, rma: str) -> str:
    """The text of the list's row for that RMA, tags stripped, spaces collapsed."""
    row = re.search(rf'<tr id="return-row-\d+">(?:(?!</tr>).)*>{rma}<(?:(?!</tr>).)*</tr>', body, re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def test_each_row_shows_options_value_issue_state_carrier_state_and_a_decision_flag(account, client):
    failed = make_return(account, status="RECEIVED", items=[("refund", "ISSUED"), ("exchange", "FAILED")],
                         tracking="1Z999AA10123456784", tracking_state="DELIVERED")
    waiting = make_return(account, items=[(None, "NO_ACTION"), ("credit", "DECIDED")])
    issued = make_return(account, status="CLOSED", items=[("credit", "ISSUED")], tracking="94001",
                         tracking_state="IN_TRANSIT")
    waiting.items[0].unit_value, waiting.items[0].quantity = Decimal("12.50"), 2
    db.session.commit()
    body = client.get(LIST).get_data(as_text=True)
    for heading in ("Options", "Value", "Issue state", "Carrier"):
        assert f'<th scope="col">{heading}</th>' in body

    row = row_of(body, failed.rma_number)
    assert "Refund, Exchange" in row and "40.00 USD" in row
    assert "Failed" in row and "1 failed, 1 issued" in row
    assert "Delivered" in row and "Needs a decision" not in row

    row = row_of(body, waiting.rma_number)
    assert "Credit note, Not chosen yet" in row and "45.00 USD" in row   # 2 × 12.50 + 20.00
    assert "2 no action, 1 decided" in row and "Needs a decision" in row
    assert "No tracking" in row and "Failed" not in row

    row = row_of(body, issued.rma_number)
    assert "Credit note" in row and "20.00 USD" in row and "Issued" in row and "In transit" in row
    assert "Needs a decision" not in row and "Failed" not in row


def test_needs_a_decision_is_a_filter_that_leaves_out_cancelled_returns(account, client):
    undecided = make_return(account, items=[(None, "UNDECIDED")], days_ago=1)
    no_action = make_return(account, status="RECEIVED", items=[("refund", "ISSUED"), (None, "NO_ACTION")], days_ago=2)
    make_return(account, status="CANCELLED", items=[(None, "UNDECIDED")])
    make_return(account, items=[("refund", "DECIDED")])
    db.session.commit()
    assert listed(client, issue="decision") == [undecided.rma_number, no_action.rma_number]
    assert listed(client, issue="decision", status="RECEIVED") == [no_action.rma_number]


def test_the_search_hint_uses_per_store_rma_numbers(account, client):
    body = client.get(LIST).get_data(as_text=True)
    assert "R-1042, #1042, 1042 or the customer" in body and "R-100042" not in body


def test_the_overview_counts_are_links_to_the_lists_they_count(account, client):
    make_return(account, items=[("refund", "FAILED"), ("credit", "FAILED")])
    make_return(account, status="RECEIVED", items=[(None, "UNDECIDED")])
    make_return(account, items=[(None, "NO_ACTION")])
    make_return(account, status="CLOSED", items=[("refund", "ISSUED")])
    make_return(account, status="CANCELLED", items=[(None, "UNDECIDED")])
    make_return(make_account(), items=[("refund", "FAILED")])  # another store's
    db.session.commit()
    page = client.get("/dashboard/").get_data(as_text=True)
    stats = page.split('aria-label="At a glance"')[1].split("</section>")[0]
    tiles = {label: (href, int(value)) for href, value, label in re.findall(
        r'<a class="stat[^"]*" href="([^"]+)"><span class="stat-value">(\d+)</span> '
        r'<span class="stat-label">([^<]+)</span>',
        stats)}
    assert tiles["returns"] == ("/dashboard/returns", 5)
    assert tiles["in progress"] == ("/dashboard/returns?status=active", 3)
    assert tiles["with a failed item"] == ("/dashboard/returns?issue=FAILED", 1)
    assert tiles["awaiting a decision"] == ("/dashboard/returns?issue=decision", 2)
    # Each count is what its list shows.
    for href, value in tiles.values():
        if href.startswith(LIST):
            body = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
            assert len(re.findall('class="order-link"', body)) == value, href


@pytest.mark.parametrize("args", [
    {"q": "R-10\x0001"}, {"q": "\ufffd"}, {"q": "x" * 5000}, {"status": "OPEN\x00"}, {"issue": "decision\x00"},
    {"option": "r\u0301efund"}, {"per_page": "\u0662\u0665"}, {"per_page": "9" * 400},
    {"page": "\u0663"}, {"page": "9" * 400}, {"page": "-1"}, {"date_from": "\u0662\u0660\u0662\u0666-01-01"},
    {"date_from": "99999-01-01"}, {"date_to": "2026-02-30"}, {"sort": "\x00"},
])
def test_hostile_filter_values_are_a_clear_400_never_a_5xx(account, client, args):
    make_return(account)
    db.session.commit()
    response = client.get(LIST, query_string=args)
    assert response.status_code == 400, (args, response.status_code)
    body = response.get_data(as_text=True)
    assert "order-link" not in body
    assert 'class="error"' in body or "That page number is not valid" in body


@pytest.mark.parametrize("raw, status", [("q=%ED%A0%80", 200), ("q=%FF%FE", 200), ("issue=%ED%A0%BD", 400),
                                         ("status=%C0%AF", 400), ("page=%00", 400)])
def test_lone_surrogates_and_broken_utf8_in_the_query_string_are_never_a_5xx(account, client, raw, status):
    # %ED%A0%80 is a lone surrogate (U+D800) as UTF-8: werkzeug hands undecodable bytes over still
    # percent-quoted, so a search looks for that text and finds nothing; a choice refuses it.
    make_return(account)
    db.session.commit()
    response = client.get(LIST, environ_overrides={"QUERY_STRING": raw})  # as sent, not re-quoted
    assert response.status_code == status, raw
    assert "order-link" not in response.get_data(as_text=True)

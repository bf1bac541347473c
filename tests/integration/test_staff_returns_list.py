"""The staff returns list: its filters, sorts and pages, scoped to the account, and quick and bulk
close from it."""
import re
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models import BulkAction, Return
from tests.factories import make_account, make_return
from tests.support.confirm import confirmed
from tests.support.staff_returns import HX, LIST, STAFF_ACCOUNT, listed, reload

pytestmark = STAFF_ACCOUNT


# --- the list ---------------------------------------------------------------------------------------

def test_each_filter_alone(account, client):
    open_refund = make_return(account, items=[("refund", "UNDECIDED")], days_ago=1)
    received_credit = make_return(account, status="RECEIVED", items=[("credit", "ISSUED")], days_ago=10)
    failed_exchange = make_return(account, status="PROCESSED", items=[("refund", "ISSUED"), ("exchange", "FAILED")],
                                  days_ago=40, email="ana@example.com")
    undecided = make_return(account, items=[(None, "NO_ACTION")], days_ago=3)
    db.session.commit()
    everyone = {open_refund.rma_number, received_credit.rma_number, failed_exchange.rma_number, undecided.rma_number}
    assert set(listed(client)) == everyone
    assert listed(client, status="RECEIVED") == [received_credit.rma_number]
    assert set(listed(client, option="refund")) == {open_refund.rma_number, failed_exchange.rma_number}
    assert listed(client, option="none") == [undecided.rma_number]
    assert listed(client, issue="FAILED") == [failed_exchange.rma_number]
    assert listed(client, issue="NO_ACTION") == [undecided.rma_number]
    today = date.today()
    assert set(listed(client, date_from=(today - timedelta(days=5)).isoformat())) == {
        open_refund.rma_number, undecided.rma_number}
    assert listed(client, date_to=(today - timedelta(days=20)).isoformat()) == [failed_exchange.rma_number]
    assert listed(client, q="ANA@example.com") == [failed_exchange.rma_number]
    assert listed(client, q=received_credit.rma_number.lower()) == [received_credit.rma_number]


def test_filters_combined_describe_one_item(account, client):
    failed_exchange = make_return(account, status="PROCESSED", items=[("refund", "ISSUED"), ("exchange", "FAILED")])
    make_return(account, status="PROCESSED", items=[("exchange", "ISSUED"), ("refund", "FAILED")], days_ago=2)
    make_return(account, status="OPEN", items=[("exchange", "FAILED")], days_ago=50)
    db.session.commit()
    # Option and issue state must hold for the same item: "a failed exchange".
    assert listed(client, status="PROCESSED", option="exchange", issue="FAILED") == [failed_exchange.rma_number]
    week_ago = (date.today() - timedelta(days=7)).isoformat()
    assert listed(client, option="exchange", issue="FAILED", date_from=week_ago) == [failed_exchange.rma_number]
    assert listed(client, status="RECEIVED", issue="FAILED") == []


@pytest.mark.parametrize("args, field, message", [
    ({"status": "LOST"}, "status", "Choose a status from the list."),
    ({"option": "cash"}, "option", "Choose an option from the list."),
    ({"issue": "MAYBE"}, "issue", "Choose an issue state from the list."),
    ({"sort": "price"}, "sort", "Choose a sort from the list."),
    ({"per_page": "1000"}, "per_page", "Show 25, 50 or 100 per page."),
    ({"date_from": "31/12/2026"}, "date_from", "Enter a date like 2026-03-31."),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to", "Choose a date on or after the first one."),
    ({"q": "x" * 201}, "q", "Use at most 200 characters."),
])
def test_bad_filter_values_are_a_400_with_the_message_next_to_the_field(account, client, args, field, message):
    make_return(account)
    db.session.commit()
    response = client.get(LIST, query_string=args)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert f'<p class="error" id="{field}-error">{message}</p>' in body
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', body)
    assert "order-link" not in body


def test_bad_page_numbers_are_a_400_and_a_page_past_the_end_says_so(account, client):
    assert client.get(LIST, query_string={"page": "abc"}).status_code == 400
    assert client.get(LIST, query_string={"page": "0"}).status_code == 400
    make_return(account)
    db.session.commit()
    body = client.get(LIST, query_string={"page": "7"}).get_data(as_text=True)
    assert "There is nothing on this page" in body


def test_sorts(account, client):
    old_open = make_return(account, status="OPEN", days_ago=9)
    new_closed = make_return(account, status="CLOSED", days_ago=1)
    mid_transit = make_return(account, status="IN_TRANSIT", days_ago=5)
    new_open = make_return(account, status="OPEN", days_ago=2)
    cancelled = make_return(account, status="CANCELLED", days_ago=0.5)
    db.session.commit()
    rma = lambda *rs: [r.rma_number for r in rs]  # noqa: E731
    assert listed(client) == rma(cancelled, new_closed, new_open, mid_transit, old_open)
    assert listed(client, sort="oldest") == rma(old_open, mid_transit, new_open, new_closed, cancelled)
    assert listed(client, sort="status") == rma(new_open, old_open, mid_transit, new_closed, cancelled)
    assert listed(client, sort="rma") == rma(old_open, new_closed, mid_transit, new_open, cancelled)
    assert listed(client, sort="status", status="OPEN") == rma(new_open, old_open)


def test_pages_keep_the_filters_and_the_status_sort_pages_through_statuses(account, client):
    made = [make_return(account, status="OPEN" if i % 2 else "RECEIVED", days_ago=100 - i) for i in range(60)]
    db.session.commit()
    first = client.get(LIST, query_string={"sort": "status"}).get_data(as_text=True)
    assert "Page 1 of 3" in first and 'rel="next"' in first and "60 returns" in first
    pages = [listed(client, sort="status", page=p) for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [25, 25, 10]
    opens = [r.rma_number for r in sorted(made, key=lambda r: r.created_at, reverse=True) if r.status == "OPEN"]
    received = [r.rma_number for r in sorted(made, key=lambda r: r.created_at, reverse=True) if r.status == "RECEIVED"]
    assert sum(pages, []) == opens + received
    second = client.get(LIST, query_string={"status": "OPEN", "per_page": "25", "page": "2"}).get_data(as_text=True)
    assert 'href="/dashboard/returns?page=1&amp;status=OPEN&amp;per_page=25"' in second
    assert listed(client, per_page="50", page="2") == [r.rma_number for r in made[:10]][::-1]


def test_a_large_total_is_counted_up_to_a_cap(account, client, monkeypatch):
    import app.dashboard.returns_list as returns_list

    monkeypatch.setattr(returns_list, "COUNT_CAP", 5)
    for i in range(8):
        make_return(account, days_ago=i)
    db.session.commit()
    body = client.get(LIST).get_data(as_text=True)
    assert "5+ returns" in body


def test_another_accounts_returns_are_invisible_and_untouchable(account, client):
    mine = make_return(account, items=[(None, "UNDECIDED")])
    other = make_account()
    theirs = make_return(other, items=[(None, "UNDECIDED")])
    db.session.commit()
    assert listed(client) == [mine.rma_number]
    assert listed(client, q=theirs.rma_number) == []
    assert client.get(f"{LIST}/{theirs.id}").status_code == 404
    for action in ("close", "receive", "process", "cancel", "tracking"):
        assert client.post(f"{LIST}/{theirs.id}/{action}", data={"tracking_number": "1Z999"}).status_code == 404
    item = theirs.items[0]
    assert client.post(f"{LIST}/{theirs.id}/items/{item.id}/decide", data={"option": "refund"}).status_code == 404
    # Their item through my return's URL is no way in either.
    assert client.post(f"{LIST}/{mine.id}/items/{item.id}/decide", data={"option": "refund"}).status_code == 404
    assert client.post(f"{LIST}/close-selected", data={"return_id": [mine.id, theirs.id]}).status_code == 404
    assert reload(theirs).status == "OPEN" and reload(mine).status == "OPEN"
    bulk = BulkAction(account_id=other.id, total=1, return_ids=[theirs.id], results={})
    db.session.add(bulk)
    db.session.commit()
    assert client.get(f"/dashboard/bulk/{bulk.id}").status_code == 404


# --- quick close and bulk close -----------------------------------------------------------------------

def test_quick_close_asks_first_then_goes_back_to_the_filtered_list(account, client):
    ret = make_return(account, items=[(None, "UNDECIDED")])
    db.session.commit()
    list_body = client.get(LIST, query_string={"status": "OPEN"}).get_data(as_text=True)
    assert f'aria-label="Close return {ret.rma_number}"' in list_body
    response = confirmed(client, f"{LIST}/{ret.id}/close", {"next": f"{LIST}?status=OPEN"}, next=f"{LIST}?status=OPEN")
    assert response.status_code == 303 and response.headers["Location"] == f"{LIST}?status=OPEN"
    assert f"{ret.rma_number}: Closed." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert reload(ret).status == "CLOSED"
    other = make_return(account, items=[(None, "UNDECIDED")])
    db.session.commit()
    evil = confirmed(client, f"{LIST}/{other.id}/close", {"next": "https://evil.example.com/dashboard/returns"})
    assert evil.headers["Location"] == f"{LIST}/{other.id}"


def test_quick_close_refused_says_why(account, client):
    ret = make_return(account, status="CANCELLED", items=[(None, "UNDECIDED")])
    db.session.commit()
    page = client.get(f"{LIST}/{ret.id}/close", query_string={"next": LIST}).get_data(as_text=True)
    assert "This return was cancelled." in page and 'name="confirm"' not in page   # nothing to confirm
    assert client.post(f"{LIST}/{ret.id}/close", data={"next": LIST}).status_code == 409
    assert reload(ret).status == "CANCELLED"


def test_close_selected_closes_each_and_reports_a_result_per_return(account, client, drain_jobs):
    one = make_return(account, items=[(None, "UNDECIDED")])
    two = make_return(account, status="PROCESSED", items=[(None, "NO_ACTION")])
    cancelled = make_return(account, status="CANCELLED", items=[(None, "UNDECIDED")])
    db.session.commit()
    response = confirmed(client, f"{LIST}/close-selected", {"return_id": [one.id, two.id, cancelled.id]},
                         return_id=[one.id, two.id, cancelled.id])
    assert response.status_code == 303
    drain_jobs()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 of 3 handled" in page and "2 closed, 1 not closed" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    assert f"{one.rma_number}</a>: Closed." in page
    assert f"{cancelled.rma_number}</a>: This return was cancelled." in page
    assert (reload(one).status, reload(two).status, reload(cancelled).status) == ("CLOSED", "CLOSED", "CANCELLED")


def test_close_selected_with_htmx_polls_until_finished(account, client, drain_jobs):
    rets = [make_return(account, items=[(None, "UNDECIDED")]) for _ in range(3)]
    db.session.commit()
    ids = [r.id for r in rets]
    response = confirmed(client, f"{LIST}/close-selected", {"return_id": ids}, headers=HX, return_id=ids)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    bulk_id = int(re.search(r'hx-get="/dashboard/bulk/(\d+)"', fragment).group(1))
    assert 'hx-trigger="every 1s"' in fragment and 'role="progressbar"' in fragment
    # The job ran once the response was sent (embedded default) or by a worker (production shape).
    drain_jobs()
    polled = client.get(f"/dashboard/bulk/{bulk_id}", headers=HX).get_data(as_text=True)
    assert "<html" not in polled and "hx-trigger" not in polled and "3 of 3 handled" in polled
    assert all(reload(r).status == "CLOSED" for r in rets)


def test_close_all_matching_closes_every_page_of_the_filtered_list(account, client, drain_jobs):
    received = [make_return(account, status="RECEIVED", items=[(None, "NO_ACTION")], days_ago=i) for i in range(30)]
    opened = make_return(account, status="OPEN", items=[(None, "UNDECIDED")])
    already = make_return(account, status="CLOSED", items=[(None, "NO_ACTION")])
    theirs = make_return(make_account(), status="RECEIVED", items=[(None, "NO_ACTION")])
    db.session.commit()
    listing = client.get(LIST, query_string={"status": "RECEIVED"}).get_data(as_text=True)
    assert "Close all matching returns" in listing                      # 30 matches, 25 a page
    assert "Close all matching returns" not in client.get(LIST, query_string={"status": "OPEN"}).get_data(as_text=True)
    response = confirmed(client, f"{LIST}/close-matching", {"status": "RECEIVED"}, status="RECEIVED")
    assert response.status_code == 303
    drain_jobs()
    assert "30 of 30 handled" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert all(reload(r).status == "CLOSED" for r in received)
    assert (reload(opened).status, reload(already).status, reload(theirs).status) == ("OPEN", "CLOSED", "RECEIVED")


def test_close_all_matching_refuses_bad_filters_nothing_and_too_many(account, client, monkeypatch):
    from app.dashboard import bulk

    make_return(account, status="OPEN", items=[(None, "UNDECIDED")])
    make_return(account, status="OPEN", items=[(None, "UNDECIDED")])
    db.session.commit()
    for ask in (client.get, client.post):
        response = ask(f"{LIST}/close-matching", query_string={"status": "LOST"}, data={"status": "LOST"}, headers=HX)
        assert response.status_code == 422 and "not valid" in response.get_data(as_text=True)
        response = ask(f"{LIST}/close-matching", query_string={"status": "PROCESSED"}, data={"status": "PROCESSED"},
                       headers=HX)
        assert response.status_code == 422 and "No open return" in response.get_data(as_text=True)
    monkeypatch.setattr(bulk, "MAX_POSTED_IDS", 1)
    response = client.get(f"{LIST}/close-matching", query_string={"status": "OPEN"}, headers=HX)
    assert response.status_code == 422 and "More than 1 returns match" in response.get_data(as_text=True)
    assert db.session.query(BulkAction).count() == 0
    assert {r.status for r in db.session.query(Return).all()} == {"OPEN"}


def test_close_selected_refuses_an_empty_or_broken_selection(account, client):
    assert client.post(f"{LIST}/close-selected", data={}).status_code == 400
    response = client.get(f"{LIST}/close-selected", headers=HX)
    assert response.status_code == 422 and "Select at least one return" in response.get_data(as_text=True)
    assert client.post(f"{LIST}/close-selected", data={"return_id": ["1; DROP"]}).status_code == 400
    assert client.post(f"{LIST}/close-selected", data={"return_id": ["9" * 30]}).status_code == 400


def test_the_list_has_labelled_checkboxes_and_select_all(account, client):
    ret = make_return(account)
    db.session.commit()
    body = client.get(LIST).get_data(as_text=True)
    assert f'<label class="visually-hidden" for="select-{ret.id}">Select return {ret.rma_number}</label>' in body
    assert "Select all on this page" in body and "Close selected" in body

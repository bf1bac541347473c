"""Staff actions that issue money or goods ask first: a confirmation page (no JavaScript needed)
says how many returns, per option the items and their value, and what to beware of; the POST that
acts carries a token of exactly what was shown, so a return that changed meanwhile is refused.
The history says what fired the return action; processing before receipt needs an override."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import BulkAction, Return, ReturnEvent
from tests.factories import make_account, make_return, make_user
from tests.fixtures.auth import log_in
from tests.support.confirm import token_of
from tests.support.shopify_returns import record_jobs

LIST = "/dashboard/returns"
HX = {"HX-Request": "true"}
STAFF = "staff@example.com"


@pytest.fixture
def jobs(app, monkeypatch):
    """Jobs are recorded, not run: these tests are about what is asked and decided, not Shopify."""
    return record_jobs(app, monkeypatch)


def signed_in(client, action: str):
    account = make_account(name="Acme Outdoor", return_action=action)
    make_user(account, role="staff", email=STAFF)
    db.session.commit()
    log_in(client, STAFF)
    return account


@pytest.fixture
def first_scan(app, client, jobs):
    """The demo's setting: options are issued at the first carrier scan or any later state."""
    return signed_in(client, "first_scan")


@pytest.fixture
def manual(app, client, jobs):
    return signed_in(client, "manual")


def reload(ret) -> Return:
    db.session.expire_all()
    return db.session.get(Return, ret.id)


def history(ret) -> str:
    return " | ".join(db.session.scalars(select(ReturnEvent.message).where(ReturnEvent.return_id == ret.id)))


# --- one return ---------------------------------------------------------------------------------------

def test_close_asks_first_saying_what_it_issues_and_warns_nothing_was_received(first_scan, client):
    ret = make_return(first_scan, items=[("refund", "DECIDED"), ("credit", "DECIDED"), ("exchange", "DECIDED"),
                                         (None, "UNDECIDED")])
    db.session.commit()
    page = client.get(f"{LIST}/{ret.id}/close")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for text in (f"Close return {ret.rma_number}", "Refund", "Credit note", "Exchange", "20.00 USD",
                 "has no tracking number and has not been received", "1 item is not decided"):
        assert text in body, text
    assert reload(ret).status == "OPEN" and reload(ret).action_triggered_at is None


def test_a_close_not_confirmed_issues_nothing(first_scan, client, jobs):
    ret = make_return(first_scan)
    db.session.commit()
    response = client.post(f"{LIST}/{ret.id}/close")
    assert response.status_code == 409
    assert "Confirm" in response.get_data(as_text=True)
    assert reload(ret).status == "OPEN" and reload(ret).action_triggered_at is None and jobs.queued == []


def test_a_confirmed_close_issues_and_the_history_says_who_fired_it(first_scan, client):
    ret = make_return(first_scan)
    db.session.commit()
    token = token_of(client.get(f"{LIST}/{ret.id}/close").get_data(as_text=True))
    response = client.post(f"{LIST}/{ret.id}/close", data={"confirm": token})
    assert response.status_code == 303
    assert reload(ret).status == "CLOSED" and reload(ret).action_triggered_at is not None
    said = history(ret)
    assert f"Closed by {STAFF} before the parcel was received" in said
    assert "carrier scan" not in said.split("issued in Shopify now")[0]


def test_a_return_changed_since_the_confirmation_is_refused(first_scan, client):
    ret = make_return(first_scan, items=[(None, "UNDECIDED")])
    db.session.commit()
    token = token_of(client.get(f"{LIST}/{ret.id}/close").get_data(as_text=True))
    ret.items[0].option, ret.items[0].resolution = "refund", "DECIDED"   # decided meanwhile
    db.session.commit()
    response = client.post(f"{LIST}/{ret.id}/close", data={"confirm": token})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "changed since" in body and "Refund" in body and token_of(body) != token
    assert reload(ret).status == "OPEN" and reload(ret).action_triggered_at is None


def test_a_change_of_the_shops_setting_since_the_confirmation_is_refused(manual, client):
    # Under Manual, marking received issues nothing (one click); switched to First scan meanwhile,
    # the same click would issue: it is shown again instead.
    ret = make_return(manual, status="IN_TRANSIT", tracking="1Z999AA1")
    db.session.commit()
    token = token_of(client.get(f"{LIST}/{ret.id}/receive").get_data(as_text=True))
    manual.return_action = "first_scan"
    db.session.commit()
    response = client.post(f"{LIST}/{ret.id}/receive", data={"confirm": token})
    assert response.status_code == 409 and "20.00 USD" in response.get_data(as_text=True)
    assert reload(ret).status == "IN_TRANSIT"


@pytest.mark.parametrize("bad", ["%00", "%ED%A0%80", "%D9%A1%D9%A2", "9" * 5000, "a" * 64, ""])
def test_a_broken_token_is_refused_and_changes_nothing(first_scan, client, bad):
    # NUL, a lone surrogate (as browsers could send it), Unicode digits, huge, well-formed but wrong, empty.
    ret = make_return(first_scan)
    db.session.commit()
    response = client.post(f"{LIST}/{ret.id}/close", data=f"confirm={bad}&next=%00&without_receipt=%ED%A0%80",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 409 and "Confirm" in response.get_data(as_text=True)
    assert reload(ret).status == "OPEN"


def test_process_before_receipt_needs_the_override_and_is_logged(first_scan, client):
    ret = make_return(first_scan)
    db.session.commit()
    body = client.get(f"{LIST}/{ret.id}").get_data(as_text=True)
    assert f'method="post" action="{LIST}/{ret.id}/process"' not in body   # no one-click processing while open
    page = client.get(f"{LIST}/{ret.id}/process").get_data(as_text=True)
    assert "Process without receipt" in page and "20.00 USD" in page
    token = token_of(page)
    refused = client.post(f"{LIST}/{ret.id}/process", data={"confirm": token})
    assert refused.status_code == 422 and "has not been received" in refused.get_data(as_text=True)
    assert reload(ret).status == "OPEN" and reload(ret).action_triggered_at is None
    done = client.post(f"{LIST}/{ret.id}/process", data={"confirm": token, "without_receipt": "y"})
    assert done.status_code == 303
    assert reload(ret).status == "PROCESSED"
    assert f"Processed by {STAFF} without receipt" in history(ret)


def test_receiving_that_issues_nothing_stays_one_click(manual, client):
    ret = make_return(manual, status="IN_TRANSIT", tracking="1Z999AA1")
    db.session.commit()
    body = client.get(f"{LIST}/{ret.id}").get_data(as_text=True)
    token = re.search(rf'action="{LIST}/{ret.id}/receive">.*?name="confirm" value="([0-9a-f]+)"', body, re.S).group(1)
    assert client.post(f"{LIST}/{ret.id}/receive", data={"confirm": token}).status_code == 303
    assert reload(ret).status == "RECEIVED"


def test_cancel_asks_first_without_javascript(manual, client):
    ret = make_return(manual)
    db.session.commit()
    page = client.get(f"{LIST}/{ret.id}/cancel")
    assert page.status_code == 200 and "Nothing will be issued" in page.get_data(as_text=True)
    assert client.post(f"{LIST}/{ret.id}/cancel").status_code == 409
    assert reload(ret).status == "OPEN"
    token = token_of(page.get_data(as_text=True))
    assert client.post(f"{LIST}/{ret.id}/cancel", data={"confirm": token}).status_code == 303
    assert reload(ret).status == "CANCELLED"


def test_the_list_close_goes_back_to_the_filtered_list(manual, client):
    ret = make_return(manual, status="RECEIVED")
    db.session.commit()
    listing = client.get(LIST, query_string={"status": "RECEIVED"}).get_data(as_text=True)
    assert re.search(rf'<form method="get" action="{LIST}/{ret.id}/close">\s*<input type="hidden" name="next" '
                     rf'value="{LIST}\?status=RECEIVED">', listing), listing
    page = client.get(f"{LIST}/{ret.id}/close", query_string={"next": f"{LIST}?status=RECEIVED"})
    body = page.get_data(as_text=True)
    response = client.post(f"{LIST}/{ret.id}/close",
                           data={"confirm": token_of(body), "next": f"{LIST}?status=RECEIVED"})
    assert response.status_code == 303 and response.headers["Location"] == f"{LIST}?status=RECEIVED"
    assert f"{ret.rma_number}: Closed." in client.get(response.headers["Location"]).get_data(as_text=True)


# --- many returns -------------------------------------------------------------------------------------

def test_close_selected_asks_first_with_counts_totals_and_warnings(first_scan, client):
    bare = [make_return(first_scan, items=[("refund", "DECIDED"), ("credit", "DECIDED")]) for _ in range(2)]
    received = make_return(first_scan, status="RECEIVED", tracking="1Z999AA1", items=[("exchange", "DECIDED")])
    db.session.commit()
    ids = [r.id for r in (*bare, received)]
    page = client.get(f"{LIST}/close-selected", query_string={"return_id": ids})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for text in ("Close 3 returns", "40.00 USD", "20.00 USD", "2 have no tracking number and have not been received"):
        assert text in body, text
    assert re.search(r"Refund</th>\s*<td[^>]*>2 items</td>\s*<td[^>]*>40.00 USD", body), body
    assert db.session.query(BulkAction).count() == 0
    # Without the token nothing starts; with it the job is queued for exactly these returns.
    assert client.post(f"{LIST}/close-selected", data={"return_id": ids}).status_code == 409
    assert db.session.query(BulkAction).count() == 0
    response = client.post(f"{LIST}/close-selected", data={"return_id": ids, "confirm": token_of(body)})
    assert response.status_code == 303
    assert db.session.query(BulkAction).one().return_ids == ids


def test_close_selected_with_htmx_confirms_in_place(manual, client):
    rets = [make_return(manual, items=[(None, "UNDECIDED")]) for _ in range(2)]
    db.session.commit()
    ids = [r.id for r in rets]
    fragment = client.get(f"{LIST}/close-selected", query_string={"return_id": ids}, headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and "Close 2 returns" in fragment
    assert 'hx-post="/dashboard/returns/close-selected"' in fragment
    response = client.post(f"{LIST}/close-selected", data={"return_id": ids, "confirm": token_of(fragment)}, headers=HX)
    assert response.status_code == 200 and 'role="progressbar"' in response.get_data(as_text=True)


@pytest.mark.parametrize("ids", [["١"], ["1; DROP"], ["9" * 30], ["\x00"], []])
def test_close_selected_refuses_a_broken_selection(manual, client, ids):
    assert client.get(f"{LIST}/close-selected", query_string={"return_id": ids}).status_code == 400
    assert client.post(f"{LIST}/close-selected", data={"return_id": ids, "confirm": "0" * 64}).status_code == 400
    assert db.session.query(BulkAction).count() == 0


def test_close_all_matching_counts_what_it_will_close(manual, client):
    for i in range(30):
        make_return(manual, status="RECEIVED", items=[("refund", "DECIDED")], days_ago=i)
    for i in range(5):
        make_return(manual, status="CLOSED", items=[("refund", "ISSUED")], days_ago=i)
    db.session.commit()
    listing = client.get(LIST, query_string={"q": "shopper"}).get_data(as_text=True)
    assert f'action="{LIST}/close-matching"' in listing and "hx-confirm" not in listing
    page = client.get(f"{LIST}/close-matching", query_string={"q": "shopper"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Close 30 returns" in body and "600.00 USD" in body  # not the 35 listed
    make_return(manual, status="RECEIVED", items=[("refund", "DECIDED")])   # a new one matches meanwhile
    db.session.commit()
    response = client.post(f"{LIST}/close-matching", data={"q": "shopper", "confirm": token_of(body)})
    assert response.status_code == 409 and "Close 31 returns" in response.get_data(as_text=True)
    assert db.session.query(BulkAction).count() == 0


@pytest.mark.parametrize("query", ["q=%00", "q=%ED%A0%80", "q=" + "x" * 5000, "status=%D9%A1", "date_from=%D9%A1%D9%A2",
                                   "return_id=1"])
def test_close_all_matching_refuses_hostile_filters(manual, client, query):
    make_return(manual, status="RECEIVED")
    db.session.commit()
    for ask in (client.get, client.post):
        url = f"{LIST}/close-matching"
        response = (client.get(f"{url}?{query}") if ask is client.get else
                    client.post(url, data=f"{query}&confirm={'0' * 64}",
                                content_type="application/x-www-form-urlencoded"))
        assert response.status_code in (400, 409, 422) or (response.status_code == 200 and ask is client.get)
        assert response.status_code < 500
    assert db.session.query(BulkAction).count() == 0

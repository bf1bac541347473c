"""Review before approval on the pages: staff approve and decline from the return page and in bulk
from the list (each asks first and says what happens), a decline's message is checked as Shopify
counts it with what was typed kept, and the shopper's status page says where the return stands."""
import re

import pytest

from app.extensions import db
from app.portal.session import status_token
from tests.factories import make_return
from tests.support.staff_returns import HX, LIST, STAFF_ACCOUNT, reload

pytestmark = STAFF_ACCOUNT


def requested(account, **fields):
    ret = make_return(account, status="REQUESTED", email="pat@example.com", **fields)
    db.session.commit()
    return ret


def test_the_return_page_offers_approve_and_decline_and_says_how_shopify_hears_of_it(account, client):
    ret = requested(account)
    body = client.get(f"{LIST}/{ret.id}").get_data(as_text=True)
    assert "Awaiting review" in body and "Approve" in body and "Decline" in body
    assert "Return request awaiting approval" in body
    assert "Mark received" not in body and "Save tracking number" not in body
    exchange = requested(account, items=[("exchange", "DECIDED")])
    assert "because it includes an exchange" in client.get(f"{LIST}/{exchange.id}").get_data(as_text=True)


def test_approve_asks_first_without_javascript_then_opens_the_return(account, client):
    ret = requested(account)
    asked = client.post(f"{LIST}/{ret.id}/approve")
    assert asked.status_code == 200 and f"Approve return {ret.rma_number}?" in asked.get_data(as_text=True)
    assert reload(ret).status == "REQUESTED"
    done = client.post(f"{LIST}/{ret.id}/approve", data={"confirmed": "yes"})
    assert done.status_code == 303
    assert "approved" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert reload(ret).status == "OPEN" and reload(ret).reviewed_by
    again = client.post(f"{LIST}/{ret.id}/approve", data={"confirmed": "yes"})
    assert "not awaiting review" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_decline_asks_first_carrying_the_reason_and_message_then_declines(account, client):
    ret = requested(account)
    form = {"decline_reason": "FINAL_SALE", "decline_note": "Final sale <b>items</b>."}
    asked = client.post(f"{LIST}/{ret.id}/decline", data=form)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Decline 1 return?" in body and "each return request is declined" in body
    assert "Final sale &lt;b&gt;items&lt;/b&gt;." in body  # kept, escaped, to post again
    assert reload(ret).status == "REQUESTED"
    done = client.post(f"{LIST}/{ret.id}/decline", data={**form, "confirmed": "yes"})
    assert done.status_code == 303
    ret = reload(ret)
    assert (ret.status, ret.decline_reason, ret.decline_note) == ("DECLINED", "FINAL_SALE", "Final sale <b>items</b>.")
    page = client.get(f"{LIST}/{ret.id}").get_data(as_text=True)
    assert "Nothing is issued; a Shopify return request is declined" in page and "Final sale &lt;b&gt;" in page


@pytest.mark.parametrize("form, error", [
    ({"decline_reason": "FINAL_SALE", "decline_note": "é" * 501}, "Keep the message to 500 characters"),
    ({"decline_reason": "FINAL_SALE", "decline_note": "  "}, "Write a message to the shopper"),
    ({"decline_reason": "NOPE", "decline_note": "Sorry"}, "Choose"),
    ({"decline_reason": "OTHER", "decline_note": "Bad\x00byte"}, "Use letters, digits and punctuation only"),
])
def test_a_decline_shopify_would_refuse_is_a_form_error_with_the_text_kept(account, client, form, error):
    ret = requested(account)
    refused = client.post(f"{LIST}/{ret.id}/decline", data={**form, "confirmed": "yes"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and error in body
    if len(form["decline_note"]) > 100:
        assert form["decline_note"] in body  # what was typed is still there to shorten
    assert reload(ret).status == "REQUESTED"


def test_a_message_of_500_characters_with_line_breaks_counted_once_is_accepted(account, client):
    ret = requested(account)
    note = ("a" * 99 + "\r\n") * 5  # 500 characters once each CRLF is one line break
    done = client.post(f"{LIST}/{ret.id}/decline", data={"decline_reason": "OTHER", "decline_note": note,
                                                        "confirmed": "yes"})
    assert done.status_code == 303 and len(reload(ret).decline_note) == 499  # the last break trimmed


def test_bulk_approve_from_the_list_asks_first_and_leaves_others_alone(account, client):
    first, second = requested(account), requested(account)
    open_one = make_return(account, status="OPEN")
    db.session.commit()
    ids = [first.id, second.id, open_one.id]
    asked = client.get(f"{LIST}/review-selected", query_string={"decision": "approve", "return_id": ids}, headers=HX)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Approve 2 returns?" in body
    assert f"Left alone (not awaiting review): {open_one.rma_number} (open)" in body
    hidden = dict(re.findall(r'name="(confirmed|decision|next)" value="([^"]*)"', body))
    done = client.post(f"{LIST}/review-selected", data={**hidden, "return_id": ids})
    assert done.status_code == 303
    assert "2 of 3 returns approved." in client.get(done.headers["Location"]).get_data(as_text=True)
    assert [reload(r).status for r in (first, second, open_one)] == ["OPEN", "OPEN", "OPEN"]


def test_bulk_decline_needs_one_valid_message_and_declines_each(account, client):
    first, second = requested(account), requested(account)
    ids = [first.id, second.id]
    page = client.get(f"{LIST}/review-selected", query_string={"decision": "decline", "return_id": ids})
    assert page.status_code == 200 and "Decline 2 returns?" in page.get_data(as_text=True)
    base = {"decision": "decline", "return_id": ids, "confirmed": "yes", "decline_reason": "RETURN_PERIOD_ENDED"}
    refused = client.post(f"{LIST}/review-selected", data={**base, "decline_note": "x" * 600})
    assert refused.status_code == 422 and "x" * 600 in refused.get_data(as_text=True)
    assert {reload(first).status, reload(second).status} == {"REQUESTED"}
    done = client.post(f"{LIST}/review-selected", data={**base, "decline_note": "Past 30 days."})
    assert done.status_code == 303
    assert [reload(r).decline_note for r in (first, second)] == ["Past 30 days.", "Past 30 days."]


def test_bulk_review_refuses_another_accounts_return_and_a_bad_decision(account, client):
    from tests.factories import make_account  # noqa: PLC0415 - only this test
    other = make_account(name="Other")
    db.session.flush()
    theirs = make_return(other, status="REQUESTED")
    db.session.commit()
    assert client.get(f"{LIST}/review-selected", query_string={"decision": "approve",
                                                              "return_id": [theirs.id]}).status_code == 404
    assert client.get(f"{LIST}/review-selected", query_string={"decision": "burn",
                                                              "return_id": [theirs.id]}).status_code == 400
    assert reload(theirs).status == "REQUESTED"


def test_the_list_filters_and_sorts_the_new_statuses(account, client):
    waiting, declined = requested(account), make_return(account, status="DECLINED")
    db.session.commit()
    body = client.get(LIST, query_string={"status": "REQUESTED"}).get_data(as_text=True)
    assert waiting.rma_number in body and declined.rma_number not in body
    assert "Approve selected" in body and "Decline selected" in body
    active = client.get(LIST, query_string={"status": "active"}).get_data(as_text=True)
    assert waiting.rma_number in active and declined.rma_number not in active


def test_the_shopper_sees_awaiting_review_then_the_shops_decline_message(account, client, app):
    ret = requested(account)
    shopper = app.test_client()
    url = f"/r/{account.slug}/returns/{status_token(ret)}"
    body = shopper.get(url).get_data(as_text=True)
    assert "Awaiting review — the shop checks your return before you send it" in body
    assert "Add the tracking number" not in body and "Cancel this return" not in body
    client.post(f"{LIST}/{ret.id}/decline", data={"decline_reason": "OTHER", "confirmed": "yes",
                                                  "decline_note": "Worn items <script>x</script> cannot go back."})
    body = shopper.get(url).get_data(as_text=True)
    assert "Your return was declined" in body and "Nothing will be refunded, credited or exchanged" in body
    assert "Worn items &lt;script&gt;x&lt;/script&gt; cannot go back." in body
    assert "Add the tracking number" not in body


def test_the_shopper_sees_approval_and_can_then_send_it(account, client, app):
    ret = requested(account)
    client.post(f"{LIST}/{ret.id}/approve", data={"confirmed": "yes"})
    body = app.test_client().get(f"/r/{account.slug}/returns/{status_token(ret)}").get_data(as_text=True)
    assert "approved your return: you can send it now" in body and "Add the tracking number" in body


def test_a_return_awaiting_review_has_no_close_and_close_all_matching_leaves_it(account, client):
    waiting = requested(account)
    open_one = make_return(account, status="OPEN")
    db.session.commit()
    body = client.get(LIST).get_data(as_text=True)
    assert f"Close return {open_one.rma_number}" in body and f"Close return {waiting.rma_number}" not in body
    asked = client.get(f"{LIST}/close-matching", query_string={"status": "active"}).get_data(as_text=True)
    assert open_one.rma_number in asked and waiting.rma_number not in asked


def test_the_overview_counts_returns_awaiting_review_and_links_to_them(account, client):
    requested(account), requested(account)
    body = client.get("/dashboard/").get_data(as_text=True)
    assert "2 returns</a> awaiting review: approve or decline them" in body
    assert 'href="/dashboard/returns?status=REQUESTED"' in body

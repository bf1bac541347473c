"""The shopper's status page says honestly where their money is: a refund pending at the payment
provider, store credit, a refund the shop made itself, a refund that failed (the shop is on it) —
and never a staff-only reason (Shopify's error codes, how the shop refunded, staff notes)."""
import html
import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from app.extensions import db
from app.portal.session import status_token
from tests.factories import make_return

pytestmark = pytest.mark.account(name="Acme Outdoor", slug="acme-money")


def outcomes(client, account, ret) -> dict[str, str]:
    """Each item's outcome line on the shopper's status page, by title (and the page as "_page")."""
    with client.application.test_request_context():
        token = status_token(ret)
    response = client.get(f"/r/{account.slug}/returns/{token}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    items = re.findall(r'<li class="status-item">(.*?)</li>', body, re.S)
    found = {}
    for item in items:
        title = re.search(r"× (.*?)</strong>", item).group(1)
        outcome = re.search(r'<span class="block small outcome">(.*?)</span>', item)
        found[title] = html.unescape(outcome.group(1)) if outcome else None
    return found | {"_page": body}


def test_each_money_state_reads_in_the_shoppers_words(account, client):
    ret = make_return(account, status="PROCESSED", items=[
        ("refund", "ISSUED"), ("refund", "ISSUED"), ("refund", "ISSUED"), ("refund", "FAILED"),
        ("credit", "ISSUED"), ("credit", "ISSUED"), ("exchange", "ISSUED"), ("refund", "DECIDED")])
    pending, paid, outside, failed, store, card, swap, outside_before = ret.items
    pending.refund_state, pending.issued_amount = "PENDING", Decimal("24.50")
    paid.refund_state, paid.issued_amount = "PAID", Decimal("19.99")
    outside.refund_state, outside.issued_amount, outside.outside_refund_amount = "OUTSIDE", Decimal("30"), Decimal("30")
    outside.outside_refund_method, outside.outside_refund_by = "cash from the till, ask Jo", "boss@example.com"
    outside.outside_refund_at = datetime(2026, 3, 4, tzinfo=timezone.utc)
    failed.refund_state, failed.refund_error = "FAILED", "card_declined"
    failed.failure_reason = "Shopify could not refund the payment (card_declined)."
    store.credit_method, store.issued_amount = "store_credit", Decimal("20.00")
    card.credit_method, card.gift_card_last_characters, card.issued_amount = "gift_card", "X7QK", Decimal("15.00")
    swap.exchange_order_id, swap.exchange_order_name, swap.exchange_line_ids = ret.shopify_order_id, ret.order_name, [1]
    # Refunded by the shop before Shopify processed anything: decided again, the money already moved.
    outside_before.refund_state, outside_before.outside_refund_amount = "OUTSIDE", Decimal("12.00")
    outside_before.outside_refund_method = "bank transfer to NL91ABNA0417164300"
    db.session.commit()
    seen = outcomes(client, account, ret)
    assert seen[pending.title] == "Refund of 24.50 USD sent to your payment provider — it may take a few days"
    assert seen[paid.title] == "Refunded 19.99 USD"
    assert seen[outside.title] == "Refunded 30.00 USD by the shop"
    assert seen[failed.title] == "The shop is sorting this item out and will be in touch."
    assert seen[store.title] == "Store credit of 20.00 USD added to your account"
    assert seen[card.title] == "Gift card sent worth 15.00 USD (code ending X7QK)"
    assert seen[swap.title] == f"Exchange confirmed on your order {ret.order_name}"
    assert seen[outside_before.title] == "Refunded 12.00 USD by the shop"
    page = seen["_page"]
    for secret in ("card_declined", "cash from the till", "NL91ABNA", "boss@example.com", "Shopify could not"):
        assert secret not in page, secret


def test_the_history_tells_what_was_issued_without_staff_wording(account, client):
    ret = make_return(account, status="PROCESSED", items=[("refund", "ISSUED"), ("credit", "ISSUED")])
    refund, credit = ret.items
    refund.refund_state, refund.outside_refund_amount, refund.issued_amount = "OUTSIDE", Decimal("20"), Decimal("20")
    ret.add_event("issued", f"{refund.title}: return recorded in Shopify; refunded outside Shopify (cash, ask Jo).",
                  "system", data={"item_id": refund.id, "option": "refund"})
    ret.add_event("issued", f"{credit.title}: 20.00 USD issued as store credit.", "system",
                  data={"item_id": credit.id, "option": "credit"})
    ret.add_event("outside_refund", f"{refund.title}: 20.00 USD refunded outside Shopify (cash, ask Jo), recorded "
                  "by staff.", "boss@example.com", data={"item_id": refund.id})
    ret.add_event("issue_failed", "Shopify could not refund the payment (card_declined).", "system")
    db.session.commit()
    page = outcomes(client, account, ret)["_page"]
    history = page.split("<h2>History</h2>", 1)[1]
    assert f"{refund.title}: refund issued." in history and f"{credit.title}: credit note issued." in history
    for secret in ("ask Jo", "card_declined", "recorded by staff", "boss@example.com", "in Shopify"):
        assert secret not in page, secret


def test_nothing_is_said_before_anything_is_issued(account, client):
    ret = make_return(account, status="OPEN", items=[("refund", "DECIDED"), ("credit", "ISSUING"),
                                                      (None, "UNDECIDED")])
    db.session.commit()
    seen = outcomes(client, account, ret)
    assert [seen[i.title] for i in ret.items] == [None, None, None]

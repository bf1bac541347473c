"""What a portal page may leave behind: nothing in a cache, no address told to other sites, a
status link that stops working a while after its return's last step (a friendly page, a fresh
link from the lookup), and a gift card code shown in full once, then by its last characters."""
import html
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import ReturnItem
from app.portal import session as portal
from app.services.return_submission import Selection, create_return
from tests.factories import make_return
from tests.support.portal import make_line, make_portal_order

NOW = datetime.now(timezone.utc)
CODE = "GIFT-7Q2K-PLUM-X7QK"


pytestmark = pytest.mark.account(name="Acme Outdoor", slug="acme-privacy", return_reasons=["Faulty"],
                                 exchange_enabled=False)


def token(client, ret, days_ago: int | None = 0) -> str:
    """A status link made `days_ago` days ago (None: one made before links carried their day)."""
    with client.application.test_request_context():
        if days_ago is None:
            return portal._serializer().dumps([ret.account_id, ret.id])
        return portal._serializer().dumps([ret.account_id, ret.id, (NOW - portal._EPOCH).days - days_ago])


def status(client, account, link):
    return client.get(f"/r/{account.slug}/returns/{link}")


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_portal_pages_are_not_cached_and_tell_no_other_site_their_address(account, client):
    ret = make_return(account, status="OPEN")
    db.session.commit()
    link = token(client, ret)
    for response in (client.get(f"/r/{account.slug}"),
                     client.post(f"/r/{account.slug}", data={"order_number": "1", "email": "x@example.com"}),
                     status(client, account, link), client.get(f"/r/{account.slug}/returns/{link}/confirmed"),
                     client.get(f"/r/{account.slug}/returns/{link}/packing-slip"),
                     status(client, account, "not-a-token"), status(client, account, token(client, ret, days_ago=400))):
        assert response.headers["Cache-Control"] == "no-store", response.request.path
        assert response.headers["Referrer-Policy"] == "same-origin", response.request.path


@pytest.mark.parametrize("closed_days_ago, made_days_ago, works", [
    (None, 0, True),          # an open return, a link made today
    (89, 120, True),          # the link counts from the return's last step
    (91, 120, False),
    (None, 91, False),        # open, nothing happened for 91 days, and the link is that old
    (91, 5, True),            # a link from a lookup five days ago
])
def test_a_status_link_lasts_90_days_after_it_was_made_or_the_return_last_moved(
        account, client, closed_days_ago, made_days_ago, works):
    ret = make_return(account, status="CLOSED" if closed_days_ago is not None else "OPEN", days_ago=200)
    if closed_days_ago is not None:
        ret.closed_at = NOW - timedelta(days=closed_days_ago)
    db.session.commit()
    response = status(client, account, token(client, ret, made_days_ago))
    assert response.status_code == (200 if works else 410)
    assert (ret.rma_number in text(response)) == works


def test_a_link_made_before_links_carried_their_day_counts_from_the_return(account, client):
    recent, old = make_return(account, days_ago=10), make_return(account, days_ago=100)
    db.session.commit()
    assert status(client, account, token(client, recent, None)).status_code == 200
    assert status(client, account, token(client, old, None)).status_code == 410


def test_the_lifetime_is_a_setting(account, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_STATUS_LINK_DAYS", 7)
    ret = make_return(account, days_ago=30)
    db.session.commit()
    assert status(client, account, token(client, ret, 8)).status_code == 410
    assert status(client, account, token(client, ret, 6)).status_code == 200


def test_an_expired_link_is_a_friendly_page_and_the_lookup_gives_a_fresh_link(account, client):
    order = make_portal_order(account, [make_line(title="Tee")], name="#1001", email="pat@example.com")
    db.session.commit()
    ret, _ = create_return(account, order.id, [Selection(order.lines[0].id, 1, "Faulty", None, "refund")], "t-1")
    ret.created_at = NOW - timedelta(days=200)  # started long ago, and nothing happened since
    db.session.commit()
    old = token(client, ret, 200)
    for response in (status(client, account, old), client.get(f"/r/{account.slug}/returns/{old}/confirmed"),
                     client.get(f"/r/{account.slug}/returns/{old}/packing-slip"),
                     client.post(f"/r/{account.slug}/returns/{old}/tracking",
                                 data={"tracking_number": "1Z999AA10123456784"}),
                     client.post(f"/r/{account.slug}/returns/{old}/cancel", data={"confirmed": "1"})):
        assert response.status_code == 410, response.request.path
        page = text(response)
        assert "This link has expired" in page and "Find my order" in page and ret.rma_number not in page
    db.session.expire_all()
    assert ret.tracking_number is None and ret.status == "OPEN"  # nothing was changed through it
    found = client.post(f"/r/{account.slug}", data={"order_number": "1001", "email": "pat@example.com"})
    # Its one item is in the return: the lookup leads straight to the return, by a fresh link.
    assert found.status_code == 303
    fresh = re.fullmatch(rf"/r/{account.slug}/returns/([^/]+)", found.headers["Location"]).group(1)
    assert fresh != old and status(client, account, fresh).status_code == 200


@pytest.mark.parametrize("link", ["%00", "%ED%A0%80", "x" * 5000, "WzEsMiwiOTk5OTk5OTk5OTk5OTk5OTk5OSJd.x",
                                  "٣.٣", "²"])
def test_a_hostile_link_is_the_shops_not_found_page(account, client, link):
    assert status(client, account, link).status_code == 404


def gift_card_return(account, email="sam.shopper@example.com"):
    ret = make_return(account, status="CLOSED", items=(("credit", "ISSUED"),), email=email)
    ret.closed_at = NOW
    item = ret.items[0]
    item.credit_method, item.issued_amount = "gift_card", Decimal("15.00")
    item.gift_card_code_encrypted, item.gift_card_last_characters = encrypt_secret(CODE), "X7QK"
    if email is None:
        ret.customer_email = None
    db.session.commit()
    return ret


def test_a_gift_card_code_is_shown_in_full_on_first_view_then_masked(account, client):
    ret = gift_card_return(account)
    link = token(client, ret)
    first = text(status(client, account, link))
    assert f"code {CODE} (shown here this once; also sent by email)" in first
    assert db.session.scalar(select(ReturnItem.gift_card_code_shown_at).where(ReturnItem.return_id == ret.id))
    for _ in range(2):
        again = text(status(client, account, link))
        assert CODE not in again and "GIFT-7Q2K" not in again
        assert ("Gift card worth 15.00 USD: code ending X7QK. The full code was sent by email to s…@example.com."
                in again)
        assert "sam.shopper" not in again


def test_a_masked_code_without_an_email_address_says_to_ask_the_shop(account, client):
    ret = gift_card_return(account, email=None)
    link = token(client, ret)
    assert CODE in text(status(client, account, link))
    assert "code ending X7QK. Ask the shop for the full code." in text(status(client, account, link))

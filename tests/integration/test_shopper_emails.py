"""The shopper is emailed at each step of a return — label ready, parcel received, exchange shipped,
declined, cancelled, issued — once per return whatever is replayed, never when the shop switched
that email off or the return has no address; each email frames the shop's logo (https only) and
colour and links to the return's page."""
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail, Return, ReturnLabel
from app.services import issued_notices, milestones
from app.services import return_review as review
from app.services import return_workflow as wf
from app.services.milestones import Milestone
from app.services.orders import store_parcel
from tests.factories import make_account, make_return

STAFF = "staff@example.com"


def emails(ret, kind=None) -> list[OutboxEmail]:
    db.session.expire_all()
    query = select(OutboxEmail).where(OutboxEmail.return_id == ret.id).order_by(OutboxEmail.id)
    if kind:
        query = query.where(OutboxEmail.kind == kind)
    return list(db.session.scalars(query))


def fresh(ret) -> Return:
    return db.session.get(Return, ret.id)


@pytest.fixture
def shop(app):
    account = make_account(name="Acme Outdoor", primary_color="#0a7d32", logo_url="https://cdn.example.com/logo.png")
    db.session.commit()
    return account


def test_the_parcel_received_email_is_sent_once_with_the_link_to_the_return(shop):
    ret = make_return(shop, status="OPEN", email="pat@example.com")
    db.session.commit()
    assert wf.mark_received(ret, STAFF)
    assert not wf.mark_received(fresh(ret), STAFF)  # a second click
    # A replayed announcement (a webhook delivered twice) writes nothing more either.
    milestones.announce(fresh(ret), Milestone.STATUS_CHANGED, previous="OPEN", status="RECEIVED")
    db.session.commit()
    [email] = emails(ret)
    assert email.kind == "received" and email.to_address == "pat@example.com"
    assert email.subject == f"We have your parcel for return {ret.rma_number}"
    assert "Acme Outdoor has received your parcel" in email.text_body
    assert "/r/" + shop.slug + "/returns/" in email.text_body and "/r/" + shop.slug + "/returns/" in email.html_body
    # Branded: the shop's colour behind its logo (an https address), text that reads on it.
    assert 'src="https://cdn.example.com/logo.png"' in email.html_body
    assert "background: #0a7d32; color: #ffffff" in email.html_body


def test_the_cancelled_email_is_sent_once(shop):
    ret = make_return(shop, status="OPEN")
    db.session.commit()
    wf.cancel_return(ret, STAFF)
    milestones.announce(fresh(ret), Milestone.STATUS_CHANGED, previous="OPEN", status="CANCELLED")
    db.session.commit()
    [email] = emails(ret)
    assert email.kind == "cancelled" and "is cancelled" in email.subject
    assert "Nothing will be refunded, credited or exchanged." in email.text_body


def test_the_declined_email_carries_the_shops_message_once(shop):
    ret = make_return(shop, status="REQUESTED")
    db.session.commit()
    assert review.decline(shop.id, ret.id, STAFF, "OTHER", "Bought in our outlet:\nplease ask there.").changed
    assert not review.decline(shop.id, ret.id, STAFF, "OTHER", "Second click").changed
    [email] = emails(ret)
    assert email.kind == "declined" and email.subject == f"Your return {ret.rma_number} was declined"
    assert "Bought in our outlet:\nplease ask there." in email.text_body
    assert "Bought in our outlet:\nplease ask there.</blockquote>" in email.html_body
    assert "Second click" not in email.text_body


def test_the_label_ready_email_links_the_label_and_the_packing_slip_once(shop):
    ret = make_return(shop, status="OPEN")
    label = ReturnLabel(account_id=shop.id, return_id=ret.id, provider="easypost", state="BOUGHT", carrier="USPS",
                        tracking_number="9400100000000000000000", label_pdf_url="https://labels.example.com/l.pdf",
                        qr_url="javascript:alert(1)")
    db.session.add(label)
    db.session.flush()
    for _ in range(2):
        milestones.announce(ret, Milestone.LABEL_READY, label_id=label.id)
        db.session.commit()
    [email] = emails(ret)
    assert email.kind == "label_ready"
    assert 'href="https://labels.example.com/l.pdf"' in email.html_body
    assert "javascript:" not in email.html_body and "javascript:" not in email.text_body  # https links only
    assert "/packing-slip" in email.html_body and "/packing-slip" in email.text_body
    assert "9400100000000000000000" in email.text_body


def test_a_switched_off_email_is_not_written_and_the_others_still_are(shop):
    shop.shopper_emails_off = ["received"]
    ret = make_return(shop, status="OPEN")
    db.session.commit()
    wf.mark_received(ret, STAFF)
    assert emails(ret) == []
    wf.close_return(fresh(ret), STAFF)  # closing sends nothing of its own
    other = make_return(shop, status="OPEN")
    db.session.commit()
    wf.cancel_return(other, STAFF)
    assert [e.kind for e in emails(other)] == ["cancelled"]


def test_a_return_without_an_email_address_gets_none(shop):
    received, cancelled = make_return(shop, status="OPEN"), make_return(shop, status="OPEN")
    received.customer_email = cancelled.customer_email = None
    db.session.commit()
    assert wf.mark_received(received, STAFF)
    wf.cancel_return(cancelled, STAFF)
    assert issued_notices.email_issued(shop, fresh(received), fresh(received).items) is False
    assert db.session.scalar(select(OutboxEmail.id)) is None


def test_a_logo_not_served_over_https_is_left_out(shop):
    shop.logo_url = "http://cdn.example.com/logo.png"
    ret = make_return(shop, status="OPEN")
    db.session.commit()
    wf.mark_received(ret, STAFF)
    [email] = emails(ret)
    assert "<img" not in email.html_body and "http://cdn.example.com" not in email.html_body
    assert "Acme Outdoor</strong>" in email.html_body  # the shop's name instead of its logo


def test_the_issued_email_is_written_once_per_issue_and_only_when_switched_on(shop):
    ret = make_return(shop, items=(("refund", "ISSUED"),), status="RECEIVED")
    ret.items[0].issued_amount = Decimal("20.00")
    db.session.commit()
    assert issued_notices.email_issued(shop, ret, ret.items)
    assert not issued_notices.email_issued(shop, fresh(ret), fresh(ret).items)  # the job ran twice
    [email] = emails(ret, "issued")
    assert "a refund of 20.00 USD" in email.text_body and "/returns/" in email.text_body

    shop.shopper_emails_off = ["issued"]
    other = make_return(shop, items=(("refund", "ISSUED"),), status="RECEIVED")
    db.session.commit()
    assert not issued_notices.email_issued(shop, other, other.items)
    # A gift card's code reaches the shopper no other way: its email goes whatever the switch says.
    assert issued_notices.email_issued(shop, other, [], gift_card_code="ABCD-EFGH-1234",
                                       gift_card_value=Decimal("20.00"))
    [card] = emails(other)
    assert "ABCD-EFGH-1234" in card.text_body


def _exchange_return(shop, *, separate_order: bool, issued_hours_ago: float = 1):
    ret = make_return(shop, items=(("exchange", "ISSUED"),), status="CLOSED", email="sam@example.com")
    item = ret.items[0]
    item.exchange_variant_id, item.exchange_variant_title = 4242, "Large / Blue"
    item.exchange_order_id = 9_100_000_000_000 + ret.id if separate_order else ret.shopify_order_id
    item.issued_at = datetime.now(timezone.utc) - timedelta(hours=issued_hours_ago)
    db.session.commit()
    return ret


def fulfillment(order_id: int, *, parcel_id: int = 5001, variant: int = 4242, created: datetime | None = None,
                **extra) -> dict:
    """A fulfillments/create body as Shopify sends it (REST fulfillment resource)."""
    created = created or datetime.now(timezone.utc)
    return {"id": parcel_id, "order_id": order_id, "status": "success", "created_at": created.isoformat(),
            "updated_at": created.isoformat(), "shipment_status": None,
            "line_items": [{"id": 77001, "variant_id": variant, "quantity": 1}], **extra}


def test_a_shopify_exchange_shipped_on_the_original_order_is_emailed_once_with_its_tracking(shop):
    ret = _exchange_return(shop, separate_order=False)
    body = fulfillment(ret.shopify_order_id, tracking_number="1Z999AA10123456784",
                       tracking_url="https://tracking.example.com/1Z999AA10123456784", tracking_company="UPS")
    for _ in range(2):  # fulfillments/create, then a replay
        store_parcel(shop.id, body)
        db.session.commit()
    store_parcel(shop.id, {**body, "id": 5002})  # a second parcel of the same exchange
    db.session.commit()
    [email] = emails(ret)
    assert email.kind == "exchange_shipped" and "is on its way" in email.subject
    assert "Large / Blue" in email.text_body and "1Z999AA10123456784 (UPS)" in email.text_body
    assert 'href="https://tracking.example.com/1Z999AA10123456784"' in email.html_body


def test_the_orders_own_parcels_and_other_variants_are_not_the_exchange(shop):
    ret = _exchange_return(shop, separate_order=False)
    before = datetime.now(timezone.utc) - timedelta(days=10)
    store_parcel(shop.id, fulfillment(ret.shopify_order_id, created=before))  # the first delivery
    store_parcel(shop.id, fulfillment(ret.shopify_order_id, parcel_id=5003, variant=999))
    db.session.commit()
    assert emails(ret) == []


def test_a_separate_exchange_order_shipped_is_emailed_without_tracking_when_shopify_gave_none(shop):
    ret = _exchange_return(shop, separate_order=True)
    store_parcel(shop.id, fulfillment(ret.items[0].exchange_order_id, variant=1,
                                      tracking_url="javascript:alert(1)"))
    db.session.commit()
    [email] = emails(ret)
    assert "Tracking number" not in email.text_body and "javascript:" not in email.html_body


def test_hostile_fulfillment_bodies_send_nothing_and_raise_nothing(shop):
    ret = _exchange_return(shop, separate_order=False)
    order_id = ret.shopify_order_id
    for body in ({"id": 1, "order_id": order_id, "status": "success", "created_at": "not a date", "line_items": []},
                 fulfillment(order_id, line_items="nope"),
                 fulfillment(order_id, tracking_number="\x00" * 3, tracking_url=["\ud800"], tracking_company=7),
                 fulfillment(order_id, status="cancelled")):
        store_parcel(shop.id, body)
        db.session.rollback()
    body = fulfillment(order_id, tracking_number="T" * 500, tracking_url="https://t.example/" + "x" * 2000,
                       tracking_company="\ud800")
    store_parcel(shop.id, body)
    db.session.commit()
    [email] = emails(ret)  # shipped, but no tracking anyone could have meant
    assert "T" * 500 not in email.text_body and "x" * 2000 not in email.html_body


@pytest.mark.parametrize("colour", ["#ffe680", "#0a7d32", "#000000", "#ffffff", "#zzzzzz"])
def test_the_header_and_button_text_read_on_the_shops_colour(shop, colour):
    from app.domain.contrast import contrast_ratio
    shop.primary_color = colour
    ret = make_return(shop, status="OPEN")
    db.session.commit()
    wf.cancel_return(ret, STAFF)
    [email] = emails(ret)
    pairs = re.findall(r"background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6})", email.html_body)
    assert len(pairs) == 2  # the header, the button to the return's page
    assert all(contrast_ratio(text, background) >= 4.5 for background, text in pairs), pairs

"""Every email Boomerang sends is built from templates: a product title, a shop name or an order
name is text, escaped in the HTML part and left as it is in the text part."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail
from app.portal.status import compose_confirmation
from app.services import issued_notices
from app.services.legacy_issuing import Issued, _compose_credit_email
from tests.factories import make_account, make_return

TITLE = '<img src=x onerror=alert(1)> & "quotes"'
ESCAPED = "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quotes&#34;"


@pytest.fixture
def hostile(app):
    """A shop and a return whose every shop-side text is markup."""
    account = make_account(name=f"Shop {TITLE}")
    ret = make_return(account, items=(("credit", "ISSUED"), ("exchange", "ISSUED")))
    ret.order_name, ret.customer_name = f"#1 {TITLE}", TITLE
    for item in ret.items:
        item.title, item.variant_title, item.reason = TITLE, TITLE, TITLE
        item.exchange_variant_title, item.issued_amount = TITLE, Decimal("12.50")
    ret.items[0].credit_method = "store_credit"
    db.session.flush()
    return account, ret


def assert_escaped(text: str, html: str) -> None:
    assert "<img" not in html and "onerror=alert(1)>" not in html and '"quotes"' not in html
    assert ESCAPED in html
    assert TITLE in text and "&lt;" not in text and "&amp;" not in text


def test_the_confirmation_email_escapes_shop_text(hostile):
    account, ret = hostile
    subject, text, html = compose_confirmation(account, ret, "https://returns.example.com/s/r/abc")
    assert_escaped(text, html)


def test_the_issued_email_escapes_product_titles(hostile):
    account, ret = hostile
    assert issued_notices.email_issued(account, ret, ret.items, gift_card_code="ABCD-EFGH",
                                       gift_card_value=Decimal("5"))
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.return_id == ret.id))
    assert_escaped(email.text_body, email.html_body)
    assert "ABCD-EFGH" in email.html_body and "- " + TITLE in email.text_body


def test_the_credit_note_email_escapes_product_titles(hostile):
    account, ret = hostile
    email = _compose_credit_email(ret, ret.items[0], Issued(amount=Decimal("12.50"), gift_card_code="WXYZ-1234"))
    assert_escaped(email.text_body, email.html_body)
    assert "<strong>WXYZ-1234</strong>" in email.html_body and "Gift card code: WXYZ-1234" in email.text_body

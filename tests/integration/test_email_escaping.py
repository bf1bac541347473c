"""Every email Boomerang sends is built from templates: a product title, a shop name or an order
name is text, escaped in the HTML part and left as it is in the text part."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail
from app.portal.status import compose_confirmation
from app.domain.vocabulary import EmailKind
from app.services import email_previews, issued_notices
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


# --- every shopper email kind -------------------------------------------------------------------

SCRIPT = '<script>alert("x")</script> & \'quoted\''
SCRIPT_ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;quoted&#39;"


@pytest.fixture
def scripted(app):
    """A shop, customer, products and decline note whose every text is a script, with quotes and &."""
    account = make_account(name=f"Shop {SCRIPT}")
    ret = make_return(account, items=(("exchange", "ISSUED"), ("refund", "ISSUED")), status="DECLINED")
    ret.order_name, ret.customer_name, ret.decline_note = f"#1 {SCRIPT}", SCRIPT, f"Note {SCRIPT}"
    for item in ret.items:
        item.title, item.variant_title, item.exchange_variant_title = SCRIPT, SCRIPT, SCRIPT
        item.reason, item.issued_amount = SCRIPT, Decimal("12.50")
    db.session.flush()
    return account, ret


@pytest.mark.parametrize("kind", [k.value for k in EmailKind])
def test_every_shopper_email_escapes_shop_text_in_html_and_keeps_it_plain_in_text(scripted, kind):
    account, ret = scripted
    shown = email_previews.preview(account, EmailKind(kind), ret.id)
    text, html = shown.text, shown.html
    assert "<script>" not in html and SCRIPT_ESCAPED in html
    assert SCRIPT in text and "&lt;" not in text and "&amp;" not in text and "&#" not in text
    if kind == "declined":
        assert f"Note {SCRIPT_ESCAPED}" in html and f"Note {SCRIPT}" in text
    if kind in ("received", "exchange_shipped", "submitted"):
        assert f"× {SCRIPT_ESCAPED}" in html  # the product title
    assert f"Shop {SCRIPT_ESCAPED}" in html and f"Shop {SCRIPT}" in text


@pytest.mark.parametrize("logo", ["http://cdn.example.com/l.png", "javascript:alert(1)", '" onerror="alert(1)',
                                  "//cdn.example.com/l.png", "data:image/png;base64,AAAA"])
def test_a_logo_shows_only_from_an_https_address(scripted, logo):
    account, ret = scripted
    account.logo_url = logo
    html = email_previews.preview(account, EmailKind.RECEIVED, ret.id).html
    assert "<img" not in html and logo not in html
    account.logo_url = 'https://cdn.example.com/l.png?a="b"&c'
    html = email_previews.preview(account, EmailKind.RECEIVED, ret.id).html
    assert '<img src="https://cdn.example.com/l.png?a=&#34;b&#34;&amp;c"' in html

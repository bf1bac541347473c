"""Settings: the shop switches each shopper email on or off (one Save with the rest of the page),
and previews each one with one of its returns, or made-up data when it has none; the email's HTML
is served under its own strict CSP, framed only by the dashboard."""
import pytest
from sqlalchemy import select

from app.domain.vocabulary import EmailKind
from app.extensions import db
from app.models import Account, OutboxEmail
from app.services import return_workflow as wf
from tests.factories import make_account, make_return
from tests.support.hostile import form_body, url_of
from tests.support.settings import SETTINGS, page_values, post_settings, settings_data

pytestmark = pytest.mark.account(users=["admin", "staff"], logged_in="admin", name="Acme Outdoor")

PREVIEW = "/dashboard/settings/emails/{kind}/preview"
PREVIEW_HTML = "/dashboard/settings/emails/{kind}/preview/email.html"


def stored(account) -> Account:
    db.session.expire_all()
    return db.session.get(Account, account.id)


def test_every_email_is_on_until_switched_off_and_the_switch_is_saved_with_the_page(account, client):
    values = page_values(client.get(SETTINGS).get_data(as_text=True))
    assert all(values.get(f"email_{kind.value}") == "y" for kind in EmailKind)
    assert post_settings(client, {"email_received": None, "email_declined": None}).status_code == 303
    assert stored(account).shopper_emails_off == ["received", "declined"]
    values = page_values(client.get(SETTINGS).get_data(as_text=True))
    assert "email_received" not in values and values["email_cancelled"] == "y"
    # Switched off, a received parcel is not emailed; switched back on, it is.
    ret = make_return(account, status="OPEN")
    db.session.commit()
    wf.mark_received(ret, "boss@example.com")
    assert db.session.scalar(select(OutboxEmail.id)) is None
    assert post_settings(client, {"email_received": "y", "email_declined": "y"}).status_code == 303
    assert stored(account).shopper_emails_off == []


@pytest.mark.parametrize("value", ["\x00", "\ud800", "²", "y" * 10_000, "false", ""])
def test_hostile_switch_values_never_fail_the_page(account, client, value):
    body = form_body(settings_data(client, {"email_issued": value, "email_bogus": value}))
    response = client.post(SETTINGS, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 400, 422)
    off = stored(account).shopper_emails_off or []
    assert set(off) <= {kind.value for kind in EmailKind}  # an unknown name is never stored


def test_each_kind_has_a_preview_link_on_the_settings_page(account, client):
    page = client.get(SETTINGS).get_data(as_text=True)
    for kind in EmailKind:
        assert f'href="{PREVIEW.format(kind=kind.value)}"' in page


def test_a_shop_without_returns_sees_made_up_data_clearly_marked(account, client):
    page = client.get(PREVIEW.format(kind="received")).get_data(as_text=True)
    assert 'id="sample-notice"' in page and "Made-up example" in page
    assert "We have your parcel for return R-SAMPLE" in page and "alex@example.com" in page
    assert db.session.scalar(select(OutboxEmail.id)) is None  # a preview writes nothing


def test_the_preview_shows_subject_text_and_html_of_the_shops_return(account, client):
    ret = make_return(account, status="DECLINED", email="pat@example.com")
    ret.decline_note = "Bought in our outlet."
    db.session.commit()
    page = client.get(PREVIEW.format(kind="declined")).get_data(as_text=True)
    assert "sample-notice" not in page
    assert f"Your return {ret.rma_number} was declined" in page and "pat@example.com" in page
    assert "Bought in our outlet." in page
    assert f'src="{PREVIEW_HTML.format(kind="declined")}?sample={ret.id}"' in page
    assert "<iframe" in page and " sandbox " in page
    html = client.get(PREVIEW_HTML.format(kind="declined"), query_string={"sample": ret.id})
    assert html.status_code == 200 and "Bought in our outlet.</blockquote>" in html.get_data(as_text=True)
    csp = html.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
    assert "frame-ancestors 'self'" in csp and html.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'none'" in client.get(PREVIEW.format(kind="declined")).headers["Content-Security-Policy"]


def test_a_switched_off_kind_says_so_in_its_preview(account, client):
    account.shopper_emails_off = ["cancelled"]
    db.session.commit()
    assert 'id="switched-off"' in client.get(PREVIEW.format(kind="cancelled")).get_data(as_text=True)
    assert 'id="switched-off"' not in client.get(PREVIEW.format(kind="received")).get_data(as_text=True)


def test_another_shops_return_is_not_found(account, client):
    other = make_account(name="Other shop")
    theirs = make_return(other, status="OPEN")
    db.session.commit()
    for url in (PREVIEW, PREVIEW_HTML):
        assert client.get(url.format(kind="received"), query_string={"sample": theirs.id}).status_code == 404


@pytest.mark.parametrize("sample, status", [("\x00", 400), ("²", 400), ("-1", 400), ("0", 400), ("1.5", 400),
                                            ("9" * 40, 404), (str(2**63), 404), ("\ud800", 400), ("abc", 400)])
def test_hostile_sample_ids_are_refused_plainly(account, client, sample, status):
    for url in (PREVIEW, PREVIEW_HTML):
        assert client.get(url_of(url.format(kind="received"), {}, {"sample": sample})).status_code == status


@pytest.mark.parametrize("kind", ["nope", "RECEIVED", "received\x00", "%00", "label.ready"])
def test_an_unknown_kind_is_not_found(account, client, kind):
    assert client.get(url_of("/dashboard/settings/emails/<kind>/preview", {"kind": kind})).status_code == 404


@pytest.mark.account(users=["staff"], logged_in="staff")
def test_staff_cannot_preview_or_switch_emails(account, client):
    assert client.get(PREVIEW.format(kind="received")).status_code == 403
    assert client.get(PREVIEW_HTML.format(kind="received")).status_code == 403
    assert client.get(SETTINGS).status_code == 403


def test_the_issued_preview_of_a_return_not_issued_yet_shows_what_it_would_give(account, client):
    make_return(account, status="OPEN", items=(("refund", "DECIDED"),))
    db.session.commit()
    page = client.get(PREVIEW.format(kind="issued")).get_data(as_text=True)
    assert "a refund of 20.00 USD to your original payment method" in page


def test_the_outbox_names_each_shopper_emails_kind(account, client):
    ret = make_return(account, status="OPEN")
    db.session.commit()
    wf.cancel_return(ret, "boss@example.com")
    page = client.get("/dashboard/outbox").get_data(as_text=True)
    assert '<span class="badge outbox-kind">Return cancelled</span>' in page

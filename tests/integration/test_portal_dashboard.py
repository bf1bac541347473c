"""The dashboard side of the portal: returns list and page, Outbox, return settings, the email and
rules jobs."""
import smtplib
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Account, OutboxEmail, Return, ReturnEvent
from app.services.mail import send_email, store_email
from app.services.return_submission import Selection, create_return
from jobs.rules import match_return_rules_job
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in
from tests.support.portal import make_line, make_portal_order
from tests.support.settings import post_settings

pytestmark = pytest.mark.account(name="Acme Outdoor", users=["admin"], logged_in="admin")


def a_return(account, email="pat@example.com", name=None, minutes_ago=0, note=None) -> Return:
    order = make_portal_order(account, [make_line(title="Tee", discounted_unit_price=Decimal("20.00"))],
                              email=email, name=name)
    db.session.commit()
    ret, created = create_return(
        account, order.id, [Selection(order.lines[0].id, 1, "Faulty", note, "refund")], f"t-{order.id}",
        compose_email=lambda r: (f"Return {r.rma_number}", "text body", "<p>html</p>"),
        now=datetime.now(timezone.utc) - timedelta(minutes=minutes_ago))
    assert created
    return ret


def test_returns_are_listed_newest_first_and_paginated(account, client):
    made = [a_return(account, minutes_ago=100 - i) for i in range(27)]
    first = client.get("/dashboard/returns").get_data(as_text=True)
    assert made[-1].rma_number in first and made[0].rma_number not in first
    assert first.index(made[-1].rma_number) < first.index(made[-2].rma_number)
    assert "Page 1 of 2" in first
    second = client.get("/dashboard/returns?page=2").get_data(as_text=True)
    assert made[0].rma_number in second and made[-1].rma_number not in second
    assert client.get("/dashboard/returns?page=abc").status_code == 400


def test_returns_search_by_rma_order_name_and_email(account, client):
    one = a_return(account, email="ana@example.com", name="#2001")
    two = a_return(account, email="li@example.com", name="#2002")
    for query, expected, absent in [(one.rma_number, one, two), (one.rma_number.lower(), one, two),
                                    ("2002", two, one), ("#2002", two, one), ("LI@example.com", two, one)]:
        body = client.get("/dashboard/returns", query_string={"q": query}).get_data(as_text=True)
        assert expected.rma_number in body and absent.rma_number not in body, query


def test_another_accounts_returns_are_invisible(account, client):
    other = make_account()
    theirs = a_return(other)
    assert theirs.rma_number not in client.get("/dashboard/returns").get_data(as_text=True)
    assert client.get(f"/dashboard/returns/{theirs.id}").status_code == 404


def test_the_return_page_shows_items_reasons_options_notes_and_timeline(account, client):
    ret = a_return(account, note="Seam came apart")
    body = client.get(f"/dashboard/returns/{ret.id}").get_data(as_text=True)
    for text in (ret.rma_number, "Tee", "Faulty", "Refund", "Seam came apart", "started by the customer",
                 "Confirmation email to pat@example.com", "20.00 USD"):
        assert text in body, text


def test_the_outbox_shows_stored_emails_of_this_account_only(account, client):
    a_return(account)
    other = make_account()
    store_email(other, "x@example.com", "Not yours", "t", "<p>h</p>")
    db.session.commit()
    body = client.get("/dashboard/outbox").get_data(as_text=True)
    assert "Return R-" in body and "pat@example.com" in body and "stored" in body
    assert "Not yours" not in body


def test_staff_see_returns_and_outbox(account, client):
    make_user(account, role="staff", email="staff@example.com")
    db.session.commit()
    client.post("/logout")
    log_in(client, "staff@example.com")
    assert client.get("/dashboard/returns").status_code == 200
    assert client.get("/dashboard/outbox").status_code == 200
    assert client.post("/dashboard/settings", data={}).status_code == 403


def test_send_email_uses_smtp_when_configured_and_only_once(account, app, monkeypatch):
    email = store_email(account, "pat@example.com", "Hi", "text", "<p>html</p>")
    db.session.commit()
    assert send_email(email.id) == "stored"  # embedded default: no SMTP server
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append((host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            pass

        def login(self, user, password):
            pass

        def send_message(self, message):
            sent.append(message)

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.com")
    assert send_email(email.id) == "sent"
    assert send_email(email.id) == "already sent"
    message = sent[1]
    assert message["To"] == "pat@example.com" and message.get_body(("html",)).get_content().strip() == "<p>html</p>"
    assert len([m for m in sent if not isinstance(m, tuple)]) == 1


def test_an_smtp_failure_is_recorded_and_raised_for_retry(account, app, monkeypatch):
    email = store_email(account, "pat@example.com", "Hi", "text", "<p>html</p>")
    db.session.commit()

    def refuse(*args, **kwargs):
        raise smtplib.SMTPConnectError(421, "try later")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.com")
    with pytest.raises(smtplib.SMTPConnectError):
        send_email(email.id)
    db.session.expire_all()
    stored = db.session.get(OutboxEmail, email.id)
    assert stored.sent_at is None and "try later" in stored.error and stored.attempts == 1


def test_match_return_rules_records_once_and_is_safe_to_run_twice(account):
    ret = a_return(account)
    match_return_rules_job(ret.id)
    first = db.session.scalars(select(ReturnEvent.kind).where(ReturnEvent.return_id == ret.id)).all()
    match_return_rules_job(ret.id)
    kinds = db.session.scalars(select(ReturnEvent.kind).where(ReturnEvent.return_id == ret.id)).all()
    assert kinds.count("rules_pending") == 1
    assert kinds == first  # a second run adds nothing


VALID = {"option_mode": "rules", "exchange_enabled": "y", "excluded_product_tags": "final-sale\nClearance, outlet",
         "return_reasons": "Faulty\n  Too small \n\nWrong colour"}


def test_return_settings_are_saved(account, client):
    from app.services.rules import create_rule

    # Rules mode needs a rule that can decide something.
    create_rule(account.id, {"name": "Faulty", "outcome": "refund", "enabled": True,
                             "conditions": [{"dimension": "return_reason", "operator": "is", "value": "Faulty"}]})
    assert post_settings(client, VALID).status_code == 303
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert saved.option_mode == "rules" and saved.exchange_enabled is True
    assert saved.excluded_product_tags == ["final-sale", "clearance", "outlet"]
    assert saved.return_reasons == ["Faulty", "Too small", "Wrong colour"]
    page = client.get("/dashboard/settings").get_data(as_text=True)
    assert "Wrong colour" in page
    post_settings(client, {**VALID, "option_mode": "customer_choice", "exchange_enabled": None})
    db.session.expire_all()
    assert db.session.get(Account, account.id).exchange_enabled is False


@pytest.mark.parametrize("field, value, message", [
    ("return_reasons", "  \n ", "Keep at least one reason"),
    ("return_reasons", "Faulty\nfaulty", "is listed twice"),
    ("return_reasons", "x" * 121, "keep each reason under 120 characters"),
    ("option_mode", "whatever", "Not a valid choice"),
    ("excluded_product_tags", "\n".join(f"t{i}" for i in range(51)), "at most 50 tags"),
])
def test_bad_return_settings_are_refused_next_to_the_field(account, client, field, value, message):
    response = post_settings(client, {**VALID, field: value})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert "[&#39;" not in body  # the lists are shown again as typed, not as Python lists
    db.session.expire_all()
    assert db.session.get(Account, account.id).option_mode == "customer_choice"

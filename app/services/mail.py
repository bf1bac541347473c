"""Outgoing email: written to the outbox in the caller's transaction, sent by a job after commit.

The embedded default has no SMTP server: emails are only stored, and the dashboard's Outbox
page shows them (so the demo shows what a customer would receive). With MAIL_SERVER set, the
`jobs.mail.send_outbox_email_job` job sends each one over SMTP and records when, or why not.
"""
import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app, render_template

from app.extensions import db
from app.i18n import rendering_in
from app.models import Account, OutboxEmail
from app.queue import enqueue


def render_email(name: str, locale: str | None = None, **context) -> tuple[str, str]:
    """(text, html) of one kind of email, from ``portal/email/<name>.txt`` and ``.html``, written in
    `locale` (the return's language, ``Return.locale``; the context's return's when not given;
    English when neither) with the shop's own wording for it (app/i18n.py).

    Emails are built from templates only: the HTML part is autoescaped by Jinja (a product title
    is the shop's or Shopify's text, never markup), the text part is plain text and not escaped."""
    if locale is None:
        locale = getattr(context.get("ret"), "locale", None)
    account = context.get("account")
    with rendering_in(locale, getattr(account, "id", None)):
        return (render_template(f"portal/email/{name}.txt", **context),
                render_template(f"portal/email/{name}.html", **context))


def store_email(account: Account, to_address: str, subject: str, text_body: str, html_body: str,
                return_id: int | None = None, *, kind: str | None = None, once_key: str | None = None) -> OutboxEmail:
    """Add an email to the outbox (the caller commits; enqueue `send_after_commit` afterwards).
    `kind` names a shopper email; `once_key` is unique across the outbox (see shopper_emails)."""
    email = OutboxEmail(account_id=account.id, return_id=return_id, to_address=to_address,
                        subject=subject, text_body=text_body, html_body=html_body,
                        created_at=datetime.now(timezone.utc), attempts=0, kind=kind, once_key=once_key)
    db.session.add(email)
    return email


def send_after_commit(email_id: int) -> None:
    """Queue the SMTP send of a committed outbox email (nothing to do without SMTP)."""
    if current_app.config.get("MAIL_SERVER"):
        enqueue("jobs.mail.send_outbox_email_job", email_id, job_id=f"outbox-{email_id}")


def build_message(email: OutboxEmail, account: Account, sender: str) -> EmailMessage:
    """A multipart/alternative message (text first, HTML preferred by mail clients)."""
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = formataddr((account.name, sender))
    message["To"] = email.to_address
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}")
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    return message


def send_email(email_id: int) -> str:
    """Send one outbox email over SMTP; safe to run twice (a sent email is not sent again).

    Returns "sent", "already sent", "stored" (no SMTP configured) or "missing". An SMTP failure is
    recorded on the row and raised, so the queue retries it."""
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        return "missing"
    if email.sent_at is not None:
        return "already sent"
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return "stored"
    account = db.session.get(Account, email.account_id)
    email.attempts = (email.attempts or 0) + 1
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(build_message(email, account, config["MAIL_DEFAULT_SENDER"]))
    except (smtplib.SMTPException, OSError) as error:
        email.error = f"{type(error).__name__}: {error}"[:1000]
        db.session.commit()
        raise
    email.sent_at = datetime.now(timezone.utc)
    email.error = None
    db.session.commit()
    return "sent"

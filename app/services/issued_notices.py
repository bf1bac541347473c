"""Telling the shopper that money, credit or an exchange was issued: one message per issue.

The account chooses who tells them (``Account.issued_notice``): Shopify (``notifyCustomer`` on the
processing call; its own gift card email for a card tied to a customer) or Boomerang's email. A
gift card with no customer (a guest order) always goes by our email: its code must reach the
shopper, and Shopify has no one to send it to.
"""
from __future__ import annotations

from decimal import Decimal

from app.domain.formatting import format_money
from app.domain.vocabulary import Option
from app.extensions import db
from app.i18n import current_locale, gettext as _, rendering_in
from app.models import Account, Return, ReturnItem
from app.services.mail import render_email, send_after_commit, store_email

SHOPIFY, EMAIL = "shopify", "email"


def _money(amount, currency: str) -> str:
    return format_money(amount, currency, locale=current_locale())


def _line(item: ReturnItem, currency: str) -> str | None:
    """One line of the email, in the language being written (`rendering_in` the return's)."""
    value = Decimal(item.issued_amount or 0)
    if item.option == Option.REFUND:
        return _("%(item)s: a refund of %(amount)s to your original payment method.", item=item.title,
                 amount=_money(value, currency))
    if item.option == Option.CREDIT and item.credit_method == "store_credit":
        return _("%(item)s: %(amount)s of store credit in your account.", item=item.title,
                 amount=_money(value, currency))
    if item.option == Option.EXCHANGE:
        return _("%(item)s: your exchange for %(variant)s is confirmed and will ship.", item=item.title,
                 variant=item.exchange_variant_title)
    return None


def email_issued(account: Account, ret: Return, items: list[ReturnItem], *, gift_card_code: str | None = None,
                 gift_card_value: Decimal | None = None) -> bool:
    """Store (and queue) one email listing what was issued; the caller commits first or after.
    Returns whether an email was written (a return without an email address gets none)."""
    if not ret.customer_email:
        return False
    with rendering_in(ret.locale, account.id):  # the shopper's language, kept on the return
        lines = [text for text in (_line(i, ret.currency) for i in items) if text]
        if gift_card_code:
            lines.append(_("A gift card worth %(amount)s: code %(code)s.",
                           amount=_money(gift_card_value or 0, ret.currency), code=gift_card_code))
        subject = _("Your return %(rma)s: issued", rma=ret.rma_number)
    if not lines:
        return False
    text, html = render_email("issued", account=account, ret=ret, lines=lines)
    email = store_email(account, ret.customer_email, subject, text, html, return_id=ret.id)
    ret.add_event("email", f"Email to {ret.customer_email}: what was issued.", "system")
    db.session.commit()
    send_after_commit(email.id)
    return True

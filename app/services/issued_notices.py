"""Telling the shopper that money, credit or an exchange was issued: one message per issue.

The account chooses who tells them (``Account.issued_notice``): Shopify (``notifyCustomer`` on the
processing call; its own gift card email for a card tied to a customer) or Boomerang's email. A
gift card with no customer (a guest order) always goes by our email: its code must reach the
shopper, and Shopify has no one to send it to.
"""
from __future__ import annotations

import hashlib
from decimal import Decimal

from app.domain.formatting import format_money
from app.domain.vocabulary import EmailKind, Option
from app.extensions import db
from app.i18n import current_locale, gettext as _, rendering_in
from app.models import Account, Return, ReturnItem
from app.services import shopper_emails

SHOPIFY, EMAIL = "shopify", "email"


def _money(amount, currency: str) -> str:
    return format_money(amount, currency, locale=current_locale())


def lines_for(items: list[ReturnItem], currency: str, value_of=None) -> list[str]:
    """What the issued email says for each item (refund, store credit, exchange), in the language
    being written (`rendering_in` the return's); ``value_of(item)`` stands in for the issued amount
    (a preview of an item not issued yet)."""
    return [text for text in (_line(i, currency, value_of) for i in items) if text]


def _line(item: ReturnItem, currency: str, value_of=None) -> str | None:
    value = Decimal(value_of(item) if value_of else item.issued_amount or 0)
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
    """Store (and queue) one email listing what was issued, and commit. Returns whether an email
    was written: none without an email address, none when the shop switched issued emails off,
    unless it carries a gift card code (the code reaches the shopper no other way), and none for
    an issue already emailed (the same items, the same card: a job run twice)."""
    if not ret.customer_email:
        return False
    if not gift_card_code and not shopper_emails.enabled(account, EmailKind.ISSUED):
        return False
    with rendering_in(ret.locale, account.id):  # the shopper's language, kept on the return
        lines = lines_for(items, ret.currency)
        if gift_card_code:
            lines.append(_("A gift card worth %(amount)s: code %(code)s.",
                           amount=_money(gift_card_value or 0, ret.currency), code=gift_card_code))
    if not lines:
        return False
    once = ",".join(str(i.id) for i in sorted(items, key=lambda i: i.id))
    if gift_card_code:  # the card's own key: a digest, never the code itself
        once += ":card-" + hashlib.sha256(gift_card_code.encode()).hexdigest()[:16]
    subject, text, html = shopper_emails.compose(EmailKind.ISSUED, account, ret, lines=lines)
    email = shopper_emails.write(account, ret, EmailKind.ISSUED, subject, text, html, once=once)
    db.session.commit()
    return email is not None

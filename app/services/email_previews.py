"""The dashboard's preview of each shopper email: one of the shop's returns, or made-up sample
data (clearly marked) when it has none, rendered through the same templates as the real email.

Nothing here writes: a made-up return, label or item is never added to the session, and a real
return is only read (what its email would add, a sample tracking number or decline message, is
passed to the templates, never set on it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select

from app.domain.vocabulary import EmailKind, ItemResolution, Option, ReturnStatus
from app.extensions import db
from app.i18n import rendering_in
from app.models import Account, Return, ReturnItem, ReturnLabel
from app.services import issued_notices, shopper_emails

RECENT = 20  # returns offered to preview with
SAMPLE_TRACKING = ("1Z999AA10123456784", "https://tracking.example.com/1Z999AA10123456784", "UPS")
SAMPLE_NOTE = "This item was bought in our outlet store, which has its own returns desk."


@dataclass(frozen=True)
class Preview:
    """One kind's email for one return: what the preview page shows."""

    kind: EmailKind
    ret: Return
    made_up: bool  # no return of the shop: sample data
    subject: str
    text: str
    html: str
    to_address: str | None
    switched_on: bool


class NotThisShops(LookupError):
    """The return asked for is not one of this shop's (or does not exist)."""


def recent_returns(account: Account) -> list[Return]:
    """The shop's latest returns, newest first, to choose the preview's return from."""
    return list(db.session.scalars(select(Return).where(Return.account_id == account.id)
                                   .order_by(Return.id.desc()).limit(RECENT)))


def preview(account: Account, kind: EmailKind, return_id: int | None = None) -> Preview:
    """The email `kind` for the shop's return `return_id` (default: its latest; NotThisShops for one
    of another shop or none), or for made-up data when the shop has no return yet."""
    if return_id is not None:
        ret = db.session.scalar(select(Return).where(Return.id == return_id, Return.account_id == account.id))
        if ret is None:
            raise NotThisShops(return_id)
        made_up = False
    else:
        latest = recent_returns(account)
        ret, made_up = (latest[0], False) if latest else (_sample_return(account), True)
    subject, text, html = shopper_emails.compose(kind, account, ret, **_context(kind, ret, made_up))
    return Preview(kind, ret, made_up, subject, text, html, ret.customer_email,
                   shopper_emails.enabled(account, kind))


def _context(kind: EmailKind, ret: Return, made_up: bool) -> dict:
    if kind == EmailKind.SUBMITTED:
        return {"rules_mode": ret.option_source == "rules"}
    if kind == EmailKind.LABEL_READY:
        label = None if made_up else db.session.scalar(select(ReturnLabel).where(ReturnLabel.return_id == ret.id))
        label = label or _sample_label()
        return {"label": label, "label_links": shopper_emails.label_links(label)}
    if kind == EmailKind.ISSUED:
        with rendering_in(ret.locale, ret.account_id):  # the lines in the return's language, as sent
            lines = issued_notices.lines_for([i for i in ret.items if i.option], ret.currency,
                                             value_of=lambda i: i.issued_amount if i.issued_amount is not None
                                             else (i.unit_value or 0) * i.quantity)
        return {"lines": lines or [f"{ret.items[0].title}: a refund to your original payment method."
                                   if ret.items else "A refund to your original payment method."]}
    if kind == EmailKind.EXCHANGE_SHIPPED:
        number, url, carrier = SAMPLE_TRACKING
        items = [i for i in ret.items if i.option == Option.EXCHANGE] or list(ret.items)
        return {"items": items, "tracking_number": number, "tracking_url": url, "carrier": carrier}
    if kind == EmailKind.DECLINED:
        return {"decline_note": ret.decline_note or SAMPLE_NOTE}
    return {}


def _sample_return(account: Account) -> Return:
    """A made-up return (never added to the session) for a shop without any."""
    now = datetime.now(timezone.utc)
    ret = Return(id=0, account_id=account.id, rma_number="R-SAMPLE", order_name="#1001", status=ReturnStatus.OPEN.value,
                 option_source="customer", shopify_order_id=0, customer_email="alex@example.com",
                 customer_name="Alex Sample", currency=account.currency or "USD", created_at=now, updated_at=now)
    ret.items = [
        ReturnItem(id=0, shopify_line_id=0, title="Linen shirt", variant_title="M", unit_value=Decimal("49.00"),
                   quantity=1, reason="Too small", option=Option.EXCHANGE.value, exchange_variant_title="L",
                   resolution=ItemResolution.ISSUED.value, issued_amount=Decimal("0.00"), keep_item=False),
        ReturnItem(id=0, shopify_line_id=0, title="Canvas tote", variant_title=None, unit_value=Decimal("25.00"),
                   quantity=1, reason="Changed my mind", option=Option.REFUND.value,
                   resolution=ItemResolution.ISSUED.value, issued_amount=Decimal("25.00"), keep_item=False),
    ]
    return ret


def _sample_label() -> ReturnLabel:
    """A made-up label (never added to the session)."""
    number, _url, carrier = SAMPLE_TRACKING
    return ReturnLabel(id=0, provider="sample", tracking_number=number, carrier=carrier,
                       label_pdf_url="https://labels.example.com/sample-label.pdf",
                       qr_url="https://labels.example.com/sample-qr.png")

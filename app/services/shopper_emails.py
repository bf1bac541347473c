"""The shopper's emails at each step of a return: submitted, label ready, parcel received, money or
credit issued, exchange shipped, declined, cancelled.

Each is built from its templates (``portal/email/<kind>.html`` and ``.txt``, framed by
``_layout``: the shop's logo and colour, the link to the return's page), written to the outbox in
the transaction of the change it reports (a milestone's listener, app/services/milestones.py) and
sent once that commits. Each kind is written at most once per return (per issue, for "issued"):
its row carries a unique ``once_key``, so a replayed webhook or a second click writes nothing
more. A kind the shop switched off (``Account.shopper_emails_off``) is not written, nor one for a
return without an email address.

The submitted email is written by the submission itself (its link is the one the portal shows)
and the issued one by whoever issues (it lists what one issue gave); both come through `write`.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain.vocabulary import EmailKind, ReturnStatus
from app.extensions import db
from app.models import Account, OutboxEmail, Return, ReturnItem, ReturnLabel
from app.services import milestones
from app.services.mail import render_email, send_after_commit, store_email
from app.services.milestones import Announcement, Milestone
from app.services.status_links import status_url
from app.i18n import N_, gettext, rendering_in

# The subject of each kind (``%(rma)s``: the return's number, ``%(order)s``: the order's name),
# marked for extraction here and translated when an email is written (``subject_of``).
SUBJECTS = {
    EmailKind.SUBMITTED: N_("Your return %(rma)s for order %(order)s"),
    EmailKind.LABEL_READY: N_("Your return label for %(rma)s"),
    EmailKind.RECEIVED: N_("We have your parcel for return %(rma)s"),
    EmailKind.ISSUED: N_("Your return %(rma)s: issued"),
    EmailKind.EXCHANGE_SHIPPED: N_("Your exchange for return %(rma)s is on its way"),
    EmailKind.DECLINED: N_("Your return %(rma)s was declined"),
    EmailKind.CANCELLED: N_("Your return %(rma)s is cancelled"),
}
TEMPLATES = {EmailKind.SUBMITTED: "confirmation"}  # every other kind's templates carry its value
# The status a return enters that sends each kind.
ON_STATUS = {ReturnStatus.RECEIVED: EmailKind.RECEIVED, ReturnStatus.DECLINED: EmailKind.DECLINED,
             ReturnStatus.CANCELLED: EmailKind.CANCELLED}


def enabled(account: Account, kind: str) -> bool:
    """Whether the shop sends this kind of email (every kind is on until switched off)."""
    return kind not in (account.shopper_emails_off or ())


def subject_of(kind: str, ret: Return) -> str:
    """The subject line of `kind` for `ret`."""
    return gettext(SUBJECTS[EmailKind(kind)], rma=ret.rma_number, order=ret.order_name)


def compose(kind: str, account: Account, ret: Return, **context) -> tuple[str, str, str]:
    """(subject, text, html) of one kind for one return (also what the dashboard's preview shows).
    ``context`` adds what the kind's templates read: ``label`` and ``label_links``; the shipped
    ``items`` and ``tracking_number``, ``tracking_url``, ``carrier``; the issued ``lines``; the
    ``decline_note``; the submitted ``rules_mode``."""
    context.setdefault("status_url", status_url(ret, account.slug))
    text, html = render_email(TEMPLATES.get(kind, str(kind)), account=account, ret=ret, **context)
    with rendering_in(ret.locale, account.id):  # the subject in the email's language too
        subject = subject_of(kind, ret)
    return subject, text, html


def write(account: Account, ret: Return, kind: str, subject: str, text: str, html: str,
          once: str = "") -> OutboxEmail | None:
    """Write one shopper email into the caller's transaction, unless its key was written before,
    and queue its sending for after the commit. None when nothing was written (written before,
    or no address). The key is checked first and the insert runs in a savepoint, so a key another
    transaction wrote meanwhile costs this one nothing but the email."""
    if not ret.customer_email:
        return None
    key = f"{ret.id}:{kind}" + (f":{once}" if once else "")
    if db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.once_key == key)) is not None:
        return None
    try:
        with db.session.begin_nested():
            email = store_email(account, ret.customer_email, subject, text, html, return_id=ret.id,
                                kind=str(kind), once_key=key[:120])
    except IntegrityError:
        return None
    ret.add_event("email", f"Email to {ret.customer_email}: {EmailKind(kind).label.lower()}.", "system")
    email_id = email.id
    milestones.after_commit(lambda: send_after_commit(email_id))
    return email


def label_links(label: ReturnLabel | None) -> dict:
    """The label's files and QR code, https addresses only (a provider's answer is not trusted to
    be a link at all): ``pdf``, ``png``, ``file`` (when neither), ``qr``."""
    def https(url):
        return url if isinstance(url, str) and url.startswith("https://") else None
    if label is None:
        return {}
    pdf, png = https(label.label_pdf_url), https(label.label_png_url)
    return {"pdf": pdf, "png": png, "file": None if pdf or png else https(label.label_url),
            "qr": https(label.qr_url)}


@milestones.listen
def on_milestone(ret: Return, announcement: Announcement) -> None:
    """Write the email a milestone owes the shopper, if the shop sends that kind."""
    kind = _kind_of(announcement)
    if kind is None or not ret.customer_email:
        return
    account = db.session.get(Account, ret.account_id)
    if account is None or not enabled(account, kind):
        return
    context = _context_of(kind, announcement)
    if context is None:
        return
    write(account, ret, kind, *compose(kind, account, ret, **context))


def _kind_of(announcement: Announcement) -> EmailKind | None:
    if announcement.name == Milestone.STATUS_CHANGED:
        return ON_STATUS.get(announcement.data.get("status"))
    if announcement.name == Milestone.LABEL_READY:
        return EmailKind.LABEL_READY
    if announcement.name == Milestone.EXCHANGE_SHIPPED:
        return EmailKind.EXCHANGE_SHIPPED
    return None


def _context_of(kind: EmailKind, announcement: Announcement) -> dict | None:
    data = announcement.data
    if kind == EmailKind.LABEL_READY:
        label = db.session.get(ReturnLabel, data.get("label_id"))
        return {"label": label, "label_links": label_links(label)} if label is not None else None
    if kind == EmailKind.EXCHANGE_SHIPPED:
        ids = [i for i in data.get("item_ids") or () if isinstance(i, int)]
        items = list(db.session.scalars(select(ReturnItem).where(
            ReturnItem.id.in_(ids), ReturnItem.return_id == announcement.return_id).order_by(ReturnItem.id)))
        return {"items": items, "tracking_number": data.get("tracking_number"),
                "tracking_url": data.get("tracking_url"), "carrier": data.get("carrier")}
    if kind == EmailKind.DECLINED:
        ret = db.session.get(Return, announcement.return_id)
        return {"decline_note": ret.decline_note if ret is not None else None}
    return {}

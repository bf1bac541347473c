"""The packing slip: one printable page to put in the parcel (the RMA number as text and as a
Code 128 barcode the warehouse scans, the items, where it goes and who sent it)."""
from flask import abort, render_template, url_for
from sqlalchemy import select

from app.domain.barcode import BarcodeRefused, code128_svg
from app.domain.vocabulary import ReturnStatus
from app.extensions import db
from app.i18n import N_, gettext as _
from app.models import Account
from app.portal import bp
from app.portal import session as portal


@bp.get("/<slug>/returns/<signed:token>/packing-slip")
def packing_slip(slug: str, token: str):
    """The packing slip of the return the status link names (a cancelled one says not to send)."""
    account = db.session.scalar(select(Account).where(Account.slug == slug))
    ret = portal.return_from_token(account, token) if account is not None else None
    if ret is None:
        abort(404)
    return packing_slip_page(account, ret, url_for("portal.status", slug=slug, token=token),
                              N_("Back to your return"))


def packing_slip_page(account: Account, ret, back_url: str, back_label: str):
    """The slip of a return (the shopper's from the status link, staff's from the return page)."""
    barcode = None
    if ret.status != ReturnStatus.CANCELLED:
        try:
            barcode = code128_svg(ret.rma_number, label=_("Barcode of %(rma)s", rma=ret.rma_number))
        except BarcodeRefused:  # an RMA number is ASCII; the text alone still identifies the parcel
            barcode = None
    return render_template("portal/packing_slip.html", account=account, ret=ret, barcode=barcode,
                           back_url=back_url, back_label=back_label,
                           cancelled=ret.status == ReturnStatus.CANCELLED)

"""The packing slip: one printable page to put in the parcel (the RMA number as text and as a
Code 128 barcode the warehouse scans, the items, where it goes and who sent it)."""
from flask import abort, render_template
from sqlalchemy import select

from app.domain import returns as states
from app.domain.barcode import BarcodeRefused, code128_svg
from app.extensions import db
from app.models import Account
from app.portal import bp
from app.portal import session as portal
from app.services.returns import OPTION_LABELS


@bp.get("/<slug>/returns/<token>/packing-slip")
def packing_slip(slug: str, token: str):
    """The packing slip of the return the status link names (a cancelled one says not to send)."""
    account = db.session.scalar(select(Account).where(Account.slug == slug))
    ret = portal.return_from_token(account, token) if account is not None else None
    if ret is None:
        abort(404)
    barcode = None
    if ret.status != states.CANCELLED:
        try:
            barcode = code128_svg(ret.rma_number)
        except BarcodeRefused:  # an RMA number is ASCII; the text alone still identifies the parcel
            barcode = None
    return render_template("portal/packing_slip.html", account=account, ret=ret, token=token, barcode=barcode,
                           cancelled=ret.status == states.CANCELLED, labels=OPTION_LABELS)

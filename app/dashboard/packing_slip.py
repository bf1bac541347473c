"""Staff print a return's packing slip (to post it to a customer who rang, or to check a parcel)."""
from flask import url_for

from app.dashboard import bp
from app.dashboard.scope import current_account, get_scoped_or_404
from app.models import Return
from app.portal.packing_slip import packing_slip_page


@bp.get("/returns/<int:return_id>/packing-slip")
def return_packing_slip(return_id: int):
    """The same slip the shopper prints, from the staff side."""
    ret = get_scoped_or_404(Return, return_id)
    return packing_slip_page(current_account(), ret, url_for("dashboard.return_detail", return_id=ret.id),
                             "Back to the return")

"""Settings → Return address: read the shop's address from Shopify again. The return address and
instructions themselves are fields of the one settings form (``SettingsForm``)."""
from flask import flash, redirect, url_for

from app.dashboard import bp
from app.dashboard.scope import admin_required, current_account
from app.forms import BaseForm
from app.services.return_address import AddressUnavailable, refresh_shop_address


class RefreshAddressForm(BaseForm):
    """Only the CSRF token: read the shop's address from Shopify again."""


@bp.post("/settings/return-address/from-shopify")
@admin_required
def return_address_from_shopify():
    """Read the shop's address from Shopify again (it may have moved)."""
    account = current_account()
    if RefreshAddressForm().validate_on_submit():
        try:
            refresh_shop_address(account)
        except AddressUnavailable as error:
            flash(str(error), "error")
        else:
            flash("Your shop's address was read from Shopify.", "success")
    return redirect(url_for("dashboard.settings") + "#return-address", code=303)

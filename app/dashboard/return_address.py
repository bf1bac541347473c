"""Settings → Return address: where shoppers send their parcels and what to put in them.

A section of its own (partial ``dashboard/_partials/return_address_settings.html``) with its own
form and routes: saving it leaves the other settings alone.
"""
from flask import flash, g, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField, ValidationError
from wtforms.validators import StopValidation

from app.dashboard import bp
from app.dashboard.scope import admin_required, current_account
from app.forms import typed_only
from app.services.return_address import AddressUnavailable, refresh_shop_address, save_return_address

ADDRESS_LINES, LINE_MAX, INSTRUCTIONS_MAX = 8, 120, 1000


def _plain_lines(form, field):
    """Refuse characters no person types (control characters other than line breaks, lone
    surrogates, private use, unassigned, U+FFFD for bytes that were not UTF-8)."""
    text = (field.data or "").replace("\r\n", "\n").replace("\r", "\n")
    kept = typed_only(text, keep="\n")
    field.data = kept  # shown again without them: a page never echoes a NUL or a surrogate
    if kept != text:
        raise StopValidation("Use letters, digits and punctuation only.")


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").split("\n")]


class ReturnAddressForm(FlaskForm):
    """The return address (empty: the shop's own) and instructions for the shopper."""

    return_address = TextAreaField("Return address", validators=[_plain_lines],
                                   render_kw={"rows": 5, "autocomplete": "off"})
    return_instructions = TextAreaField("Instructions for the shopper", validators=[_plain_lines],
                                        render_kw={"rows": 4})

    def validate_return_address(self, field):
        """At most 8 lines of at most 120 characters (a label holds no more)."""
        lines = [line for line in _lines(field.data) if line]
        if len(lines) > ADDRESS_LINES:
            raise ValidationError(f"Use at most {ADDRESS_LINES} lines.")
        if any(len(line) > LINE_MAX for line in lines):
            raise ValidationError(f"Keep each line to at most {LINE_MAX} characters.")

    def validate_return_instructions(self, field):
        """At most 1,000 characters."""
        if len(self.instructions()) > INSTRUCTIONS_MAX:
            raise ValidationError(f"Use at most {INSTRUCTIONS_MAX} characters.")

    def address(self) -> str:
        """The address, one trimmed line per line, blank lines dropped."""
        return "\n".join(line for line in _lines(self.return_address.data) if line)

    def instructions(self) -> str:
        """The instructions, each line trimmed, blank lines at either end dropped."""
        return "\n".join(_lines(self.return_instructions.data)).strip("\n")


class RefreshAddressForm(FlaskForm):
    """Only the CSRF token: read the shop's address from Shopify again."""


def return_address_form(account) -> ReturnAddressForm:
    """The section's form: the one just refused (kept with its errors), else the account's."""
    refused = g.get("return_address_form")
    if refused is not None:
        return refused
    return ReturnAddressForm(formdata=None, data={"return_address": account.return_address or "",
                                                  "return_instructions": account.return_instructions or ""})


@bp.context_processor
def _section_form():
    # The partial builds its own form, so the settings page needs no change beyond its include.
    return {"return_address_form": return_address_form, "refresh_address_form": RefreshAddressForm}


@bp.post("/settings/return-address")
@admin_required
def return_address_settings():
    """Save the return address and instructions."""
    account = current_account()
    form = ReturnAddressForm()
    if form.validate_on_submit():
        save_return_address(account, form.address(), form.instructions())
        flash("Return address saved.", "success")
        return redirect(url_for("dashboard.settings") + "#return-address", code=303)
    g.return_address_form = form
    return render_template("dashboard/return_address.html", account=account), 422


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

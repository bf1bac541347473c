"""Dashboard forms: staff, general settings, returns settings, the return action, and the
staff actions on a return."""
import re
from datetime import datetime, time, timezone

from wtforms import (BooleanField, DateField, EmailField, IntegerField, PasswordField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField, URLField, ValidationError)
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import (URL, DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp,
                                StopValidation)

from app.domain.contrast import white_text_verdict
from app.domain.formatting import format_date
from app.domain.photos import PHOTOS_PER_ITEM_RANGE, modes_from_lists
from app.domain.return_window import BASIS_LABELS
from app.domain.vocabulary import DeclineReason, Option, OptionMode, ReturnAction, ReviewMode
from app.forms import BaseForm, plain_lines, plain_text, strip_spaces
from app.i18n import LANGUAGES
from app.services.return_settlement import OUTSIDE_METHOD_MAX


class StaffForm(BaseForm):
    """Add a login to the account."""

    name = StringField("Name", validators=[Optional(), Length(max=120), plain_text])
    email = EmailField("Email", filters=[strip_spaces], validators=[
        DataRequired("Enter their email address."), Length(max=254), plain_text,
        Email("Enter a valid email address.", check_deliverability=False),
    ])
    password = PasswordField("Temporary password", validators=[
        DataRequired("Choose a temporary password."), Length(max=128),
    ])
    role = SelectField("Role", choices=[("staff", "Staff — works the returns"),
                                        ("admin", "Admin — also settings, rules and staff")],
                       default="staff")


class RemoveStaffForm(BaseForm):
    """Only the CSRF token; the user id is in the URL."""


class RetryDeliveriesForm(BaseForm):
    """Only the CSRF token; which delivery (or all) is in the URL."""


class WholeNumberField(IntegerField):
    """An integer typed in ASCII digits (int() would also take Arabic-Indic or full-width digits,
    and refuses a number over 4,300 digits with a message no person should read)."""

    def __init__(self, label=None, validators=None, message="Enter a whole number in digits.", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        """Only ASCII digits make a number; a very long one stays too large for any range."""
        if valuelist:
            text = valuelist[0].strip()
            # Shown again as typed, but short and without control characters.
            self.raw_data = ["".join(c for c in valuelist[0][:40] if c.isprintable())]
            if not re.fullmatch(r"[0-9]+", text, re.ASCII):
                self.data = None
                raise ValueError(self.message)
            self.data = int(text) if len(text) <= 18 else 10 ** 18


COLOUR = re.compile(r"\A#[0-9a-fA-F]{6}\Z", re.ASCII)


def https_only(form, field):
    """A logo is loaded by every shopper's browser: over https only (the portal's CSP allows no
    http: images, and a plain-http image would be a mixed-content warning on an https portal)."""
    if field.data and not field.data.lower().startswith("https://"):
        raise StopValidation("Use an https:// address: browsers block images sent over plain http.")


class GeneralSettingsForm(BaseForm):
    """Store name, portal branding and the windows that apply to every return."""

    name = StringField("Store name", validators=[
        plain_text, DataRequired("Enter the store's name."), Length(max=120, message="Use at most 120 characters.")])
    return_window_days = WholeNumberField("Return window (days)", validators=[
        InputRequired("Enter a number of days."), NumberRange(1, 365, "Choose between 1 and 365 days."),
    ], message="Enter a number of days in digits, e.g. 30.")
    return_window_basis = SelectField("The return window counts from", choices=list(BASIS_LABELS.items()),
                                      validators=[DataRequired("Choose what the window counts from.")])
    order_storage_months = WholeNumberField("Keep order data for (months)", validators=[
        InputRequired("Enter a number of months."), NumberRange(1, 24, "Choose between 1 and 24 months."),
    ], message="Enter a number of months in digits, e.g. 6.")
    logo_url = URLField("Portal logo URL", validators=[
        plain_text, Optional(), Length(max=500, message="Use at most 500 characters."),
        URL(require_tld=False, message="Enter a full https:// address."), https_only,
    ])
    primary_color = StringField("Portal colour", filters=[strip_spaces], validators=[
        plain_text, DataRequired("Choose a colour."),
        Regexp(COLOUR, message="Use a colour like #1f6feb."),
    ])

    # The portal's language when a shopper's browser asks for none of the portal's (app/i18n.py).
    locale = SelectField("Portal language", choices=list(LANGUAGES.items()), validate_choice=False,
                         validators=[DataRequired("Choose a language.")])

    # The languages shoppers may switch to (and their browsers be matched against); the shop's own
    # language is always one of them.
    languages = SelectMultipleField("Languages offered in the portal", choices=list(LANGUAGES.items()),
                                    validate_choice=False, widget=ListWidget(prefix_label=False),
                                    option_widget=CheckboxInput())

    def validate_locale(self, field):
        """One of the portal's languages (SelectField's own check would only say "Not a valid choice")."""
        if field.data not in LANGUAGES:
            raise StopValidation("Choose one of the listed languages.")

    def validate_languages(self, field):
        """Only the portal's languages (a forged value is refused, never stored)."""
        if any(code not in LANGUAGES for code in field.data or []):
            raise StopValidation("Choose among the listed languages.")

    def offered_languages(self) -> list[str] | None:
        """The languages ticked and the shop's own, in the portal's order; None when that is all of
        them (a language added to Boomerang later is then offered too)."""
        chosen = [code for code in LANGUAGES if code in (self.languages.data or []) or code == self.locale.data]
        return None if len(chosen) == len(LANGUAGES) else chosen

    def validate_primary_color(self, field):
        """White button text must stay readable on the colour (links take a readable shade by themselves)."""
        if not field.errors and COLOUR.fullmatch(field.data or ""):
            verdict = white_text_verdict(field.data)
            if verdict:
                raise ValidationError(verdict)


def _lines(text: str | None) -> list[str]:
    """One entry per line (commas also split tags); blank lines and surrounding spaces dropped."""
    return [part.strip() for part in (text or "").splitlines() if part.strip()]


class ReturnsSettingsForm(BaseForm):
    """How the portal treats returns: who picks the option, exchanges, exclusions and reasons."""

    option_mode = RadioField("Who chooses refund, credit note or exchange?", choices=OptionMode.choices(),
                             validators=[InputRequired("Choose who decides.")])
    exchange_enabled = BooleanField("Offer exchanges for another size or colour")
    review_mode = RadioField("Which returns does staff approve before the shopper sends them?",
                             choices=ReviewMode.choices(), default=ReviewMode.NONE.value,
                             validators=[InputRequired("Choose which returns are reviewed.")])
    excluded_product_tags = TextAreaField(
        "Products that cannot be returned (product tags, one per line)", validators=[plain_lines],
        render_kw={"rows": 3})
    return_reasons = TextAreaField("Return reasons (one per line, shown in this order)", validators=[plain_lines],
                                   render_kw={"rows": 7})
    photos_required_reasons = TextAreaField("Photos required for these reasons (one per line)",
                                            validators=[plain_lines], render_kw={"rows": 3})
    photos_optional_reasons = TextAreaField("Photos optional for these reasons (one per line)",
                                            validators=[plain_lines], render_kw={"rows": 3})
    photos_per_item = WholeNumberField("Photos per item, at most", validators=[
        InputRequired("Enter a number of photos."),
        NumberRange(*PHOTOS_PER_ITEM_RANGE, f"Choose between {PHOTOS_PER_ITEM_RANGE[0]} and "
                                            f"{PHOTOS_PER_ITEM_RANGE[1]} photos."),
    ], message="Enter a number of photos in digits, e.g. 5.")

    def tags(self) -> list[str]:
        """The excluded tags, lowercased (Shopify compares tags case-insensitively), without repeats."""
        found = [t.strip() for line in _lines(self.excluded_product_tags.data) for t in line.split(",") if t.strip()]
        return list(dict.fromkeys(t.lower() for t in found))

    def reasons(self) -> list[str]:
        """The reasons in the order given."""
        return _lines(self.return_reasons.data)

    # The validators leave field.data as typed, so a refused form shows the text exactly as sent.
    def validate_excluded_product_tags(self, field):
        tags = self.tags()
        if len(tags) > 50:
            raise ValidationError("List at most 50 tags.")
        too_long = [t for t in tags if len(t) > 255]
        if too_long:
            raise ValidationError(f"“{too_long[0][:40]}…” is longer than Shopify allows for a tag (255).")

    def photo_modes(self) -> dict[str, str]:
        """The reason → photo mode map the two photo lists give (reasons in neither: not asked)."""
        return modes_from_lists(self.reasons(), _lines(self.photos_required_reasons.data),
                                _lines(self.photos_optional_reasons.data))

    def _photo_reasons(self, field):
        known = {r.casefold() for r in self.reasons()}
        for reason in _lines(field.data):
            if reason.casefold() not in known:
                raise ValidationError(f"“{reason[:40]}” is not one of the return reasons above.")

    def validate_photos_required_reasons(self, field):
        self._photo_reasons(field)

    def validate_photos_optional_reasons(self, field):
        self._photo_reasons(field)
        both = {r.casefold() for r in _lines(self.photos_required_reasons.data)}
        twice = [r for r in _lines(field.data) if r.casefold() in both]
        if twice:
            raise ValidationError(f"“{twice[0][:40]}” is listed as required too: keep it in one list.")

    def validate_return_reasons(self, field):
        reasons = self.reasons()
        if not reasons:
            raise ValidationError("Keep at least one reason, e.g. Faulty.")
        if len(reasons) > 20:
            raise ValidationError("List at most 20 reasons; customers choose from all of them.")
        too_long = [r for r in reasons if len(r) > 120]
        if too_long:
            raise ValidationError(f"“{too_long[0][:40]}…” is too long: keep each reason under 120 characters.")
        seen = set()
        for reason in reasons:
            if reason.lower() in seen:
                raise ValidationError(f"“{reason}” is listed twice.")
            seen.add(reason.lower())


class ReturnActionForm(BaseForm):
    """When refunds, credit notes and exchanges are issued in Shopify, and where stock goes back.

    The location choices are the shop's locations, set by the view (empty: the shop's default)."""

    return_action = RadioField("When are the options issued in Shopify?", choices=ReturnAction.choices(),
                               validators=[InputRequired("Choose when the options are issued.")])
    restock_location_id = SelectField("Restock at", choices=[("", "Shop's default location")],
                                      validate_choice=False)
    restock_returned_units = BooleanField("Put returned items back into stock (refunds, credit notes and exchanges)")

    def validate_restock_location_id(self, field):
        # The posted id must be one of the listed locations (the view fills the list from Shopify);
        # when Shopify could not be asked, only the value already stored is offered.
        allowed = {value for value, _ in field.choices}
        if (field.data or "") not in allowed:
            raise ValidationError("Choose one of the store's locations.")

    def location_id(self) -> int | None:
        """The chosen location id, or None for the shop's default."""
        return int(self.restock_location_id.data) if self.restock_location_id.data else None


class DeclineForm(BaseForm):
    """Decline a return awaiting review: Shopify's reason and the message the shopper reads
    (checked against Shopify's 500 characters by app/domain/review.py, so a long message is
    refused with the text kept rather than cut by the browser)."""

    decline_reason = SelectField("Reason (Shopify's)", choices=[("", "Choose a reason")] + DeclineReason.choices(),
                                 default="", validators=[InputRequired("Choose Shopify's reason for declining.")])
    decline_note = TextAreaField("Message to the shopper", validators=[plain_lines])

    def validate_decline_reason(self, field):
        if field.data not in tuple(DeclineReason):
            raise ValidationError("Choose Shopify's reason for declining from the list.")

    def note(self) -> str:
        """The message with a browser's line breaks (CRLF) as one character each, as stored and counted."""
        return (self.decline_note.data or "").replace("\r\n", "\n").strip()


class ActionForm(BaseForm):
    """Only the CSRF token: receive, process, close, cancel, retry; the ids are in the URL."""


class TrackingForm(BaseForm):
    """Set or correct the return's tracking number."""

    tracking_number = StringField("Tracking number", filters=[strip_spaces], validators=[
        DataRequired("Enter the tracking number."), Length(max=64, message="Use at most 64 characters.")])


class DecideItemForm(BaseForm):
    """Staff decide an item by hand (or switch a failed one): refund, credit note, or an exchange
    for another variant (checked live against the product's in-stock variants by the view)."""

    option = RadioField("Issue as", choices=Option.choices(),
                        validators=[InputRequired("Choose refund, credit note or exchange.")])
    variant_id = IntegerField("Exchange for", validators=[Optional(), NumberRange(min=1, max=2**63 - 1)])


# Refund amounts as staff type them: ASCII digits only (Python's Decimal would also take Arabic-Indic
# or full-width digits, an exponent, "NaN"), at most two decimals, with a point or a comma.
AMOUNT = re.compile(r"^[0-9]{1,7}(?:[.,][0-9]{1,2})?$", re.ASCII)


class PlainDateField(DateField):
    """A date field whose error says what a date looks like (WTForms': "Not a valid date value")."""

    def process_formdata(self, valuelist):
        """Parse as DateField does; a date that does not parse says what one looks like."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter the date, e.g. 2026-03-31.") from None


class OutsideRefundForm(BaseForm):
    """Staff record a refund they made outside Shopify for an item Shopify could not refund.
    One per item on the page (the view gives each its own prefix)."""

    amount = StringField("Amount refunded", filters=[strip_spaces], validators=[
        plain_text, DataRequired("Enter the amount refunded, e.g. 24.50."),
        Length(max=12, message="Enter the amount refunded, e.g. 24.50."),
        Regexp(AMOUNT, message="Enter the amount refunded, e.g. 24.50.")])
    method = StringField("How it was refunded", filters=[strip_spaces], validators=[
        plain_text, DataRequired("Say how it was refunded, e.g. cash in the shop or bank transfer."),
        Length(max=OUTSIDE_METHOD_MAX, message=f"Use at most {OUTSIDE_METHOD_MAX} characters.")])
    paid_on = PlainDateField("Date paid", validators=[InputRequired("Enter the date, e.g. 2026-03-31.")],
                             render_kw={"type": "date"})

    def validate_paid_on(self, field):
        """A refund already made: not dated in the future (UTC)."""
        if field.data is None:
            return
        if field.data > datetime.now(timezone.utc).date():
            raise ValidationError("The refund date cannot be in the future.")

    def paid_after(self, earliest) -> bool:
        """Whether the date paid is on or after ``earliest`` (the day the return started); the
        error goes next to the field when it is not."""
        if self.paid_on.data is not None and self.paid_on.data < earliest:
            self.paid_on.errors = [f"The refund date cannot be before the return started ({format_date(earliest)})."]
            self._errors = None  # WTForms caches .errors
            return False
        return True

    def refuse(self, reason: str) -> None:
        """A refusal that belongs to the whole form (the service's reason), shown at its top."""
        self.form_errors.append(reason)
        self._errors = None

    def amount_text(self) -> str:
        """The amount with a decimal point (a comma typed as one is accepted)."""
        return (self.amount.data or "").replace(",", ".")

    def paid_at(self) -> datetime:
        """The date paid as a moment (the start of that day, UTC)."""
        return datetime.combine(self.paid_on.data, time.min, tzinfo=timezone.utc)

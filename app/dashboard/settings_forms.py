"""The settings page's sections as forms (issuing, the return address, fees, bonus credit, exports) and the
one form that joins every section, so a single Save stores all of them or none."""
from wtforms import BooleanField, RadioField, StringField, TextAreaField, ValidationError

from app.dashboard.forms import GeneralSettingsForm, ReturnActionForm, ReturnsSettingsForm
from app.domain import bonus, fees
from app.domain.issuing import ExchangeMode
from app.domain.vocabulary import EmailKind
from app.forms import BaseForm, plain_lines, plain_text, strip_spaces
from wtforms.validators import InputRequired


EXCHANGE_MODE_CHOICES = [
    (ExchangeMode.SHOPIFY.value, "Shopify exchanges on the original order"),
    (ExchangeMode.SEPARATE_ORDER.value, "A separate $0 exchange order, for warehouses that only ship normal orders"),
]
ISSUED_NOTICE_CHOICES = [
    ("shopify", "Shopify tells the customer"),
    ("email", "Boomerang emails the customer"),
]


class IssuingSettingsForm(BaseForm):
    """Where exchanges are issued and who tells the customer that something was issued."""

    exchange_mode = RadioField("How are exchanges sent?", choices=EXCHANGE_MODE_CHOICES, validate_choice=False,
                               validators=[InputRequired("Choose how exchanges are sent.")])
    issued_notice = RadioField("Who tells the customer that their refund, credit or exchange was issued?",
                               choices=ISSUED_NOTICE_CHOICES, validate_choice=False,
                               validators=[InputRequired("Choose who tells the customer.")])

    def validate_exchange_mode(self, field):
        """One of the listed modes (RadioField's own check would only say "Not a valid choice")."""
        if field.data not in dict(EXCHANGE_MODE_CHOICES):
            raise ValidationError("Choose one of the two ways to send exchanges.")

    def validate_issued_notice(self, field):
        """One of the listed choices."""
        if field.data not in dict(ISSUED_NOTICE_CHOICES):
            raise ValidationError("Choose Shopify or Boomerang.")


ADDRESS_LINES, LINE_MAX, INSTRUCTIONS_MAX = 8, 120, 1000


def _trimmed_lines(text: str | None) -> list[str]:
    """Each line with its surrounding spaces trimmed, blank ones kept (they may separate parts)."""
    return [line.strip() for line in (text or "").splitlines()]


class ReturnAddressForm(BaseForm):
    """The return address (empty: the shop's own) and instructions for the shopper."""

    return_address = TextAreaField("Return address", validators=[plain_lines],
                                   render_kw={"rows": 5, "autocomplete": "off"})
    return_instructions = TextAreaField("Instructions for the shopper", validators=[plain_lines],
                                        render_kw={"rows": 4})

    def validate_return_address(self, field):
        """At most 8 lines of at most 120 characters (a label holds no more)."""
        lines = [line for line in _trimmed_lines(field.data) if line]
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
        return "\n".join(line for line in _trimmed_lines(self.return_address.data) if line)

    def instructions(self) -> str:
        """The instructions, each line trimmed, blank lines at either end dropped."""
        return "\n".join(_trimmed_lines(self.return_instructions.data)).strip("\n")


class FeesSettingsForm(BaseForm):
    """Restocking fees per reason and a flat return shipping fee (app.domain.fees)."""

    restocking_fees = TextAreaField("Restocking fees (one reason per line, e.g. “Changed my mind: 10”)",
                                    validators=[plain_lines], render_kw={"rows": 4})
    return_shipping_fee = StringField("Return shipping fee", filters=[strip_spaces], validators=[plain_text],
                                      render_kw={"inputmode": "decimal", "autocomplete": "off"})

    def validate_restocking_fees(self, field):
        """Each line names one of the reasons on this form and a percentage."""
        try:
            fees.parse_percentage_lines(field.data, self.reasons())
        except fees.FeeRefused as refused:
            raise ValidationError(str(refused)) from None

    def validate_return_shipping_fee(self, field):
        """An amount in digits, or blank."""
        try:
            fees.parse_shipping_fee(field.data)
        except fees.FeeRefused as refused:
            raise ValidationError(str(refused)) from None

    def fee_percentages(self) -> dict[str, str]:
        """The restocking fees by reason (a validated form)."""
        return fees.parse_percentage_lines(self.restocking_fees.data, self.reasons())

    def shipping_fee(self):
        """The return shipping fee, or None (a validated form)."""
        return fees.parse_shipping_fee(self.return_shipping_fee.data)


class BonusSettingsForm(BaseForm):
    """Extra value for choosing a credit note or an exchange instead of a refund (app.domain.bonus)."""

    credit_bonus = StringField("Bonus for choosing a credit note", filters=[strip_spaces], validators=[plain_text],
                               render_kw={"autocomplete": "off", "placeholder": "e.g. 10% or 5.00"})
    exchange_bonus = StringField("Bonus for choosing an exchange", filters=[strip_spaces], validators=[plain_text],
                                 render_kw={"autocomplete": "off", "placeholder": "e.g. 10% or 5.00"})

    def validate_credit_bonus(self, field):
        """A percentage, an amount, or blank."""
        _check_bonus(field)

    def validate_exchange_bonus(self, field):
        """A percentage, an amount, or blank."""
        _check_bonus(field)

    def bonuses(self) -> dict:
        """The account attributes the two fields set (a validated form): "10%", "5.00" or None."""
        found = {name: bonus.parse_bonus(getattr(self, name).data) for name in ("credit_bonus", "exchange_bonus")}
        return {name: value.stored() if value else None for name, value in found.items()}


def _check_bonus(field) -> None:
    try:
        bonus.parse_bonus(field.data)
    except bonus.BonusRefused as refused:
        raise ValidationError(str(refused)) from None


class ExportSettingsForm(BaseForm):
    """Who may download the returns list as CSV (admins always)."""

    staff_may_export = BooleanField("Staff may export returns")


def email_field_name(kind: EmailKind) -> str:
    """The settings form's checkbox for one kind of shopper email."""
    return f"email_{kind.value}"


class ShopperEmailsForm(BaseForm):
    """One checkbox per kind of shopper email: ticked, the shop sends it."""

    def emails_off(self) -> list[str]:
        """The kinds left unticked (Account.shopper_emails_off), in the vocabulary's order."""
        return [kind.value for kind in EmailKind if not getattr(self, email_field_name(kind)).data]

    def email_fields(self) -> list:
        """(kind, its checkbox), in the vocabulary's order, for the settings page."""
        return [(kind, getattr(self, email_field_name(kind))) for kind in EmailKind]


for _kind in EmailKind:
    setattr(ShopperEmailsForm, email_field_name(_kind), BooleanField(_kind.label))


class SettingsForm(GeneralSettingsForm, ReturnsSettingsForm, FeesSettingsForm, ReturnAddressForm, ReturnActionForm,
                   IssuingSettingsForm, BonusSettingsForm, ExportSettingsForm, ShopperEmailsForm):
    """The whole settings page as one form with one Save: a change in one section is never lost
    by saving another, and a refusal anywhere keeps everything typed everywhere."""

"""The prepaid label settings form (admin): provider and key, when labels are bought, who pays,
the parcel's default weight and the structured address labels send parcels to."""
import re
from decimal import Decimal

from wtforms import PasswordField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from app.domain.vocabulary import LabelIssueOn, LabelProvider
from app.forms import BaseForm, plain_text, strip_spaces

# Amounts as people type them: ASCII digits (Decimal would also take "²", full-width digits, an
# exponent or "NaN"), at most two decimals, a point or a comma.
WEIGHT = re.compile(r"^[0-9]{1,4}(?:[.,][0-9]{1,2})?$", re.ASCII)
COUNTRY = re.compile(r"^[A-Za-z]{2}$", re.ASCII)
WEIGHT_MAX = Decimal("2400")  # 150 lb in ounces: more than any parcel carrier takes
ADDRESS_FIELDS = ("name", "company", "street1", "street2", "city", "state", "zip", "country", "phone")
ADDRESS_NEEDED = ("street1", "city", "zip", "country")


def _line(label: str, max_length: int = 100, **kwargs) -> StringField:
    return StringField(label, filters=[strip_spaces], validators=[
        Optional(), plain_text, Length(max=max_length, message=f"Use at most {max_length} characters.")], **kwargs)


class LabelSettingsForm(BaseForm):
    """Every label setting, saved together."""

    provider = SelectField("Label provider", choices=LabelProvider.choices(), default="")
    api_key = PasswordField("API key", filters=[strip_spaces], validators=[
        Optional(), plain_text, Length(max=200, message="Use at most 200 characters.")],
        render_kw={"autocomplete": "off"})
    issue_on = RadioField("When is the label bought?", choices=LabelIssueOn.choices(), default="submission",
                          validators=[InputRequired("Choose when the label is bought.")])
    weight_oz = StringField("Parcel weight (ounces)", filters=[strip_spaces], validators=[
        InputRequired("Enter the usual parcel's weight in ounces, e.g. 16."), plain_text,
        Length(max=8, message="Enter the weight in ounces, e.g. 16."),
        Regexp(WEIGHT, message="Enter the weight in ounces, e.g. 16.")], default="16")
    carrier = _line("Carrier (optional)", 64)
    name = _line("Name on the parcel")
    company = _line("Company")
    street1 = _line("Street address")
    street2 = _line("Apartment, suite, floor")
    city = _line("City")
    state = _line("State or province code", 32)
    zip = _line("Postal code", 20)
    country = StringField("Country code", filters=[strip_spaces], validators=[
        Optional(), plain_text, Regexp(COUNTRY, message="Use the two-letter country code, e.g. US.")])
    phone = _line("Phone", 32)

    def weight(self) -> Decimal:
        """The weight typed, as Decimal."""
        return Decimal(self.weight_oz.data.replace(",", "."))

    def ship_to(self) -> dict:
        """The structured address (country upper-cased)."""
        address = {key: (getattr(self, key).data or "") for key in ADDRESS_FIELDS}
        address["country"] = address["country"].upper()
        return address

    def check(self, key_stored: bool) -> bool:
        """The rules between fields (each refusal goes next to its field); True when all hold."""
        ok = True
        if self.provider.data:
            if not self.api_key.data and not key_stored:
                self.api_key.errors = [*self.api_key.errors, "Enter the provider's API key."]
                ok = False
            for key in ADDRESS_NEEDED:
                field = getattr(self, key)
                if not field.data and not field.errors:
                    field.errors = [*field.errors, f"Enter the {field.label.text.lower()}: labels need it."]
                    ok = False
        if self.weight_oz.data and not self.weight_oz.errors and not Decimal("0.1") <= self.weight() <= WEIGHT_MAX:
            self.weight_oz.errors = [*self.weight_oz.errors, f"Enter between 0.1 and {WEIGHT_MAX} ounces."]
            ok = False
        return ok

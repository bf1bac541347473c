"""Dashboard forms: staff and general settings."""
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, SelectField, StringField, URLField
from app.forms import strip_spaces
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp, URL


class StaffForm(FlaskForm):
    """Add a login to the account."""

    name = StringField("Name", validators=[Optional(), Length(max=120)])
    email = EmailField("Email", filters=[strip_spaces], validators=[
        DataRequired("Enter their email address."), Length(max=254),
        Email("Enter a valid email address.", check_deliverability=False),
    ])
    password = PasswordField("Temporary password", validators=[
        DataRequired("Choose a temporary password."), Length(max=128),
    ])
    role = SelectField("Role", choices=[("staff", "Staff — works the returns"),
                                        ("admin", "Admin — also settings, rules and staff")],
                       default="staff")


class RemoveStaffForm(FlaskForm):
    """Only the CSRF token; the user id is in the URL."""


class GeneralSettingsForm(FlaskForm):
    """Store name, portal branding and the windows that apply to every return."""

    name = StringField("Store name", validators=[DataRequired("Enter the store's name."), Length(max=120)])
    return_window_days = IntegerField("Return window (days after the order)", validators=[
        InputRequired("Enter a number of days."), NumberRange(1, 365, "Choose between 1 and 365 days."),
    ])
    order_storage_months = IntegerField("Keep order data for (months)", validators=[
        InputRequired("Enter a number of months."), NumberRange(1, 24, "Choose between 1 and 24 months."),
    ])
    logo_url = URLField("Portal logo URL", validators=[
        Optional(), Length(max=500), URL(require_tld=False, message="Enter a full https:// address."),
    ])
    primary_color = StringField("Portal colour", validators=[
        DataRequired("Choose a colour."),
        Regexp(r"^#[0-9a-fA-F]{6}$", message="Use a colour like #1f6feb."),
    ])

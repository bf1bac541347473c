"""Sign-up and login forms."""
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.forms import BaseForm, plain_text, storable_text, strip_spaces


class SignupForm(BaseForm):
    """A new retailer: the store's name and the admin's login."""

    store_name = StringField("Store name", validators=[DataRequired("Enter your store's name."), Length(max=120),
                                                       plain_text])
    email = EmailField("Email", filters=[strip_spaces], validators=[
        DataRequired("Enter your email address."),
        Length(max=254, message="That email address is too long."), plain_text,
        Email("Enter a valid email address.", check_deliverability=False),
    ])
    password = PasswordField("Password", validators=[
        DataRequired("Choose a password."), Length(max=128, message="Use at most 128 characters."),
    ])
    confirm = PasswordField("Repeat password", validators=[
        DataRequired("Repeat your password."), EqualTo("password", "The two passwords differ."),
    ])


class LoginForm(BaseForm):
    """Email and password."""

    email = EmailField("Email", filters=[strip_spaces], validators=[
        DataRequired("Enter your email address."), Length(max=254), storable_text])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=128)])
    remember = BooleanField("Keep me logged in on this device")

"""Helpers shared by the forms of every blueprint."""
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms.csrf.core import CSRFTokenField


def strip_spaces(value):
    """A WTForms filter: people paste addresses with spaces around them."""
    return value.strip() if isinstance(value, str) else value


class _CSRFFieldWithoutId(CSRFTokenField):
    """The hidden CSRF input with no ``id``: a page holds several forms, and WTForms would give each
    one ``id="csrf_token"`` (ids must be unique; nothing refers to this one)."""

    def __call__(self, **kwargs):
        kwargs["id"] = False  # html_params leaves out attributes whose value is False
        return super().__call__(**kwargs)


class _CSRF(_FlaskFormCSRF):
    field_class = _CSRFFieldWithoutId


class BaseForm(FlaskForm):
    """Every form of the app: Flask-WTF's form whose CSRF field renders without an id."""

    class Meta(FlaskForm.Meta):
        csrf_class = _CSRF

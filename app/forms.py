"""Helpers shared by the forms of every blueprint."""
import unicodedata

from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms.csrf.core import CSRFTokenField
from wtforms.validators import StopValidation

from app.i18n import gettext
from app.text import UNSTORABLE_TEXT


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


# Characters no person types: control characters (NUL …), lone surrogates, private use, unassigned.
_UNTYPABLE = frozenset(("Cc", "Cs", "Co", "Cn"))


def typed_only(text: str, keep: str = "") -> str:
    """`text` without characters no person types (those above, and U+FFFD, which stands for bytes
    that were not UTF-8); the characters in `keep` (e.g. a line break) stay."""
    return "".join(c for c in text if c in keep or (unicodedata.category(c) not in _UNTYPABLE and c != "\ufffd"))


def _unusual_characters_removed(field, allowed: str = "") -> None:
    """Refuse characters no person types: control characters (NUL …) other than `allowed`, lone
    surrogates, private use, unassigned code points, and U+FFFD, which stands for bytes that were
    not UTF-8."""
    text = field.data or ""
    kept = typed_only(text, keep=allowed)
    if kept != text:
        field.data = kept  # shown again without them: a page never echoes a NUL or a surrogate
        raise StopValidation(gettext("Use letters, digits and punctuation only."))


def plain_text(form, field):
    """A one-line field holds only characters a person types (see _unusual_characters_removed)."""
    _unusual_characters_removed(field)


def storable_text(form, field):
    """For a value that is only looked up, never kept (a login's email, the portal lookup's order
    number and email): refuse just what no database text column takes, a NUL (PostgreSQL refuses
    it) or a lone surrogate (UTF-8 cannot hold one), so that anything else is looked up, and
    counted as a failure, like any other."""
    if field.data and UNSTORABLE_TEXT.search(field.data):
        raise StopValidation(gettext("Use letters, digits and punctuation only."))


def plain_lines(form, field):
    """plain_text for a field of several lines: line breaks and tabs are typed too."""
    _unusual_characters_removed(field, "\r\n\t")

"""Marking Python strings for translation: ``gettext("Your return %(rma)s", rma=...)``.

Until Flask-Babel is installed every message is returned as written (its placeholders filled);
Flask-Babel's ``gettext``, which takes the same calls, replaces this module. Templates get ``_``
from app/templating.py (install_translations).
"""


def gettext(message: str, **values) -> str:
    """``message`` in the reader's language (as written, for now), ``%(name)s`` placeholders filled."""
    return message % values if values else message


def N_(message: str) -> str:  # noqa: N802 - the name message extractors look for (Babel's default keywords)
    """Mark a message for extraction where it is defined (a table of subjects); ``gettext`` translates
    it where it is used."""
    return message

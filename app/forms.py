"""Helpers shared by the forms of every blueprint."""
import unicodedata


def strip_spaces(value):
    """A WTForms filter: people paste addresses with spaces around them."""
    return value.strip() if isinstance(value, str) else value


# Characters no person types: control characters (NUL …), lone surrogates, private use, unassigned.
_UNTYPABLE = frozenset(("Cc", "Cs", "Co", "Cn"))


def typed_only(text: str, keep: str = "") -> str:
    """`text` without characters no person types (those above, and U+FFFD, which stands for bytes
    that were not UTF-8); the characters in `keep` (e.g. a line break) stay."""
    return "".join(c for c in text if c in keep or (unicodedata.category(c) not in _UNTYPABLE and c != "\ufffd"))

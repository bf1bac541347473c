"""Text as a database can store it: both SQLite and PostgreSQL, the same way.

PostgreSQL refuses NUL in text and JSONB, and neither driver can encode a lone surrogate (which a
JSON body may carry as an escape such as ``"\\ud83d"``, half of a cut emoji). Such text is
stored with NUL dropped and each lone surrogate replaced by U+FFFD, on both configurations.
"""
from __future__ import annotations

import re

# What no text column takes: a NUL (PostgreSQL refuses it) or a lone surrogate (UTF-8 cannot hold one).
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def _replace(match: re.Match) -> str:
    return "" if match.group() == "\x00" else "\ufffd"


def clean_text(value: str) -> str:
    """The text without NUL, and with U+FFFD for each lone surrogate (unchanged when it has neither)."""
    return UNSTORABLE_TEXT.sub(_replace, value) if UNSTORABLE_TEXT.search(value) else value


def fit_text(value: str | None, width: int | None) -> str | None:
    """``clean_text`` cut to at most ``width`` characters (None: no limit); None stays None."""
    if value is None:
        return None
    value = clean_text(value)
    return value if width is None or len(value) <= width else value[:width]


def clean_json(value):
    """A JSON value (dicts, lists, scalars) with every string in it, keys too, ``clean_text``-ed."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean_json(item) for item in value)
    return value

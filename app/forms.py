"""Helpers shared by the forms of every blueprint."""


def strip_spaces(value):
    """A WTForms filter: people paste addresses with spaces around them."""
    return value.strip() if isinstance(value, str) else value

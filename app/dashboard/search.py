"""Pieces the dashboard's search boxes share."""
import re

# "#1001" or "1001": an order number, matched exactly rather than as a substring.
ORDER_NUMBER = re.compile(r"^#?(\d{1,15})$")


def like_escape(text: str) -> str:
    """Escape LIKE's wildcards (use with escape="\\"), so a typed % or _ matches itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def check_date_range(form, ok: bool) -> bool:
    """A form's date_from/date_to in words a person can act on: a malformed date names the
    format, and an end before the start is refused. Returns whether the form is still valid."""
    for field in (form.date_from, form.date_to):
        # strptime reads other scripts' digits too ("٢٠٢٦"): a date here is written in ASCII.
        if field.errors or (field.raw_data and not str(field.raw_data[0]).isascii()):
            field.errors, field.data, ok = ["Enter a date like 2026-03-31."], None, False
    if ok and form.date_from.data and form.date_to.data and form.date_to.data < form.date_from.data:
        form.date_to.errors = ["Choose a date on or after the first one."]
        return False
    return ok

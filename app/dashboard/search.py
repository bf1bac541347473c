"""Pieces the dashboard's search boxes share."""
import re
from datetime import date

# "#1001" or "1001": an order number, matched exactly rather than as a substring.
ORDER_NUMBER = re.compile(r"^#?(\d{1,15})$")


def like_escape(text: str) -> str:
    """Escape LIKE's wildcards (use with escape="\\"), so a typed % or _ matches itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Filter dates a shop can hold: the day after 9999-12-31 is past what Python (and the query)
# can count to, and no Shopify order predates 2000.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


def check_date_range(form, ok: bool) -> bool:
    """A form's date_from/date_to in words a person can act on: a malformed date names the
    format, one outside EARLIEST…LATEST the years, and an end before the start is refused.
    Returns whether the form is still valid."""
    for field in (form.date_from, form.date_to):
        # strptime reads other scripts' digits too ("٢٠٢٦"): a date here is written in ASCII.
        if field.errors or (field.raw_data and not str(field.raw_data[0]).isascii()):
            field.errors, field.data, ok = ["Enter a date like 2026-03-31."], None, False
        elif field.data and not EARLIEST <= field.data <= LATEST:
            field.errors, field.data, ok = [f"Enter a date between {EARLIEST.year} and {LATEST.year}."], None, False
    if ok and form.date_from.data and form.date_to.data and form.date_to.data < form.date_from.data:
        form.date_to.errors = ["Choose a date on or after the first one."]
        return False
    return ok

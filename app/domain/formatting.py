"""How dates, times and money read on a page, in an email or in a return's history: the one place
they are formatted for people. Templates reach these through the `|date`, `|datetime` and
`|money` filters (app/templating.py), Python through the functions. Pure, and in the domain so
that the domain's own sentences ("Return by 3 January 2027") use the same formats.

Machine formats (ISO dates in forms and `datetime` attributes, Shopify's API, CSV) are not here.
Times are shown as stored, in UTC; a style whose name ends in "utc" says so on the page.
"""
from datetime import date, datetime
from decimal import Decimal

DATE_STYLES = {
    "short": "%-d %b %Y",    # 3 Jan 2027
    "long": "%-d %B %Y",     # 3 January 2027: what the shopper reads
    "padded": "%d %b %Y",    # 03 Jan 2027: the dry run's list of recent returns
}
DATETIME_STYLES = {
    "short": "%-d %b %Y, %H:%M",        # 3 Jan 2027, 14:05
    "utc": "%-d %b %Y, %H:%M UTC",      # 3 Jan 2027, 14:05 UTC
    "numeric_utc": "%Y-%m-%d %H:%M UTC",  # 2027-01-03 14:05 UTC: logs of deliveries and requests
}


def format_date(moment: date | datetime, style: str = "short") -> str:
    """A day as people read it, in one of DATE_STYLES."""
    return moment.strftime(DATE_STYLES[style])


def format_datetime(moment: datetime, style: str = "short") -> str:
    """A moment as people read it, in one of DATETIME_STYLES."""
    return moment.strftime(DATETIME_STYLES[style])


def format_money(amount, currency: str | None = None, exact: bool = False) -> str:
    """An amount to two places ("24.50 EUR"; "24.50" without a currency), rounded as Decimal
    rounds (half to even), never through binary floating point. `exact` shows every place the
    amount has (a stored amount keeps up to four: "3.3333 EUR") instead of rounding it."""
    text = str(amount) if exact else f"{Decimal(amount):.2f}"
    return f"{text} {currency}" if currency is not None else text


def format_percent(value) -> str:
    """A percentage without trailing zeros: 10.00 → "10", 12.50 → "12.5"."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

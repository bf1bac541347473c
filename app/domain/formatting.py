"""How dates, times and money read on a page, in an email or in a return's history: the one place
they are formatted for people. Templates reach these through the `|date`, `|datetime` and
`|money` filters (app/templating.py), Python through the functions. Pure, and in the domain so
that the domain's own sentences ("Return by 3 January 2027") use the same formats.

Machine formats (ISO dates in forms and `datetime` attributes, Shopify's API, CSV) are not here.
Times are shown as stored, in UTC; a style whose name ends in "utc" says so on the page.

English (the dashboard, and the portal in English) keeps Boomerang's own formats below. Given
another `locale` ("de", "fr", "es": the portal and its emails in the shopper's language), money
and dates follow that language's conventions through Babel's CLDR data ("12,30 €", "3. Januar
2027"); Babel is a plain library (no Flask), so the domain stays pure.
"""
from datetime import date, datetime
from decimal import Decimal

from babel import dates as babel_dates
from babel import numbers as babel_numbers

ENGLISH = (None, "", "en")
# The CLDR pattern each style becomes in another language (Babel's "long"/"medium" dates).
BABEL_DATE_STYLES = {"short": "medium", "long": "long", "padded": "medium"}
BABEL_DATETIME_STYLES = {"short": "medium", "utc": "medium", "numeric_utc": "short"}  # the day part

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


def format_date(moment: date | datetime, style: str = "short", locale: str | None = None) -> str:
    """A day as people read it, in one of DATE_STYLES (in `locale`'s own way when not English)."""
    if locale not in ENGLISH:
        return babel_dates.format_date(moment, BABEL_DATE_STYLES[style], locale=locale)
    return moment.strftime(DATE_STYLES[style])


def format_datetime(moment: datetime, style: str = "short", locale: str | None = None) -> str:
    """A moment as people read it, in one of DATETIME_STYLES (in `locale`'s way when not English;
    still in UTC, which a "utc" style says)."""
    if locale not in ENGLISH:
        day = babel_dates.format_date(moment, BABEL_DATETIME_STYLES[style], locale=locale)
        text = f"{day}, {moment.strftime('%H:%M')}"  # 24-hour minutes read the same in fr, de and es
        return f"{text} UTC" if style.endswith("utc") else text
    return moment.strftime(DATETIME_STYLES[style])


def format_money(amount, currency: str | None = None, exact: bool = False, locale: str | None = None) -> str:
    """An amount to two places ("24.50 EUR"; "24.50" without a currency), rounded as Decimal
    rounds (half to even), never through binary floating point. `exact` shows every place the
    amount has (a stored amount keeps up to four: "3.3333 EUR") instead of rounding it. In another
    `locale`, that language's way with the same digits: "12,30 €" in German."""
    if locale not in ENGLISH:
        value = Decimal(amount) if exact else Decimal(amount).quantize(Decimal("0.01"))
        if currency is None:
            return babel_numbers.format_decimal(value, format="#,##0.00##########", locale=locale)
        # Exact: every stored place, however many the currency usually shows.
        return babel_numbers.format_currency(value, currency, locale=locale, currency_digits=not exact,
                                             decimal_quantization=not exact)
    text = str(amount) if exact else f"{Decimal(amount):.2f}"
    return f"{text} {currency}" if currency is not None else text


def format_percent(value) -> str:
    """A percentage without trailing zeros: 10.00 → "10", 12.50 → "12.5"."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

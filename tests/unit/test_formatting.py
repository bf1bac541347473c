"""Dates, times and money as people read them: one function per kind, one name per style, and
the `|date`, `|datetime` and `|money` filters that templates use."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from flask import Flask, render_template_string

from app import templating
from app.domain.formatting import format_date, format_datetime, format_money
from app.domain.return_window import format_day

MOMENT = datetime(2027, 1, 3, 14, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("kind, style, shown", [
    (format_date, "short", "3 Jan 2027"),
    (format_date, "long", "3 January 2027"),
    (format_date, "padded", "03 Jan 2027"),
    (format_datetime, "short", "3 Jan 2027, 14:05"),
    (format_datetime, "utc", "3 Jan 2027, 14:05 UTC"),
    (format_datetime, "numeric_utc", "2027-01-03 14:05 UTC"),
])
def test_each_style_reads_as_named(kind, style, shown):
    assert kind(MOMENT, style) == shown
    if kind is format_date:
        assert format_date(MOMENT.date(), style) == shown  # a day and a moment read alike


def test_the_shoppers_deadline_is_the_long_date():
    assert format_day(date(2027, 1, 3)) == format_date(date(2027, 1, 3), "long") == "3 January 2027"


def test_an_unknown_style_is_a_mistake_not_a_guess():
    with pytest.raises(KeyError):
        format_date(MOMENT, "medium")


@pytest.mark.parametrize("amount, currency, shown", [
    (Decimal("24.5"), "EUR", "24.50 EUR"),
    (Decimal("3.3333"), "USD", "3.33 USD"),
    (Decimal("0.125"), "USD", "0.12 USD"),   # half to even, as Decimal rounds
    (Decimal("1.015"), "USD", "1.02 USD"),   # exactly, not through a float (1.0149999…)
    (7, "GBP", "7.00 GBP"),
    (Decimal("40"), None, "40.00"),
])
def test_money_reads_to_two_places(amount, currency, shown):
    assert format_money(amount, currency) == shown


def test_exact_money_keeps_every_place_stored():
    assert format_money(Decimal("3.3333"), "USD", exact=True) == "3.3333 USD"
    assert format_money(Decimal("12.50"), exact=True) == "12.50"


def test_the_filters_are_the_functions():
    app = Flask(__name__)
    templating.init_app(app)
    with app.test_request_context():
        shown = render_template_string(
            "{{ m | date }} · {{ m | date('long') }} · {{ m | datetime }} · {{ m | datetime('utc') }} · "
            "{{ a | money('EUR') }} · {{ a | money(exact=True) }}", m=MOMENT, a=Decimal("9.9950"))
    assert shown == "3 Jan 2027 · 3 January 2027 · 3 Jan 2027, 14:05 · 3 Jan 2027, 14:05 UTC · 10.00 EUR · 9.9950"

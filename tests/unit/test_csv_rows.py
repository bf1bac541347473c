"""The exports' cells: text neutralised against spreadsheet formulas, money as exact Decimal text,
times in ISO 8601 UTC, and a row's columns from plain values."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.domain import csv_rows
from app.domain.csv_rows import INT, MONEY, TEXT, WHEN, cell, money_text, neutralised


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","x")', "+1", "-2+3", "@SUM(A1)", "\tcmd",
                                  "\rcmd", "=", "-"])
def test_formula_starts_get_a_single_quote(text):
    assert neutralised(text) == "'" + text
    assert cell(TEXT, text) == "'" + text


@pytest.mark.parametrize("text", ["Pat O'Brien", "Too small", " =not first", "a=b", "12.30", "", "Zoë", "'quoted"])
def test_other_text_is_left_as_it_is(text):
    assert neutralised(text) == text


def test_a_nul_is_dropped_before_the_check():
    assert neutralised("\x00=1+1") == "'=1+1"


@pytest.mark.parametrize("amount, text", [
    (Decimal("0.10") + Decimal("0.20"), "0.30"), (Decimal("12.3"), "12.30"), (Decimal("-12.30"), "-12.30"),
    (Decimal("100"), "100.00"), (Decimal("1E+2"), "100.00"), (Decimal("1.2345"), "1.2345"), (Decimal("0"), "0.00"),
    (Decimal("12345678901234.5"), "12345678901234.50"), (Decimal("-0.05"), "-0.05"),
])
def test_money_is_exact_plain_digits_never_neutralised(amount, text):
    assert money_text(amount) == text
    assert cell(MONEY, amount) == text


@pytest.mark.parametrize("value", [0.1, 12, "12.30", Decimal("NaN"), Decimal("Infinity")])
def test_money_that_is_not_a_finite_decimal_is_refused(value):
    with pytest.raises(TypeError):
        money_text(value)


def test_sums_are_exact():
    assert csv_rows.total([Decimal("0.10"), None, Decimal("0.20")]) == Decimal("0.30")
    assert money_text(csv_rows.total([Decimal("0.10")] * 10)) == "1.00"
    assert csv_rows.total([None, None]) is None


def test_times_are_iso_8601_utc_and_naive_ones_refused():
    paris = timezone(timedelta(hours=1))
    assert cell(WHEN, datetime(2026, 3, 31, 15, 5, 9, 999, tzinfo=paris)) == "2026-03-31T14:05:09Z"
    with pytest.raises(ValueError):
        cell(WHEN, datetime(2026, 3, 31, 15, 5))


def test_ids_are_digits_and_none_is_an_empty_cell():
    assert cell(INT, 5_000_000_000_001) == "5000000000001"
    assert cell(MONEY, None) == cell(TEXT, None) == cell(WHEN, None) == ""
    with pytest.raises(TypeError):
        cell(INT, True)


def _item(**fields) -> dict:
    base = {key: None for key in ("option", "reason", "resolution", "issued_amount", "outside_refund_amount",
                                  "bonus_amount", "shopify_refund_id", "shopify_gift_card_id", "bonus_gift_card_id",
                                  "exchange_order_name", "exchange_order_id", "keep_item")}
    return {**base, "quantity": 1, "unit_value": Decimal("1.00"), **fields}


def test_a_returns_row_sums_its_items_and_joins_its_ids():
    items = [_item(option="refund", reason="=cmd", unit_value=Decimal("0.10"), quantity=3,
                   issued_amount=Decimal("0.30"), shopify_refund_id=81),
             _item(option="credit", reason="=cmd", unit_value=Decimal("0.20"), shopify_gift_card_id=91,
                   bonus_gift_card_id=92, bonus_amount=Decimal("1.2345"), exchange_order_name="#1001-EX")]
    values = csv_rows.return_values({"rma_number": "R-1", "customer_name": "-Pat"}, items, [71, 72],
                                    {"carrier": "USPS", "state": "BOUGHT", "cost": Decimal("7.1"), "currency": "USD"})
    row = dict(zip(csv_rows.header(csv_rows.RETURN_COLUMNS), csv_rows.row(csv_rows.RETURN_COLUMNS, values),
                   strict=True))
    assert row["Customer name"] == "'-Pat" and row["Reasons"] == "'=cmd"
    assert (row["Items"], row["Units"], row["Returned value"], row["Issued"]) == ("2", "4", "0.50", "0.30")
    assert row["Bonus credit"] == "1.2345" and row["Label cost"] == "7.10"
    assert row["Shopify return IDs"] == "71; 72" and row["Shopify gift card IDs"] == "91; 92"
    assert row["Options"] == "refund; credit" and row["Exchange orders"] == "#1001-EX"
    assert row["Refunded outside Shopify"] == "" and row["Closed (UTC)"] == ""


def test_an_items_row_has_its_own_value_and_its_shopify_return():
    values = csv_rows.item_values({"rma_number": "R-1", "currency": "EUR"},
                                  _item(unit_value=Decimal("19.99"), quantity=3, keep_item=True), 71)
    row = dict(zip(csv_rows.header(csv_rows.ITEM_COLUMNS), csv_rows.row(csv_rows.ITEM_COLUMNS, values), strict=True))
    assert (row["Value"], row["Unit value"], row["Currency"]) == ("59.97", "19.99", "EUR")
    assert row["Shopify return ID"] == "71" and row["Customer keeps the item"] == "yes"

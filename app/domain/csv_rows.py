"""The returns exports' rows: which columns a CSV has and how each value is written as a cell.

Plain values in (dicts of stored values), lists of strings out; the query and the streaming are
`app.services.exports`. What a cell may hold, and why:

- **Text the app did not write** (a customer's name, a reason, a title, a SKU, a note) is
  neutralised for spreadsheets: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return gets a single quote in front, so Excel, LibreOffice and Google Sheets show it as
  text instead of running it as a formula (OWASP, "CSV Injection":
  https://owasp.org/www-community/attacks/CSV_Injection). Every text column is treated so, even
  ones that today only hold our own words (a status), so a column never depends on who wrote it.
- **Money** is only ever a ``Decimal`` the app stored, written by us as exact plain digits
  (``-12.30``, ``0.30``, never ``1E+2``, never a float, no thousands separator or currency sign):
  it is not neutralised, so a negative amount stays a number the spreadsheet can add up. A value
  that is not a Decimal is refused rather than written.
- **Ids and counts** are integers written as digits (Shopify's numeric ids, as stored: the GraphQL
  id is ``gid://shopify/<Type>/<that number>``).
- **Times** are ISO 8601 in UTC with a ``Z`` (``2026-03-31T14:05:09Z``).
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

# OWASP's list: the characters a spreadsheet reads as the start of a formula (tab and CR too,
# which some spreadsheets skip before looking for one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT, MONEY, INT, WHEN = "text", "money", "int", "when"
_CENT = Decimal("0.01")


def neutralised(text: str) -> str:
    """Text as a cell no spreadsheet runs as a formula: a single quote before a formula start
    (NUL, which no spreadsheet shows and some CSV readers refuse, is dropped)."""
    text = text.replace("\x00", "")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def money_text(amount: Decimal) -> str:
    """An exact amount as plain digits with at least two decimal places ("12.30", "-0.05",
    "1.2345"); never scientific notation, never a float."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError(f"money must be a finite Decimal, not {amount!r}")
    if amount.as_tuple().exponent > -2:
        amount = amount.quantize(_CENT)
    return format(amount, "f")


def when_text(moment: datetime) -> str:
    """A timezone-aware moment in ISO 8601, UTC, to the second."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: its zone is unknown")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_text(value) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"an id or count must be an int, not {value!r}")
    return str(value)


def _text(value) -> str:
    return neutralised(str(value))


_FORMATS = {TEXT: _text, MONEY: money_text, INT: _int_text, WHEN: when_text}


def cell(kind: str, value) -> str:
    """One value as the text of its cell; None (nothing stored) is an empty cell."""
    return "" if value is None else _FORMATS[kind](value)


@dataclass(frozen=True)
class Column:
    """One column: the key of its value in a row's dict, its header and its kind."""

    key: str
    header: str
    kind: str = TEXT


def header(columns: tuple[Column, ...]) -> list[str]:
    """The header row."""
    return [column.header for column in columns]


def row(columns: tuple[Column, ...], values: dict) -> list[str]:
    """One row's cells, in the columns' order (a key missing from `values` is an empty cell)."""
    # The formatter looked up once per cell, not through `cell`: a 100,000-row export calls this
    # millions of times.
    return ["" if (value := values.get(column.key)) is None else _FORMATS[column.kind](value)
            for column in columns]


def total(amounts) -> Decimal | None:
    """The exact sum of the amounts that are stored (None when none is)."""
    present = [amount for amount in amounts if amount is not None]
    return sum(present, Decimal(0)) if present else None


def joined(values) -> str | None:
    """Distinct stored values in first-seen order, separated by "; " (None when there are none)."""
    seen = list(dict.fromkeys(str(v) for v in values if v is not None and v != ""))
    return "; ".join(seen) if seen else None


_ORDER = (Column("order_name", "Order"),
          Column("shopify_order_id", "Shopify order ID", INT),
          Column("customer_name", "Customer name"),
          Column("customer_email", "Customer email"),
          Column("currency", "Currency"))
_TRACKING = (Column("tracking_number", "Tracking number"),
             Column("tracking_provider", "Tracking provider"),
             Column("tracking_state", "Carrier status"))

RETURN_COLUMNS = (
    Column("rma_number", "RMA"),
    Column("status", "Status"),
    Column("created_at", "Created (UTC)", WHEN),
    Column("updated_at", "Updated (UTC)", WHEN),
    Column("received_at", "Received (UTC)", WHEN),
    Column("processed_at", "Processed (UTC)", WHEN),
    Column("closed_at", "Closed (UTC)", WHEN),
    Column("cancelled_at", "Cancelled (UTC)", WHEN),
    *_ORDER,
    Column("item_count", "Items", INT),
    Column("units", "Units", INT),
    Column("returned_value", "Returned value", MONEY),
    Column("options", "Options"),
    Column("reasons", "Reasons"),
    Column("issue_states", "Issue states"),
    Column("issued_total", "Issued", MONEY),
    Column("outside_refund_total", "Refunded outside Shopify", MONEY),
    Column("return_shipping_fee", "Return shipping fee", MONEY),
    Column("bonus_total", "Bonus credit", MONEY),
    Column("shopify_return_ids", "Shopify return IDs"),
    Column("refund_ids", "Shopify refund IDs"),
    Column("gift_card_ids", "Shopify gift card IDs"),
    Column("exchange_orders", "Exchange orders"),
    *_TRACKING,
    Column("label_carrier", "Label carrier"),
    Column("label_state", "Label state"),
    Column("label_cost", "Label cost", MONEY),
    Column("label_currency", "Label currency"),
)

ITEM_COLUMNS = (
    Column("rma_number", "RMA"),
    Column("status", "Return status"),
    Column("created_at", "Return created (UTC)", WHEN),
    *_ORDER,
    Column("shopify_line_id", "Shopify line item ID", INT),
    Column("product_id", "Shopify product ID", INT),
    Column("variant_id", "Shopify variant ID", INT),
    Column("sku", "SKU"),
    Column("title", "Title"),
    Column("variant_title", "Variant"),
    Column("quantity", "Quantity", INT),
    Column("unit_value", "Unit value", MONEY),
    Column("line_value", "Value", MONEY),
    Column("reason", "Reason"),
    Column("note", "Customer note"),
    Column("option", "Option"),
    Column("keep_item", "Customer keeps the item"),
    Column("exchange_variant_id", "Exchange variant ID", INT),
    Column("exchange_variant_title", "Exchange variant"),
    Column("resolution", "Issue state"),
    Column("issued_at", "Issued (UTC)", WHEN),
    Column("issued_amount", "Issued amount", MONEY),
    Column("credit_method", "Credit method"),
    Column("shopify_return_id", "Shopify return ID", INT),
    Column("shopify_refund_id", "Shopify refund ID", INT),
    Column("shopify_gift_card_id", "Shopify gift card ID", INT),
    Column("exchange_order_id", "Exchange order ID", INT),
    Column("exchange_order_name", "Exchange order"),
    Column("restocking_fee_percentage", "Restocking fee (%)", MONEY),
    Column("bonus_amount", "Bonus credit", MONEY),
    Column("bonus_gift_card_id", "Bonus gift card ID", INT),
    Column("outside_refund_amount", "Refunded outside Shopify", MONEY),
    Column("outside_refund_method", "Outside refund method"),
    Column("failure_reason", "Failure"),
    *_TRACKING,
)


def return_values(ret: dict, items: list[dict], shopify_return_ids: list[int], label: dict | None) -> dict:
    """A return's row values: its own, its items' summed up and its Shopify returns and label's."""
    return {
        **ret,
        "item_count": len(items),
        "units": sum(item["quantity"] for item in items),
        "returned_value": total(item["unit_value"] * item["quantity"] for item in items),
        "options": joined(item["option"] for item in items),
        "reasons": joined(item["reason"] for item in items),
        "issue_states": joined(item["resolution"] for item in items),
        "issued_total": total(item["issued_amount"] for item in items),
        "outside_refund_total": total(item["outside_refund_amount"] for item in items),
        "bonus_total": total(item["bonus_amount"] for item in items),
        "shopify_return_ids": joined(shopify_return_ids),
        "refund_ids": joined(item["shopify_refund_id"] for item in items),
        "gift_card_ids": joined([*(item["shopify_gift_card_id"] for item in items),
                                 *(item["bonus_gift_card_id"] for item in items)]),
        "exchange_orders": joined(item["exchange_order_name"] or item["exchange_order_id"] for item in items),
        **({"label_carrier": label["carrier"], "label_state": label["state"], "label_cost": label["cost"],
            "label_currency": label["currency"]} if label else {}),
    }


def item_values(ret: dict, item: dict, shopify_return_id: int | None) -> dict:
    """An item's row values: its return's, then its own (an item's key wins)."""
    return {
        **ret, **item,
        "line_value": item["unit_value"] * item["quantity"] if item["unit_value"] is not None else None,
        "keep_item": "yes" if item["keep_item"] else "",
        "shopify_return_id": shopify_return_id,
    }

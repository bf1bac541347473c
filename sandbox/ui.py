"""The sandbox's HTML overview page, its "place an order" button, its "create a return as the
merchant" form and the buttons that settle a pending refund."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from . import apps, calc, fulfillments, issuing, returns
from .control import order_json
from .returns_control import create_as_merchant, settle
from .store import SandboxError

bp = Blueprint("sandbox_ui", __name__, template_folder="templates")


@bp.get("/")
def index():
    """Shops with their apps, subscriptions, recent deliveries and orders."""
    st = current_app.extensions["sandbox"]
    items = []
    with st.lock:
        for shop in st.state["shops"].values():
            installed = apps.of_shop(st.state, shop.domain)
            items.append({
                "shop": shop,
                "apps": [{"name": a.name, "client_id": a.client_id, "scopes": inst.scopes,
                          "installed": inst.installed,
                          "shops": apps.installed_shops(st.state, a.client_id)} for a, inst in installed],
                "app_names": {a.client_id: a.name for a, _inst in installed},
                "subs": [s for s in st.state["subs"].values() if s.shop == shop.domain],
                "deliveries": [d for d in st.state["deliveries"] if d.shop == shop.domain][-15:][::-1],
                "orders": [order_json(shop, o) for o in shop.order_list[-15:][::-1]],
                "issued": issuing.summary(shop),
                "returnable_lines": returnable_lines(shop),
            })
    return render_template("sandbox/index.html", shops=items, now=calc.iso(st.clock.now()),
                           base=request.host_url.rstrip("/"), notice=request.args.get("notice"),
                           notice_ok=request.args.get("ok") == "1")


def returnable_lines(shop, limit: int = 15) -> list:
    """(value, label) of lines of recent orders with units still returnable, for the form."""
    out = []
    for order in shop.order_list[-limit:][::-1]:
        left = returns.returnable(shop, order)
        for idx, ln in enumerate(order.lines):
            units = sum(q for fid, q in left.items() if fulfillments.item_line(fid) == idx)
            if units:
                title = shop.products[ln.product_id].title if ln.product_id in shop.products \
                    else "Custom item"
                out.append((f"{order.id}:{ln.id}", f"#{order.number} {title} "
                                                   f"({units} returnable)"))
    return out


@bp.post("/shops/<shop>/returns")
def create_return(shop: str):
    """Form handler: create a return as the merchant (one line), then back to the page."""
    st = current_app.extensions["sandbox"]
    order_id, _, line_id = (request.form.get("line") or "").partition(":")
    if not order_id or not line_id:
        return redirect(url_for("sandbox_ui.index", notice="Choose a line to return."), code=303)
    try:
        made, errors = create_as_merchant(st, shop, order_id, {"lines": [
            {"line_id": line_id, "quantity": int(request.form.get("quantity") or 1),
             "reason": request.form.get("reason") or "unknown",
             "note": request.form.get("note") or ""}]})
    except (SandboxError, ValueError) as exc:
        return redirect(url_for("sandbox_ui.index", notice=str(exc)), code=303)
    st.save()
    if errors:
        return redirect(url_for("sandbox_ui.index", notice=errors[0]["message"]), code=303)
    return redirect(url_for("sandbox_ui.index", notice=f"Return {made['name']} created.", ok=1), code=303)


@bp.post("/shops/<shop>/place-order")
def place_order(shop: str):
    """Button handler: place one order (delivers orders/create) and go back."""
    st = current_app.extensions["sandbox"]
    st.place_order(shop, email=request.form.get("email") or None)
    st.save()
    return redirect(url_for("sandbox_ui.index"), code=303)


@bp.post("/shops/<shop>/refunds/<int:refund_id>/settle")
def settle_refund(shop: str, refund_id: int):
    """Buttons beside a pending refund: the payment provider paid it, or it failed."""
    st = current_app.extensions["sandbox"]
    try:
        status = settle(st, shop, refund_id, request.form.get("status") or "success")
    except SandboxError as exc:
        return redirect(url_for("sandbox_ui.index", notice=str(exc)), code=303)
    word = "paid" if status == "SUCCESS" else "failed"
    # Back at the return, where the refund's row now says so; the notice at the top says it too.
    return redirect(url_for("sandbox_ui.index", notice=f"Refund {refund_id} marked {word}; the apps were told "
                            "(order_transactions/create, orders/updated).", ok=1,
                            _anchor=f"return-{request.form.get('return_id', '')}"), code=303)

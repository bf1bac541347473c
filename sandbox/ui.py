"""The sandbox's HTML overview page, its "place an order" button and its "create a return as
the merchant" form."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from . import calc, fulfillments, issuing, returns
from .control import order_json
from .returns_control import create_as_merchant
from .store import SandboxError

bp = Blueprint("sandbox_ui", __name__, template_folder="templates")


@bp.get("/")
def index():
    """Shops with their apps, subscriptions, recent deliveries and orders."""
    st = current_app.extensions["sandbox"]
    items = []
    with st.lock:
        for shop in st.state["shops"].values():
            items.append({
                "shop": shop,
                "apps": [a for a in st.state["apps"].values() if a.shop == shop.domain],
                "subs": [s for s in st.state["subs"].values() if s.shop == shop.domain],
                "deliveries": [d for d in st.state["deliveries"] if d.shop == shop.domain][-15:][::-1],
                "orders": [order_json(shop, o) for o in shop.order_list[-15:][::-1]],
                "issued": issuing.summary(shop),
                "returnable_lines": returnable_lines(shop),
            })
    return render_template("sandbox/index.html", shops=items, now=calc.iso(st.clock.now()),
                           base=request.host_url.rstrip("/"), notice=request.args.get("notice"))


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
    notice = errors[0]["message"] if errors else f"Return {made['name']} created."
    return redirect(url_for("sandbox_ui.index", notice=notice), code=303)


@bp.post("/shops/<shop>/place-order")
def place_order(shop: str):
    """Button handler: place one order (delivers orders/create) and go back."""
    st = current_app.extensions["sandbox"]
    st.place_order(shop, email=request.form.get("email") or None)
    st.save()
    return redirect(url_for("sandbox_ui.index"), code=303)

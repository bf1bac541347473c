"""The sandbox's HTML overview page and its "place an order" button."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from . import calc, issuing
from .control import order_json

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
            })
    return render_template("sandbox/index.html", shops=items, now=calc.iso(st.clock.now()),
                           base=request.host_url.rstrip("/"))


@bp.post("/shops/<shop>/place-order")
def place_order(shop: str):
    """Button handler: place one order (delivers orders/create) and go back."""
    st = current_app.extensions["sandbox"]
    st.place_order(shop, email=request.form.get("email") or None)
    st.save()
    return redirect(url_for("sandbox_ui.index"), code=303)

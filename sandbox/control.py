"""The control API under ``/_sandbox/`` (JSON): what tests, the CLI and the demo drive.

Every route maps to one Store method; errors come back as ``{"error": "..."}``
with a 4xx status.  See sandbox/README.md for the list.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from . import apps, calc, fulfillments, issuing, product_webhooks, shop_settings
from .store import DEFAULT_API_VERSION, SandboxError

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")


def _st():
    return current_app.extensions["sandbox"]


def _body() -> dict:
    data = request.get_json(silent=True)
    if data is None and request.get_data():
        raise SandboxError("body must be JSON")
    if data is not None and not isinstance(data, dict):
        raise SandboxError("body must be a JSON object")
    return data or {}


@bp.errorhandler(SandboxError)
def _sandbox_error(exc: SandboxError):
    return jsonify({"error": str(exc)}), exc.status


@bp.errorhandler(TypeError)
@bp.errorhandler(ValueError)
def _bad_value(exc):
    return jsonify({"error": f"bad argument: {exc}"}), 400


def shop_json(shop) -> dict:
    """Shop summary for the control API."""
    st = _st()
    return {"domain": shop.domain, "name": shop.name, "currency": shop.currency,
            "plan": shop.plan, "protected_data": shop.protected_data, "email": shop.email,
            "api_origin": f"{request.host_url.rstrip('/')}/store/{shop.domain}",
            "orders": len(shop.orders), "products": len(shop.products),
            "apps": [app_json(a, inst) for a, inst in apps.of_shop(st.state, shop.domain)],
            "faults": dict(shop.faults), "settings": settings_json(shop)}


def settings_json(shop) -> dict:
    """The shop's settings (shop_settings.py), the gift card limit in major units."""
    current = dict(shop_settings.settings(shop))
    current["gift_card_limit"] = calc.fmt(current["gift_card_limit"])
    return current


def app_json(app, inst) -> dict:
    """An app as installed on one shop: its credentials (the sandbox is a test double: secrets
    are shown), the scopes that shop granted and whether it is installed there now."""
    return {"client_id": app.client_id, "client_secret": app.client_secret,
            "scopes": inst.scopes, "name": app.name, "installed": bool(inst.installed),
            "api_version": app.api_version,
            "protected_customer_data_approved": shop_settings.pcd_approved(_st(), app.client_id)}


def app_with_installations(app) -> dict:
    """An app, its one secret and every shop it was installed on."""
    installs = [inst for inst in _st().state["installs"].values() if inst.client_id == app.client_id]
    return {"client_id": app.client_id, "client_secret": app.client_secret, "name": app.name,
            "api_version": app.api_version, "scopes": app.scopes,
            "installations": [{"shop": inst.shop, "scopes": inst.scopes,
                               "installed": bool(inst.installed)} for inst in installs]}


def order_json(shop, order) -> dict:
    """Order summary (what a tester needs to find it in the portal)."""
    t = calc.totals(order)
    return {"id": order.id, "gid": f"gid://shopify/Order/{order.id}",
            "name": f"#{order.number}", "email": order.email,
            "created_at": calc.iso(order.created_at), "updated_at": calc.iso(order.updated_at),
            "total": calc.fmt(t["total"]), "currency": shop.currency, "tags": order.tags,
            "financial_status": calc.financial_status(order),
            "fulfillment_status": calc.fulfillment_status(order),
            "gateway": order.gateway, "customer_id": order.customer_id,
            "refund_outcome": shop_settings.order_refund_outcome(shop, order.id),
            "lines": [{"id": ln.id, "variant_id": ln.variant_id, "product_id": ln.product_id,
                       "quantity": ln.quantity, "fulfilled": ln.fulfilled,
                       "exchange": bool(ln.exchange)}
                      for ln in order.lines],
            "fulfillments": fulfillments.summary(shop, order)}


@bp.get("/")
def index():
    """All shops."""
    return jsonify({"shops": [shop_json(s) for s in _st().state["shops"].values()]})


@bp.post("/reset")
def reset():
    """Forget everything (the fake carrier's webhooks and parcels, the label fakes' keys and labels too)."""
    _st().reset()
    current_app.extensions.pop("sandbox_carrier", None)
    current_app.extensions.pop("sandbox_labels", None)
    return jsonify({"ok": True})


@bp.post("/shops")
def create_shop():
    """Create a shop: domain, name, currency, plan, protected_data, email."""
    b = _body()
    shop = _st().create_shop(b.get("domain"), b.get("name"), b.get("currency", "USD"),
                             b.get("plan", "basic"), b.get("protected_data", True),
                             b.get("email"))
    _st().save()
    return jsonify(shop_json(shop)), 201


@bp.get("/shops/<shop>")
def get_shop(shop):
    return jsonify(shop_json(_st().get_shop(shop)))


@bp.patch("/shops/<shop>")
def patch_shop(shop):
    """Change plan / protected_data / name / email / currency, and the settings
    customer_accounts (new|classic), gift_card_limit (major units), refund_outcome
    (success|pending|failure), primary_locale (e.g. fr)."""
    body = _body()
    s = _st().update_shop(shop, **{k: v for k, v in body.items()
                                   if k in ("plan", "protected_data", "name", "email",
                                            "currency")})
    with _st().lock:
        shop_settings.update(s, **{k: v for k, v in body.items() if k in shop_settings.DEFAULTS})
    _st().save()
    return jsonify(shop_json(s))


@bp.get("/apps")
def list_apps():
    """Every app with its installations."""
    return jsonify({"apps": [app_with_installations(a) for a in _st().state["apps"].values()]})


@bp.get("/apps/<client_id>")
def get_app(client_id):
    """One app, its secret and the shops it is installed on."""
    return jsonify(app_with_installations(_st().get_app(client_id)))


@bp.post("/shops/<shop>/apps")
def create_app_creds(shop):
    """Register an app and install it on the shop: client_id, client_secret, scopes (list or
    comma string). A known client id is installed with its own secret; another secret → 409."""
    b = _body()
    app = _st().create_app(shop, b.get("client_id"), b.get("client_secret"), b.get("scopes"),
                           b.get("name", "Boomerang"), b.get("api_version", DEFAULT_API_VERSION))
    _st().save()
    return jsonify(app_json(app, apps.installation(_st().state, shop, app.client_id))), 201


@bp.post("/shops/<shop>/apps/<client_id>/admin-token")
def admin_token(shop, client_id):
    """Issue a legacy admin custom-app token (shpat_…, never expires)."""
    tok = _st().issue_admin_token(shop, client_id, _body().get("scopes"))
    _st().save()
    return jsonify({"access_token": tok.token, "scope": ",".join(tok.scopes)}), 201


@bp.post("/shops/<shop>/apps/<client_id>/uninstall")
def uninstall(shop, client_id):
    """Uninstall the app (delivers app/uninstalled, revokes tokens and subscriptions)."""
    _st().uninstall_app(shop, client_id)
    _st().save()
    return jsonify({"ok": True})


@bp.post("/shops/<shop>/seed")
def seed(shop):
    """Generate orders: {"orders": N, "days": D, "seed": S}."""
    b = _body()
    n = _st().seed(shop, int(b.get("orders", 100)), float(b.get("days", 30)),
                   int(b.get("seed", 1)))
    _st().save()
    return jsonify({"created": n, "total": len(_st().get_shop(shop).orders)}), 201


@bp.get("/shops/<shop>/orders")
def list_orders(shop):
    """Most recent orders first (?limit=20)."""
    s = _st().get_shop(shop)
    limit = max(1, min(int(request.args.get("limit", 20)), 500))
    return jsonify({"orders": [order_json(s, o) for o in reversed(s.order_list[-limit:])]})


@bp.post("/shops/<shop>/orders")
def place_order(shop):
    """Place one order now (delivers orders/create)."""
    b = _body()
    o = _st().place_order(shop, seed=b.get("seed"), email=b.get("email"),
                          variant_ids=b.get("variant_ids"), quantity=int(b.get("quantity", 1)),
                          discount_code=b.get("discount_code"), tags=b.get("tags"),
                          country=b.get("country"), payment=b.get("payment", "card"),
                          guest=bool(b.get("guest")))
    _set_refund_outcome(shop, o, b)
    _st().save()
    return jsonify(order_json(_st().get_shop(shop), o)), 201


def _set_refund_outcome(shop: str, order, body: dict) -> None:
    """``refund_outcome`` in a body: what the payment provider does with this order's refunds
    (success|pending|failure; null: the shop's setting again)."""
    if "refund_outcome" in body:
        with _st().lock:
            shop_settings.set_order_refund_outcome(_st().get_shop(shop), order.id, body["refund_outcome"])


@bp.patch("/shops/<shop>/orders/<order_id>")
def update_order(shop, order_id):
    """Update an order (tags, note, cancel, fulfill, refund_line/refund_quantity,
    refund_outcome)."""
    b = _body()
    if "refund_outcome" in b and len(b) == 1:  # only the provider's behaviour: no orders/updated
        o = _st().get_order(shop, order_id)
    else:
        o = _st().update_order(shop, order_id, tags=b.get("tags"), note=b.get("note"),
                               cancel=bool(b.get("cancel")), fulfill=bool(b.get("fulfill")),
                               refund_line=b.get("refund_line"),
                               refund_quantity=int(b.get("refund_quantity", 1)))
    _set_refund_outcome(shop, o, b)
    _st().save()
    return jsonify(order_json(_st().get_shop(shop), o))


@bp.post("/shops/<shop>/orders/<order_id>/fulfillments/<int:number>/deliver")
def deliver_fulfillment(shop, order_id, number):
    """The carrier delivered a parcel (now, or at ``at``: epoch seconds): fulfillments/update."""
    at = _body().get("at")
    if at is not None and (isinstance(at, bool) or not isinstance(at, (int, float))):
        raise SandboxError("at must be epoch seconds", 400)
    fulfillments.deliver_and_tell(_st(), shop, order_id, number, at)
    _st().save()
    o = _st().get_order(shop, order_id)
    return jsonify(order_json(_st().get_shop(shop), o))


@bp.get("/shops/<shop>/products")
def products(shop):
    """Catalogue with variant ids, options, stock and tags."""
    s = _st().get_shop(shop)
    return jsonify({"products": [
        {"id": p.id, "title": p.title, "tags": p.tags, "product_type": p.product_type,
         "collections": p.collections or [],
         "variants": [{"id": v, "title": s.variants[v].title,
                       "inventory": s.variants[v].inventory} for v in p.variants]}
        for p in s.products.values()]})


@bp.route("/shops/<shop>/products/<int:product_id>", methods=["PATCH", "DELETE"])
def product(shop, product_id):
    """Change a product as the merchant would (→ products/update), or delete it (→ products/delete)."""
    st = _st()
    s = st.get_shop(shop)
    with st.lock:
        if request.method == "DELETE":
            product_webhooks.delete_product(st, s, product_id)
            body = {"deleted": product_id}
        else:
            p = product_webhooks.update_product(st, s, product_id, _body())
            body = {"id": p.id, "title": p.title, "product_type": p.product_type, "tags": p.tags,
                    "collections": p.collections}
    st.save()
    return jsonify(body)


@bp.route("/shops/<shop>/faults", methods=["GET", "PUT", "DELETE"])
def faults(shop):
    """Read, set (partial update) or clear fault injection for a shop."""
    st = _st()
    if request.method == "PUT":
        return jsonify(st.set_faults(shop, **_body()))
    if request.method == "DELETE":
        return jsonify(st.clear_faults(shop))
    return jsonify(dict(st.get_shop(shop).faults))


@bp.get("/shops/<shop>/issued")
def issued(shop):
    """What apps issued in the shop: counts, plus refunds, gift cards and draft orders."""
    st = _st()
    with st.lock:
        return jsonify(issuing.summary(st.get_shop(shop)))


@bp.get("/shops/<shop>/locations")
def locations(shop):
    """The shop's locations (ids for restocking) and stock of ?variant_id= at each."""
    st = _st()
    with st.lock:
        s = st.get_shop(shop)
        variant = s.variants.get(int(request.args["variant_id"])) \
            if request.args.get("variant_id") else None
        return jsonify({"locations": [
            {"id": loc["id"], "gid": f"gid://shopify/Location/{loc['id']}", "name": loc["name"],
             "primary": loc["primary"],
             "available": issuing.level(s, variant, loc["id"]) if variant else None}
            for loc in issuing.state(s)["locations"]]})


@bp.get("/shops/<shop>/webhooks")
def subscriptions(shop):
    """Webhook subscriptions of every app on the shop."""
    st = _st()
    st.get_shop(shop)
    return jsonify({"subscriptions": [
        {"id": s.id, "gid": f"gid://shopify/WebhookSubscription/{s.id}", "topic": s.topic,
         "uri": s.uri, "client_id": s.client_id, "failures": s.failures,
         "api_version": s.api_version} for s in st.state["subs"].values()
        if s.shop == shop.lower()]})


@bp.get("/shops/<shop>/deliveries")
def deliveries(shop):
    """Webhook deliveries, newest first (?limit=50), with the headers sent (the signature among
    them); ``?bodies=1`` adds each body as sent, to check a signature against."""
    st = _st()
    st.get_shop(shop)
    limit = int(request.args.get("limit", 50))
    bodies = request.args.get("bodies") == "1"
    items = [d for d in st.state["deliveries"] if d.shop == shop.lower()][-limit:]
    return jsonify({"deliveries": [
        {"id": d.id, "topic": d.topic, "uri": d.uri, "status": d.status,
         "attempts": d.attempts, "last_code": d.last_code, "last_error": d.last_error,
         "webhook_id": d.webhook_id, "event_id": d.event_id, "duplicate": d.duplicate,
         "triggered_at": d.triggered_at, "headers": dict(d.headers),
         **({"body": d.body.decode("utf-8")} if bodies else {})} for d in reversed(items)]})


@bp.post("/webhooks/flush")
def flush():
    """Wait (up to ?timeout=10 s) until every queued delivery has been attempted."""
    ok = _st().webhooks.flush(float(request.args.get("timeout", 10)))
    return jsonify({"drained": ok})


@bp.post("/clock/advance")
def advance():
    """Advance a virtual clock by {"seconds": s}."""
    clock = _st().clock
    if not getattr(clock, "virtual", False):
        raise SandboxError("the sandbox runs on real time; cannot advance", 409)
    return jsonify({"now": clock.advance(float(_body().get("seconds", 0)))})


@bp.get("/bulk/<int:op_id>.jsonl")
def bulk_result(op_id: int):
    """The JSONL result file of a completed bulk operation (the op's ``url``)."""
    op = _st().state["bulk"].get(op_id)
    if op is None or op.result is None:
        return jsonify({"error": "not found"}), 404
    return Response(op.result, mimetype="application/jsonl")

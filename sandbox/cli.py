"""``flask --app sandbox …`` commands.

They act on the store of the app instance (loaded from ``SANDBOX_STATE_FILE``
and saved back), or, with ``--url``, on a running sandbox via its control API.
"""
from __future__ import annotations

import json

import click
import requests
from flask import current_app
from flask.cli import AppGroup

from . import apps

shop_cli = AppGroup("shop", help="Create and inspect shops.")
order_cli = AppGroup("order", help="Place and update orders (delivers webhooks).")
faults_cli = AppGroup("faults", help="Fault injection per shop.")
app_cli = AppGroup("app", help="App credentials and tokens.")

URL_OPTION = click.option("--url", default=None,
                          help="Base URL of a running sandbox (uses its control API).")


def _remote(url: str, method: str, path: str, body: dict | None = None) -> dict:
    resp = requests.request(method, url.rstrip("/") + "/_sandbox" + path, json=body, timeout=60)
    data = resp.json()
    if resp.status_code >= 400:
        raise click.ClickException(data.get("error", str(data)))
    return data


def _store():
    return current_app.extensions["sandbox"]


def _echo(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@shop_cli.command("create")
@click.argument("domain")
@click.option("--name")
@click.option("--currency", default="USD", show_default=True)
@click.option("--plan", type=click.Choice(["basic", "advanced", "plus", "enterprise"]),
              default="basic", show_default=True)
@click.option("--protected-data/--no-protected-data", default=True, show_default=True,
              help="Whether apps may read customer email, name and address.")
@URL_OPTION
def shop_create(domain, name, currency, plan, protected_data, url):
    """Create a shop DOMAIN (e.g. demo.myshopify.com)."""
    body = {"domain": domain, "name": name, "currency": currency, "plan": plan,
            "protected_data": protected_data}
    if url:
        return _echo(_remote(url, "POST", "/shops", body))
    shop = _store().create_shop(domain, name, currency, plan, protected_data)
    _store().save()
    _echo({"domain": shop.domain, "plan": shop.plan, "currency": shop.currency})


@shop_cli.command("list")
@URL_OPTION
def shop_list(url):
    """List shops."""
    if url:
        return _echo(_remote(url, "GET", "/"))
    _echo([{"domain": s.domain, "orders": len(s.orders), "plan": s.plan}
           for s in _store().state["shops"].values()])


@click.command("seed")
@click.argument("domain")
@click.option("--orders", default=100, show_default=True, type=int)
@click.option("--days", default=30, show_default=True, type=float)
@click.option("--seed", "seed_value", default=1, show_default=True, type=int)
@URL_OPTION
def seed_cmd(domain, orders, days, seed_value, url):
    """Generate ORDERS orders over DAYS days for DOMAIN (deterministic per seed)."""
    if url:
        return _echo(_remote(url, "POST", f"/shops/{domain}/seed",
                             {"orders": orders, "days": days, "seed": seed_value}))
    n = _store().seed(domain, orders, days, seed_value)
    _store().save()
    _echo({"created": n})


@app_cli.command("create")
@click.argument("domain")
@click.option("--client-id")
@click.option("--client-secret")
@click.option("--scopes", default=None, help="Comma-separated scopes.")
@click.option("--admin-token", is_flag=True, help="Also issue a legacy shpat_ token.")
@URL_OPTION
def app_create(domain, client_id, client_secret, scopes, admin_token, url):
    """Register an app (a known client id keeps its secret) and install it on DOMAIN."""
    body = {"client_id": client_id, "client_secret": client_secret, "scopes": scopes}
    if url:
        app = _remote(url, "POST", f"/shops/{domain}/apps", body)
        if admin_token:
            app["access_token"] = _remote(
                url, "POST", f"/shops/{domain}/apps/{app['client_id']}/admin-token", {}
            )["access_token"]
        return _echo(app)
    st = _store()
    app = st.create_app(domain, client_id, client_secret, scopes)
    out = {"client_id": app.client_id, "client_secret": app.client_secret,
           "scopes": apps.installation(st.state, domain, app.client_id).scopes}
    if admin_token:
        out["access_token"] = st.issue_admin_token(domain, app.client_id).token
    st.save()
    _echo(out)


@order_cli.command("place")
@click.argument("domain")
@click.option("--email")
@click.option("--country")
@click.option("--seed", "seed_value", type=int)
@URL_OPTION
def order_place(domain, email, country, seed_value, url):
    """Place one order on DOMAIN now (delivers orders/create)."""
    body = {"email": email, "country": country, "seed": seed_value}
    if url:
        return _echo(_remote(url, "POST", f"/shops/{domain}/orders", body))
    st = _store()
    o = st.place_order(domain, seed=seed_value, email=email, country=country)
    st.webhooks.flush(10)
    st.save()
    _echo({"id": o.id, "name": f"#{o.number}", "email": o.email})


@order_cli.command("update")
@click.argument("domain")
@click.argument("order_id")
@click.option("--tags")
@click.option("--note")
@click.option("--fulfill", is_flag=True)
@click.option("--cancel", is_flag=True)
@URL_OPTION
def order_update(domain, order_id, tags, note, fulfill, cancel, url):
    """Update an order (delivers orders/updated)."""
    body = {"tags": tags, "note": note, "fulfill": fulfill, "cancel": cancel}
    if url:
        return _echo(_remote(url, "PATCH", f"/shops/{domain}/orders/{order_id}", body))
    st = _store()
    o = st.update_order(domain, order_id, tags=tags, note=note, fulfill=fulfill, cancel=cancel)
    st.webhooks.flush(10)
    st.save()
    _echo({"id": o.id, "tags": o.tags})


@faults_cli.command("set")
@click.argument("domain")
@click.option("--latency-ms", type=float)
@click.option("--error-rate", type=float)
@click.option("--timeout-rate", type=float)
@click.option("--timeout-seconds", type=float)
@click.option("--duplicate-webhooks", type=float)
@click.option("--out-of-order-webhooks/--in-order-webhooks", default=None)
@click.option("--search-lag-seconds", type=float)
@URL_OPTION
def faults_set(domain, url, **knobs):
    """Set fault knobs for DOMAIN (only the given ones change)."""
    body = {k: v for k, v in knobs.items() if v is not None}
    if url:
        return _echo(_remote(url, "PUT", f"/shops/{domain}/faults", body))
    _echo(_store().set_faults(domain, **body))
    _store().save()


@faults_cli.command("clear")
@click.argument("domain")
@URL_OPTION
def faults_clear(domain, url):
    """Turn every fault off for DOMAIN."""
    if url:
        return _echo(_remote(url, "DELETE", f"/shops/{domain}/faults"))
    _echo(_store().clear_faults(domain))
    _store().save()


def register(app) -> None:
    """Attach the command groups to a Flask app."""
    for group in (shop_cli, order_cli, faults_cli, app_cli, seed_cmd):
        app.cli.add_command(group)

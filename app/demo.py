"""`flask demo seed`: a demo retailer with a login and a few orders, safe to run again."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.models import Account, Order, OrderLine, User
from app.services.accounts import sign_up

DEMO_EMAIL = "admin@demo-outfitters.com"
DEMO_PASSWORD = "boomerang-demo-2026"
DEMO_STORE = "Demo Outfitters"

demo_cli = AppGroup("demo", help="The demo store for `make demo`.")

_DEMO_ORDERS = [
    # name, email, days ago, country, [(title, variant, qty, unit price, paid per unit)]
    ("#1001", "ana.silva@example.com", 3, "PT", [("Merino Crew Jumper", "M / Navy", 1, "89.00", "89.00")]),
    ("#1002", "li.wei@example.com", 12, "CA", [("Trail Runner Shoes", "42 / Grey", 1, "120.00", "96.00"),
                                              ("Wool Socks", "One size", 3, "12.00", "9.60")]),
    ("#1003", "sam.jones@example.com", 45, "GB", [("Rain Shell Jacket", "L / Olive", 1, "150.00", "150.00")]),
]


def seed_demo(sample_orders: bool = True) -> User:
    """Create the demo account, admin and (unless ``sample_orders`` is off: the sandbox provides
    the orders then) three sample orders, unless they exist already."""
    user = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = sign_up(DEMO_STORE, DEMO_EMAIL, DEMO_PASSWORD)
    account = db.session.get(Account, user.account_id)
    if not sample_orders:
        return user
    now = datetime.now(timezone.utc)
    for number, (name, email, days_ago, country, lines) in enumerate(_DEMO_ORDERS, start=1):
        shopify_id = 5_000_000_000_000 + number
        exists = db.session.scalar(select(Order.id).where(
            Order.account_id == account.id, Order.shopify_order_id == shopify_id))
        if exists:
            continue
        created = now - timedelta(days=days_ago)
        subtotal = sum(Decimal(paid) * qty for _, _, qty, _, paid in lines)
        order = Order(account_id=account.id, shopify_order_id=shopify_id, name=name, email=email,
                      customer_name=email.split("@")[0].replace(".", " ").title(), shipping_country=country,
                      currency="USD", total_price=subtotal, subtotal_price=subtotal,
                      total_discounts=sum(((Decimal(p) - Decimal(d)) * q for _, _, q, p, d in lines), Decimal("0")),
                      discount_codes=[], tags=[], financial_status="paid", fulfillment_status="fulfilled",
                      created_at=created, updated_at=created)
        for line_no, (title, variant, qty, price, paid) in enumerate(lines, start=1):
            order.lines.append(OrderLine(
                shopify_line_id=shopify_id * 10 + line_no, title=title, variant_title=variant, quantity=qty,
                unit_price=Decimal(price), discounted_unit_price=Decimal(paid), fulfilled_quantity=qty,
                refunded_quantity=0))
        db.session.add(order)
    db.session.commit()
    return user


@demo_cli.command("seed")
def seed_command() -> None:
    """Seed the demo store and print where to click."""
    user = seed_demo()
    click.echo(f"Demo store: {user.account.name}")
    click.echo(f"  Dashboard: http://127.0.0.1:5000/dashboard/   login {DEMO_EMAIL} / {DEMO_PASSWORD}")


# --- `make demo`: the app beside a running sandbox ----------------------------------------------

DEMO_SHOP = "demo-outfitters.myshopify.com"
DEMO_CLIENT_ID = "boomerang-demo-app"
DEMO_SCOPES = ["read_orders", "write_orders", "read_all_orders", "read_products", "read_customers",
               "write_customers", "read_returns", "write_returns", "read_inventory", "write_inventory",
               "read_locations", "write_gift_cards", "write_draft_orders"]
DEMO_ORDERS = 120


class _Sandbox:
    """The sandbox's control API (``/_sandbox/``) over HTTP."""

    def __init__(self, url: str):
        import requests

        self.url = url.rstrip("/")
        self.http = requests.Session()

    def call(self, method: str, path: str, body: dict | None = None, ok=(200, 201)):
        response = self.http.request(method, f"{self.url}/_sandbox{path}", json=body, timeout=30)
        if response.status_code not in ok:
            raise click.ClickException(f"sandbox {method} {path}: HTTP {response.status_code} "
                                       f"{response.text[:200]}")
        return response.json()

    def answers(self) -> bool:
        import requests

        try:
            return self.http.get(f"{self.url}/_sandbox/", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def wait(self, seconds: float = 30) -> None:
        import time

        deadline = time.monotonic() + seconds
        while not self.answers():
            if time.monotonic() > deadline:
                raise click.ClickException(f"the sandbox did not answer at {self.url} "
                                           f"(see instance/sandbox.log)")
            time.sleep(0.2)


def _demo_shop(sandbox: _Sandbox, domain: str = DEMO_SHOP, name: str = DEMO_STORE,
               orders: int = DEMO_ORDERS, seed: int = 2026) -> tuple[dict, str]:
    """A sandbox shop with 30 days of varied orders and an installed app; a fresh admin token.
    Safe to run again: existing shop, app and orders are kept."""
    shop = sandbox.call("GET", f"/shops/{domain}", ok=(200, 404))
    if "domain" not in shop:
        sandbox.call("POST", "/shops", {"domain": domain, "name": name, "currency": "USD",
                                        "plan": "basic", "protected_data": True})
        shop = sandbox.call("GET", f"/shops/{domain}")
    if shop["orders"] < orders // 2:
        sandbox.call("POST", f"/shops/{domain}/seed", {"orders": orders, "days": 30, "seed": seed})
    if not any(app["client_id"] == DEMO_CLIENT_ID for app in shop["apps"]):
        sandbox.call("POST", f"/shops/{domain}/apps", {"client_id": DEMO_CLIENT_ID, "scopes": DEMO_SCOPES,
                                                        "name": "Boomerang"})
    shop = sandbox.call("GET", f"/shops/{domain}")
    app = next(app for app in shop["apps"] if app["client_id"] == DEMO_CLIENT_ID)
    token = sandbox.call("POST", f"/shops/{domain}/apps/{DEMO_CLIENT_ID}/admin-token")["access_token"]
    return {**shop, "client_secret": app["client_secret"]}, token


def connect_demo(sandbox_url: str) -> tuple[User, dict]:
    """Seed the demo login, make the sandbox shop, connect the account to it the custom-token
    way (which starts the import) and return what to print. Safe to run again."""
    from app.services import connect as connecting
    from app.services.imports import latest_run

    user = seed_demo(sample_orders=False)
    account = db.session.get(Account, user.account_id)
    # The three placeholder orders of `flask demo seed` would sit beside the shop's own #1001…
    for number in range(1, len(_DEMO_ORDERS) + 1):
        placeholder = db.session.scalar(select(Order).where(
            Order.account_id == account.id, Order.shopify_order_id == 5_000_000_000_000 + number))
        if placeholder is not None:
            db.session.delete(placeholder)
    db.session.commit()
    sandbox = _Sandbox(sandbox_url)
    shop, token = _demo_shop(sandbox)
    origin = f"{sandbox.url}/store/{DEMO_SHOP}"
    run = latest_run(account.id)
    already = (account.is_connected and account.shop_domain == DEMO_SHOP and account.api_origin == origin
               and run is not None and run.status == "completed")
    if not already:
        try:
            grant = connecting.legacy_token_grant(token, shop["client_secret"])
            connecting.connect(account, DEMO_SHOP, grant, origin)
        except connecting.ConnectError as error:
            raise click.ClickException(f"connecting the demo store failed: {error}") from None
    else:
        from jobs.imports import sync_webhooks

        sync_webhooks.enqueue(account.id)  # the app's address may have changed
    db.session.commit()  # end this session's transaction: the import committed in another
    run = latest_run(account.id)
    return db.session.get(User, user.id), {
        "orders": shop["orders"], "import": run.status if run else "none",
        "stored": db.session.scalar(select(func.count()).select_from(Order).where(
            Order.account_id == account.id)),
    }


DEMO_WINDOW_DAYS = 21  # shorter than the 30 days imported, so some orders are outside it


def orders_to_try(account: Account) -> list[tuple[str, Order]]:
    """Three stored orders that show the portal's cases: one with items to exchange, one partly
    refunded, one outside the return window."""
    from datetime import datetime, timedelta, timezone

    account.return_window_days = DEMO_WINDOW_DAYS
    db.session.commit()
    cutoff = datetime.now(timezone.utc) - timedelta(days=DEMO_WINDOW_DAYS)
    recent = select(Order).where(Order.account_id == account.id, Order.created_at >= cutoff,
                                 Order.email.is_not(None)).order_by(Order.created_at.desc())
    picks = []
    exchangeable = db.session.scalars(recent.where(Order.fulfillment_status == "fulfilled",
                                                   Order.financial_status == "paid")).first()
    if exchangeable:
        picks.append(("items to return or exchange", exchangeable))
    refunded = db.session.scalars(recent.where(Order.financial_status == "partially_refunded")).first()
    if refunded:
        picks.append(("partly refunded: refunded items cannot be returned again", refunded))
    late = db.session.scalars(
        select(Order).where(Order.account_id == account.id, Order.created_at < cutoff,
                            Order.fulfillment_status == "fulfilled", Order.email.is_not(None))
        .order_by(Order.created_at.desc())).first()
    if late:
        picks.append((f"outside the {DEMO_WINDOW_DAYS}-day return window", late))
    return picks


@demo_cli.command("run")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--sandbox-port", default=8001, type=int)
def run_command(host: str, port: int, sandbox_port: int) -> None:
    """Start the sandbox beside the app, connect the demo store to it, and serve until Ctrl-C."""
    import os
    import signal
    import subprocess
    import sys

    from flask import current_app
    from werkzeug.serving import run_simple

    from app.config import INSTANCE_DIR
    from jobs.schedule import InProcessScheduler

    app = current_app._get_current_object()
    base = f"http://{host}:{port}"
    app.config["PUBLIC_BASE_URL"] = base  # where the sandbox delivers webhooks
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    sandbox = _Sandbox(sandbox_url)
    process = None
    # `kill` (SIGTERM) stops the demo like Ctrl-C does, so the sandbox is stopped with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if not sandbox.answers():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        log = open(INSTANCE_DIR / "sandbox.log", "ab")
        env = {**os.environ, "SANDBOX_STATE_FILE": os.environ.get("SANDBOX_STATE_FILE")
               or str(INSTANCE_DIR / "sandbox.pkl")}
        env.pop("FLASK_APP", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "sandbox", "run", "--host", "127.0.0.1",
             "--port", str(sandbox_port)], env=env, stdout=log, stderr=subprocess.STDOUT,
            # Started from a background shell job, SIGINT arrives ignored: give it back, so the
            # sandbox saves its state when asked to stop.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))
    try:
        sandbox.wait()
        user, facts = connect_demo(sandbox_url)
        click.echo("")
        click.echo(f"Boomerang demo: {user.account.name}")
        click.echo(f"  Dashboard:  {base}/dashboard/   login {DEMO_EMAIL} / {DEMO_PASSWORD}")
        click.echo(f"  Orders:     {base}/dashboard/orders   (initial import {facts['import']}; "
                   f"{facts['stored']} orders stored, the shop has {facts['orders']})")
        click.echo(f"  Sandbox:    {sandbox_url}/   (the fake Shopify: {DEMO_SHOP})")
        click.echo("  Try it:     on the sandbox page, \"Place an order\" for the demo shop; Shopify's")
        click.echo("              orders/create webhook reaches Boomerang and the order is in the")
        click.echo("              dashboard's orders list within seconds.")
        click.echo(f"  Portal:     {base}/r/{user.account.slug}   (what shoppers see); orders to try:")
        for label, order in orders_to_try(db.session.get(Account, user.account_id)):
            click.echo(f"                {order.name:<7} {order.email:<34} {label}")
        click.echo(f"  Outbox:     {base}/dashboard/outbox   (emails the demo would have sent)")
        from app.demo_rules import RULES_EMAIL, RULES_STORE, connect_rules_demo

        rules_user = connect_rules_demo(sandbox_url)
        click.echo("")
        click.echo(f"Second demo store, rules mode: {RULES_STORE}")
        click.echo(f"  Dashboard:  {base}/dashboard/rules   login {RULES_EMAIL} / {DEMO_PASSWORD}")
        click.echo("              the spec's three example rules decide each returned item; a return's page")
        click.echo("              shows which rule fired and what it saw.")
        click.echo(f"  Portal:     {base}/r/{rules_user.account.slug}   orders to try:")
        for label, order in orders_to_try(db.session.get(Account, rules_user.account_id)):
            click.echo(f"                {order.name:<7} {order.email:<34} {label}")
        from app.demo_tracking import connect_demo_carrier

        for line in connect_demo_carrier(sandbox, [db.session.get(Account, user.account_id),
                                                   db.session.get(Account, rules_user.account_id)],
                                         first_scan=db.session.get(Account, user.account_id)):
            click.echo(line)
        click.echo("Serving (Ctrl-C stops the app and the sandbox)")
        if app.config.get("SCHEDULER_ENABLED") and not hasattr(app.extensions["jobs"], "queue"):
            InProcessScheduler(app).start()
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # the sandbox saves its state on the way out
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

"""`flask demo seed`: a demo retailer with a login and a few orders, safe to run again; and
`flask demo run` (`make demo`): the app beside the sandbox, its demo stores connected to it."""
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import click
import requests
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from app.config import INSTANCE_DIR
from app.crypto import decrypt_secret
from app.demo_returns import (OUTFITTERS_ORDERS, OUTFITTERS_RETURNS, SPECIAL_EMAILS, describe,
                              make_demo_returns, place_orders_to_try, stored_orders_to_try)
from app.demo_tracking import connect_demo_carrier
from app.domain.vocabulary import ReturnAction
from app.extensions import db
from app.models import Account, Order, OrderLine, User
from app.queue import enqueue
from app.queue.schedule import PERIODIC, InProcessScheduler, Periodic
from app.services import connect as connecting
from app.services.accounts import sign_up
from app.services.imports import latest_run

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
# Boomerang is one app: one client id and one secret, installed on both demo shops, as a Shopify
# app is installed on many shops and signs every shop's webhooks with its one secret (sandbox/apps.py).
DEMO_CLIENT_ID = "boomerang-demo-app"
DEMO_SCOPES = ["read_orders", "write_orders", "read_all_orders", "read_products", "read_customers",
               "write_customers", "read_returns", "write_returns", "read_inventory", "write_inventory",
               "read_locations", "write_gift_cards", "write_draft_orders", "read_fulfillments"]
DEMO_ORDERS = 120


class _Sandbox:
    """The sandbox's control API (``/_sandbox/``) over HTTP."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.http = requests.Session()

    def call(self, method: str, path: str, body: dict | None = None, ok=(200, 201)):
        response = self.http.request(method, f"{self.url}/_sandbox{path}", json=body, timeout=30)
        if response.status_code not in ok:
            raise click.ClickException(f"sandbox {method} {path}: HTTP {response.status_code} "
                                       f"{response.text[:200]}")
        return response.json()

    def answers(self) -> bool:
        try:
            return self.http.get(f"{self.url}/_sandbox/", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def wait(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not self.answers():
            if time.monotonic() > deadline:
                raise click.ClickException(f"the sandbox did not answer at {self.url} "
                                           f"(see instance/sandbox.log)")
            time.sleep(0.2)


# The sandbox's customer accounts setting, as Shopify's connect check reads it.
ACCOUNTS_VERSIONS = {"new": "NEW_CUSTOMER_ACCOUNTS", "classic": "CLASSIC"}


@dataclass
class DemoShop:
    """A sandbox shop ready to connect: its control-API summary, a fresh admin token, the app's
    secret, and whether anything changed that the stored connection has not seen yet."""

    domain: str
    shop: dict
    token: str
    client_secret: str
    changed: bool


def _demo_shop(sandbox: _Sandbox, domain: str = DEMO_SHOP, name: str = DEMO_STORE,
               orders: int = DEMO_ORDERS, seed: int = 2026, settings: dict | None = None,
               orders_to_try=()) -> DemoShop:
    """A sandbox shop with 30 days of varied orders, the ``orders_to_try`` and the Boomerang app
    installed with every scope it asks for, with ``settings`` (customer accounts …) applied; a
    fresh admin token. Safe to run again: existing shop, app (its one secret) and orders are kept."""
    shop = sandbox.call("GET", f"/shops/{domain}", ok=(200, 404))
    if "domain" not in shop:
        sandbox.call("POST", "/shops", {"domain": domain, "name": name, "currency": "USD",
                                        "plan": "basic", "protected_data": True})
        shop = sandbox.call("GET", f"/shops/{domain}")
    changed = False
    if settings and any(shop["settings"].get(key) != value for key, value in settings.items()):
        sandbox.call("PATCH", f"/shops/{domain}", settings)
        changed = True
    if shop["orders"] < orders // 2:
        sandbox.call("POST", f"/shops/{domain}/seed", {"orders": orders, "days": 30, "seed": seed})
    changed |= place_orders_to_try(sandbox, domain, orders_to_try)
    app = next((app for app in shop["apps"] if app["client_id"] == DEMO_CLIENT_ID and app["installed"]), None)
    if app is None or not set(DEMO_SCOPES) <= set(app["scopes"]):
        # Installed here (registered by the first shop; the sandbox keeps its secret), or again
        # with every scope when it lacks one (a state from before returns).
        app = sandbox.call("POST", f"/shops/{domain}/apps", {
            "client_id": DEMO_CLIENT_ID, "scopes": DEMO_SCOPES, "name": "Boomerang"})
        changed = True
    token = sandbox.call("POST", f"/shops/{domain}/apps/{DEMO_CLIENT_ID}/admin-token")["access_token"]
    return DemoShop(domain, sandbox.call("GET", f"/shops/{domain}"), token, app["client_secret"], changed)


def connect_demo_shop(account: Account, sandbox: _Sandbox, demo: DemoShop) -> None:
    """Connect the account to the demo shop the custom-token way (which starts the import), unless
    it is connected already just as the shop is now: same origin and app secret, every scope, the
    customer accounts and gift card limit the connect check reads, a finished import."""
    origin = f"{sandbox.url}/store/{demo.domain}"
    run = latest_run(account.id)
    accounts_version = ACCOUNTS_VERSIONS[demo.shop["settings"]["customer_accounts"]]
    current = (account.is_connected and account.shop_domain == demo.domain and account.api_origin == origin
               and not demo.changed and run is not None and run.status == "completed"
               and decrypt_secret(account.webhook_secret_encrypted) == demo.client_secret
               and set(DEMO_SCOPES) <= set(account.granted_scopes or ())
               and account.customer_accounts_version == accounts_version
               and account.gift_card_issue_limit is not None)
    if not current:
        try:
            connecting.connect(account, demo.domain, connecting.legacy_token_grant(demo.token, demo.client_secret),
                               origin)
        except connecting.ConnectError as error:
            raise click.ClickException(f"connecting {account.name} to the sandbox failed: {error}") from None
    else:
        enqueue("jobs.imports.sync_webhooks_job", account.id)  # the app's address may have changed
    db.session.commit()  # end this session's transaction: the import committed in another


def connect_demo(sandbox_url: str) -> tuple[User, dict]:
    """Seed the demo login, make the sandbox shop (with its orders to try), connect the account to
    it, make the demo returns and return what to print. Safe to run again."""
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
    demo = _demo_shop(sandbox, settings={"customer_accounts": "new"}, orders_to_try=OUTFITTERS_ORDERS)
    connect_demo_shop(account, sandbox, demo)
    account = db.session.get(Account, user.account_id)
    account.return_action = ReturnAction.FIRST_SCAN.value  # as the demo carrier says (demo_tracking)
    run = latest_run(account.id)
    picks = orders_to_try(account)
    specials = stored_orders_to_try(account, OUTFITTERS_ORDERS)
    returns = make_demo_returns(account, OUTFITTERS_RETURNS,
                                skip_orders={order.id for _, order in picks + specials})
    return db.session.get(User, user.id), {
        "orders": demo.shop["orders"], "import": run.status if run else "none",
        "stored": db.session.scalar(select(func.count()).select_from(Order).where(
            Order.account_id == account.id)),
        "picks": picks, "specials": specials, "returns": returns,
    }


DEMO_WINDOW_DAYS = 21  # shorter than the 30 days imported, so some orders are outside it


def orders_to_try(account: Account) -> list[tuple[str, Order]]:
    """Three stored orders that show the portal's cases: one with items to exchange, one partly
    refunded, one outside the return window (the orders placed for one case each are left out)."""
    account.return_window_days = DEMO_WINDOW_DAYS
    db.session.commit()
    cutoff = datetime.now(timezone.utc) - timedelta(days=DEMO_WINDOW_DAYS)
    recent = select(Order).where(Order.account_id == account.id, Order.created_at >= cutoff,
                                 Order.email.is_not(None), Order.email.not_in(SPECIAL_EMAILS)
                                 ).order_by(Order.created_at.desc())
    picks = []
    exchangeable = db.session.scalars(recent.where(Order.fulfillment_status == "fulfilled",
                                                   Order.financial_status == "paid")).first()
    if exchangeable:
        rules = account.option_mode == "rules"
        picks.append(("items to return (the rules decide what comes back)" if rules else
                      "items to return or exchange", exchangeable))
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


def _echo_orders(rows: list[tuple[str, Order]]) -> None:
    width = max((len(order.email or "") for _, order in rows), default=0) + 2
    for label, order in rows:
        click.echo(f"                {order.name:<7} {order.email or '':<{width}}{label}")


def _echo_returns(base: str, returns) -> None:
    if not returns:
        return
    click.echo(f"  Returns:    {base}/dashboard/returns   made already, each with its Shopify return:")
    for ret in returns:
        click.echo(f"                {ret.rma_number:<9} {ret.order_name:<7} {describe(ret)}")


class SetupGate:
    """The WSGI app `make demo` serves. While the demo stores are set up, Shopify's webhooks (the
    sandbox sends them about the demo returns being made) are answered at once and kept, then
    handed to the app when setup is done: SQLite takes one writer at a time, and a delivery stored
    between a setup job's read and its write would make that write fail. Answered, they count as
    delivered (Shopify deletes a subscription whose deliveries fail eight times in a row)."""

    def __init__(self, app):
        self.app = app
        self.kept: list[tuple[dict, bytes]] = []
        self.lock = threading.Lock()
        self.open = False

    def __call__(self, environ, start_response):
        with self.lock:
            keep = (not self.open and environ.get("REQUEST_METHOD") == "POST"
                    and environ.get("PATH_INFO") == "/webhooks/shopify")
            if keep:
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                           if key.startswith("HTTP_")}
                headers["Content-Type"] = environ.get("CONTENT_TYPE", "application/json")
                self.kept.append((headers, body))
        if keep:
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        return self.app(environ, start_response)

    def open_and_replay(self) -> int:
        """Let requests through, and hand the app each webhook kept meanwhile, in order."""
        with self.lock:
            self.open = True
            kept, self.kept = self.kept, []
        # Each one's jobs run as its response closes, before the next is stored: one writer.
        backend = self.app.extensions["jobs"]
        threaded = getattr(backend, "use_thread", False)
        backend.use_thread = False
        try:
            for headers, body in kept:
                environ = EnvironBuilder(path="/webhooks/shopify", method="POST", headers=headers,
                                         data=body).get_environ()
                response, status, _headers = run_wsgi_app(self.app, environ)
                b"".join(response)
                if hasattr(response, "close"):
                    response.close()
                if not status.startswith("2"):
                    click.echo(f"  (a webhook kept during setup was answered {status})", err=True)
        finally:
            backend.use_thread = threaded
        return len(kept)


def demo_periodic():
    """The periodic jobs, with pending refunds followed every minute (every 15 otherwise), so a
    refund settled on the sandbox page shows in Boomerang soon."""
    return [Periodic(p.job, "* * * * *") if p.job == "jobs.shopify_returns.follow_refunds_job" else p
            for p in PERIODIC]


@demo_cli.command("run")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--sandbox-port", default=8001, type=int)
def run_command(host: str, port: int, sandbox_port: int) -> None:
    """Start the sandbox beside the app, connect the demo store to it, and serve until Ctrl-C."""
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
        # Webhooks a moment after the change, as Shopify sends them: with none, the app's job would
        # still be recording Shopify's answer when the webhook is stored, and SQLite refuses the
        # later of two writes that overlap like that (the job's record waits for its lease then).
        env = {"SANDBOX_WEBHOOK_DELAY": "2", **os.environ,
               "SANDBOX_STATE_FILE": os.environ.get("SANDBOX_STATE_FILE") or str(INSTANCE_DIR / "sandbox.pkl")}
        env.pop("FLASK_APP", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "sandbox", "run", "--host", "127.0.0.1",
             "--port", str(sandbox_port)], env=env, stdout=log, stderr=subprocess.STDOUT,
            # Started from a background shell job, SIGINT arrives ignored: give it back, so the
            # sandbox saves its state when asked to stop.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))
    server = None
    try:
        sandbox.wait()
        # Serve before the demo returns are made: the sandbox sends their webhooks at once, and
        # Shopify deletes a subscription whose deliveries fail eight times in a row. Request logs
        # wait until the instructions are printed.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        gate = SetupGate(app)
        try:
            server = make_server(host, port, gate, threaded=True)
        except OSError as error:
            raise click.ClickException(f"cannot serve on {base}: {error}") from None
        threading.Thread(target=server.serve_forever, name="demo-server", daemon=True).start()
        from app.demo_rules import (  # a cycle: demo_rules builds on this module
            RULES_EMAIL, RULES_STORE, connect_rules_demo)

        user, facts = connect_demo(sandbox_url)
        rules_user, rules_facts = connect_rules_demo(sandbox_url)
        carrier_lines = connect_demo_carrier(sandbox, [db.session.get(Account, user.account_id),
                                                       db.session.get(Account, rules_user.account_id)],
                                             first_scan=db.session.get(Account, user.account_id))
        db.session.commit()
        gate.open_and_replay()
        click.echo("")
        click.echo(f"Boomerang demo: {user.account.name}   (customer choice; credit notes are store credit)")
        click.echo(f"  Dashboard:  {base}/dashboard/   login {DEMO_EMAIL} / {DEMO_PASSWORD}")
        click.echo(f"  Orders:     {base}/dashboard/orders   (initial import {facts['import']}; "
                   f"{facts['stored']} orders stored, the shop has {facts['orders']})")
        click.echo(f"  Sandbox:    {sandbox_url}/   (the fake Shopify: {DEMO_SHOP}); under \"Shopify returns\"")
        click.echo("              each return Boomerang made there: its items, dispositions, exchanges, refunds.")
        click.echo("  Try it:     on the sandbox page, \"Place an order\" for the demo shop; Shopify's")
        click.echo("              orders/create webhook reaches Boomerang and the order is in the")
        click.echo("              dashboard's orders list within seconds.")
        click.echo(f"  Portal:     {base}/r/{user.account.slug}   (what shoppers see); orders to try:")
        _echo_orders(facts["picks"] + facts["specials"])
        click.echo("              then, as staff, Close the return (Returns → the return): Boomerang processes its")
        click.echo("              Shopify return (the refund, credit or exchange; the units restocked) and closes it.")
        click.echo("  Refunds:    a pending refund marked paid (or failed) on the sandbox page shows in Boomerang")
        click.echo("              within a minute.")
        _echo_returns(base, facts["returns"])
        click.echo(f"  Outbox:     {base}/dashboard/outbox   (emails the demo would have sent)")
        click.echo("")
        click.echo(f"Second demo store: {RULES_STORE}   (rules mode; classic customer accounts, so credit notes "
                   "are gift cards)")
        click.echo(f"  Dashboard:  {base}/dashboard/rules   login {RULES_EMAIL} / {DEMO_PASSWORD}")
        click.echo("              the spec's three example rules decide each returned item; a return's page")
        click.echo("              shows which rule fired and what it saw. Process a return to issue it.")
        click.echo(f"  Portal:     {base}/r/{rules_user.account.slug}   orders to try:")
        _echo_orders(rules_facts["picks"] + rules_facts["specials"])
        _echo_returns(base, rules_facts["returns"])
        for line in carrier_lines:
            click.echo(line)
        click.echo(f"Serving on {base} (Ctrl-C stops the app and the sandbox)")
        logging.getLogger("werkzeug").setLevel(logging.INFO)
        if app.config.get("SCHEDULER_ENABLED") and not hasattr(app.extensions["jobs"], "queue"):
            InProcessScheduler(app, demo_periodic()).start()
        while True:
            time.sleep(3600)  # Ctrl-C or `kill` ends it
    finally:
        if server is not None:
            server.shutdown()
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # the sandbox saves its state on the way out
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

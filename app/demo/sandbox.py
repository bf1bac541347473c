"""A demo shop in the sandbox (the fake Shopify) through its control API, and the account connected
to it the custom-token way, as `flask shop connect` does."""
import time
from dataclasses import dataclass

import click
import requests

from app.crypto import decrypt_secret
from app.demo.orders import place_orders_to_try
from app.demo.seed import DEMO_STORE
from app.extensions import db
from app.models import Account
from app.queue import enqueue
from app.services import connect as connecting
from app.services import connect_input
from app.services.imports import latest_run

DEMO_SHOP = "demo-outfitters.myshopify.com"
# Boomerang is one app: one client id and one secret, installed on both demo shops, as a Shopify
# app is installed on many shops and signs every shop's webhooks with its one secret (sandbox/apps.py).
DEMO_CLIENT_ID = "boomerang-demo-app"
DEMO_SCOPES = ["read_orders", "write_orders", "read_all_orders", "read_products", "read_customers",
               "write_customers", "read_returns", "write_returns", "read_inventory", "write_inventory",
               "read_locations", "write_gift_cards", "write_draft_orders", "read_fulfillments",
               "read_locales"]
DEMO_ORDERS = 120


class SandboxControl:
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


def demo_shop(sandbox: SandboxControl, domain: str = DEMO_SHOP, name: str = DEMO_STORE,
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


def connect_demo_shop(account: Account, sandbox: SandboxControl, demo: DemoShop) -> None:
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
        except connect_input.ConnectError as error:
            raise click.ClickException(f"connecting {account.name} to the sandbox failed: {error}") from None
    else:
        enqueue("jobs.imports.sync_webhooks_job", account.id)  # the app's address may have changed
    db.session.commit()  # end this session's transaction: the import committed in another

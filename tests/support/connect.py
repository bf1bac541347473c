"""A sandbox shop to connect a store to, and the helpers the connection, import, reconciliation,
webhook and browser tests share."""
import socket
import time
from datetime import datetime, timezone
from types import SimpleNamespace

from sqlalchemy import func, select

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Account, ImportRun, Order
from app.services import imports
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in

SHOP = "acme-outfitters.myshopify.com"
SEEDED = 40
OAUTH_CLIENT_ID = "boomerang-oauth-client"
OAUTH_SECRET = "shpss_oauthdeploymentsecret0001"


def make_shop(sandbox, domain=SHOP, orders=SEEDED, scopes=None, plan="basic", protected_data=True,
              client_id=None, client_secret=None, name="Acme Outfitters", currency="USD"):
    """A sandbox shop with ``orders`` orders over the last 30 days (of real time) and an installed
    app; returns its domain, API origin, app credentials and a legacy admin token."""
    sandbox.clock.set(time.time())  # the sandbox's virtual clock starts in the past
    store = sandbox.store
    store.create_shop(domain, name=name, currency=currency, plan=plan, protected_data=protected_data)
    if orders:
        store.seed(domain, orders=orders, days=30, seed=3)
    app = store.create_app(domain, client_id=client_id, client_secret=client_secret, scopes=scopes)
    token = store.issue_admin_token(domain, app.client_id).token
    return SimpleNamespace(domain=domain, origin=sandbox.api_origin(domain), client_id=app.client_id,
                           client_secret=app.client_secret, token=token, store=store, sandbox=sandbox)


def connected_account(shop, **fields) -> Account:
    """An account connected to the sandbox shop with its legacy token (no connect flow)."""
    app_scopes = shop.store.get_app(shop.client_id).scopes
    values = dict(shop_domain=shop.domain, api_origin=shop.origin, connection_method="legacy_token",
                  access_token_encrypted=encrypt_secret(shop.token),
                  webhook_secret_encrypted=encrypt_secret(shop.client_secret),
                  granted_scopes=list(app_scopes), connected_at=datetime.now(timezone.utc))
    values.update(fields)
    account = make_account(**values)
    db.session.commit()
    return account


def use_virtual_time(monkeypatch, sandbox) -> None:
    """Clients made by the services sleep and measure time on the sandbox's virtual clock, so
    throttling and bulk operations cost no real time."""
    monkeypatch.setattr(imports, "client_options",
                        lambda: {"sleep": sandbox.clock.sleep, "monotonic": sandbox.clock.now})


def login_admin(client, **account_fields):
    """A committed account with an admin logged in through the form; returns (account, user)."""
    account = make_account(**account_fields)
    user = make_user(account, role="admin")
    db.session.commit()
    log_in(client, user)
    return account, user


def connect_with_token(client, shop, **overrides):
    """Post the dashboard's legacy-token form for ``shop``, with fields replaced by ``overrides``."""
    data = {"legacy-shop_domain": shop.domain, "legacy-access_token": shop.token,
            "legacy-api_secret": shop.client_secret, "legacy-api_origin": shop.origin}
    data.update(overrides)
    return client.post("/dashboard/connect/token", data=data)


def sandbox_order_count(shop) -> int:
    """How many orders the sandbox holds for the shop."""
    return len(shop.store.get_shop(shop.domain).orders)


def order_count(account_id) -> int:
    """How many orders Boomerang stored for the account."""
    return db.session.scalar(select(func.count()).select_from(Order).where(Order.account_id == account_id))


def subscriptions(shop):
    """The shop's webhook subscriptions in the sandbox."""
    return [s for s in shop.store.state["subs"].values() if s.shop == shop.domain]


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def refused_next_to(response, field: str) -> str:
    """The page of a refused form (a 422), checked to show an error next to the field with that id."""
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    return page


def assert_nothing_saved(account_id, domain_before="untouched.myshopify.com"):
    """The account is as before a refused connection: no credentials, no import."""
    db.session.expire_all()
    account = db.session.get(Account, account_id)
    assert account.access_token_encrypted is None
    assert account.webhook_secret_encrypted is None
    assert account.connection_method is None
    assert account.shop_domain == domain_before
    assert db.session.scalar(select(func.count()).select_from(ImportRun)
                             .where(ImportRun.account_id == account_id)) == 0

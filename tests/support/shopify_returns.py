"""Returns issued through Shopify returns, against the sandbox (a fake Shopify) over real HTTP.

- ``returns_account``: an account connected to a fresh sandbox shop with the returns scopes.
- ``placed_order``: an order placed and shipped in the sandbox (paid by card, manually, cash on
  delivery or only authorised; with or without a customer), stored here through the app's client.
- ``submit``: a return made the way the portal makes it (``create_return``), so every test goes
  through the real planning path.
- ``JobLog``: jobs queued are recorded instead of run (``tests/support/queue.py``); ``run()`` runs
  them (each twice, as a retry or a duplicate delivery would) until nothing is left.
- ``sandbox_returns``: what the sandbox holds, from its own control API (never our rows).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

import requests

from app.extensions import db
from app.models import Account, Order, Return
from app.services import legacy_issuing, legacy_restock, outbound_sending, return_settlement, shopify_returns
from app.services.orders import upsert_order
from app.services.return_submission import Selection, create_return
from app.services.rules import decide_return
from app.services.shopify_access import client_for
from app.shopify.operations import fetch_order, fetch_product_variants
from tests.support import queue
from tests.support.portal import SCOPES, connect_to_sandbox, exchangeable_product
from tests.support.queue import RecordingBackend

RETURNS_SCOPES = SCOPES + ["read_returns", "write_returns", "write_customers"]
_numbers = iter(range(1, 10**6))

# What each job named by app code does, run here in-process.
RUNNERS = {
    "jobs.shopify_returns.plan_shopify_returns_job": shopify_returns.plan_shopify_returns,
    "jobs.shopify_returns.advance_shopify_return_job": shopify_returns.advance,
    "jobs.shopify_returns.follow_refunds_job": lambda: return_settlement.follow_refunds(),
    "jobs.rules.match_return_rules_job": decide_return,
    "jobs.actions.issue_item_job": legacy_issuing.issue_item,
    "jobs.actions.restock_item_job": legacy_restock.restock_item,
    "jobs.outbound.deliver_outbound_job": outbound_sending.deliver,
}


class JobLog(RecordingBackend):
    """Jobs queued are recorded in order (``RecordingBackend``); ``run`` runs them."""

    def __init__(self, runs_in_process: bool = False):
        super().__init__(runs_in_process)
        self.ran: list = []

    def run(self, times: int = 2, limit: int = 200) -> list:
        """Run what is queued (and what that queues), each job ``times`` times."""
        results = []
        for _ in range(limit):
            if not self.queued:
                break
            name, args = self.queued.pop(0)
            for _ in range(times):
                results.append(RUNNERS[name](*args))
                self.ran.append((name, args))
            db.session.expire_all()
        else:
            raise AssertionError("jobs kept queueing more jobs")
        return results


def record_jobs(app, monkeypatch) -> JobLog:
    """Record the jobs the app queues instead of running them, until the test ends."""
    return queue.record_jobs(app, monkeypatch, JobLog.standing_in_for(app.extensions["jobs"]))


def returns_account(sandbox, return_action: str = "manual", *, scopes=None, customer_accounts: str = "new",
                    **fields) -> Account:
    """An account connected to a fresh sandbox shop, with the returns scopes (committed)."""
    n = next(_numbers)
    account = Account(name=f"Returns {n}", slug=f"returns-{n}", shop_domain=f"returns-{n}.myshopify.com",
                      return_action=return_action, **fields)
    db.session.add(account)
    db.session.flush()
    connect_to_sandbox(account, sandbox, scopes if scopes is not None else RETURNS_SCOPES)
    requests.patch(f"{sandbox.url}/_sandbox/shops/{account.shop_domain}",
                   json={"customer_accounts": customer_accounts}, timeout=5).raise_for_status()
    account.customer_accounts_version = "NEW_CUSTOMER_ACCOUNTS" if customer_accounts == "new" else "CLASSIC"
    _CLOCKS[account.shop_domain] = sandbox.clock
    db.session.commit()
    return account


def placed_order(account: Account, sandbox, *, quantity: int = 1, lines: int = 1, payment: str = "card",
                 guest: bool = False, product=None, country: str | None = None,
                 paid_in: str | None = None) -> Order:
    """An order placed and shipped in the sandbox, stored here through the app's own client.
    ``lines`` different products (each ``quantity`` units); ``order.products`` lists them;
    ``country`` the buyer's and ``paid_in`` the currency they paid in ("shop" or "customer")."""
    products = [product] if product else []
    taken = {p.id for p in products}
    while len(products) < lines:
        found = exchangeable_product(sandbox, account.shop_domain, exclude=taken)
        products.append(found)
        taken.add(found.id)
    placed = sandbox.store.place_order(account.shop_domain, variant_ids=[p.bought.id for p in products],
                                       quantity=quantity, discount_code="", payment=payment, guest=guest,
                                       seed=next(_numbers), country=country,
                                       paid_in=paid_in)
    placed.refunds, placed.cancelled_at = [], None
    sandbox.store.update_order(account.shop_domain, placed.id, fulfill=True, emit=False)
    upsert_order(account.id, fetch_order(client_for(account), placed.id))
    db.session.commit()
    order = db.session.query(Order).filter_by(account_id=account.id, shopify_order_id=placed.id).one()
    order.products = products
    return order


def submit(account: Account, order: Order, choices: list[tuple], *, token: str | None = None) -> Return:
    """A return made the way the portal makes it. ``choices``: (line index, quantity, option,
    exchange variant or None) — option None in rules mode."""
    selections = []
    for index, quantity, option, variant in choices:
        line = order.lines[index]
        selections.append(Selection(line_id=line.id, quantity=quantity, reason="Too small", option=option,
                                    variant_id=variant.id if variant is not None else None))
    client = client_for(account)
    # The sandbox's orders live on its virtual clock: the return is made "now" on that clock.
    at = datetime.fromtimestamp(sandbox_now(account), tz=timezone.utc)
    ret, created = create_return(account, order.id, selections, token or secrets.token_hex(8),
                                 variants_for=lambda product_id: fetch_product_variants(client, product_id), now=at)
    assert created
    return ret


_CLOCKS: dict[str, object] = {}


def sandbox_now(account: Account) -> float:
    """The sandbox's virtual time (seconds) for the account's shop."""
    return _CLOCKS[account.shop_domain].now()


def sandbox_returns(sandbox, account: Account | str) -> dict:
    """Every Shopify return of the shop and the counts, from the sandbox's control API."""
    domain = account if isinstance(account, str) else account.shop_domain
    response = requests.get(f"{sandbox.url}/_sandbox/shops/{domain}/returns", timeout=5)
    response.raise_for_status()
    return response.json()


def stock(sandbox, account: Account, variant_id: int) -> int:
    """A variant's available units in the sandbox (all locations)."""
    return sandbox.store.get_shop(account.shop_domain).variants[variant_id].inventory


def set_shop(sandbox, account: Account, **settings) -> None:
    """Change the sandbox shop's settings (customer accounts, gift card limit, refund outcome)."""
    requests.patch(f"{sandbox.url}/_sandbox/shops/{account.shop_domain}", json=settings,
                   timeout=5).raise_for_status()


def now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(timezone.utc)

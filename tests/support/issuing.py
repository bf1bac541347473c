"""Returns whose order really exists in the sandbox (fake Shopify), so issuing them makes real
refunds, gift cards and exchange orders there, counted by the sandbox's control API. Items made
here are on the old method (refundCreate, giftCardCreate, draft orders) unless told otherwise:
items in flight when Shopify returns arrived finish on it (tests/integration/returns/ covers the
new method)."""
from datetime import datetime, timezone

import pytest
import requests

from app.extensions import db
from app.models import Account, Order, Return, ReturnItem
from app.services import legacy_issuing, legacy_restock
from app.services.orders import upsert_order
from app.services.shopify_access import client_for
from app.shopify.operations import fetch_order
from tests.support.portal import SCOPES, connect_to_sandbox, exchangeable_product
from tests.support.queue import RecordingBackend, record_jobs

_numbers = iter(range(1, 10**6))


def connected_account(sandbox, return_action: str = "manual", **fields) -> Account:
    """An account connected to a fresh sandbox shop (flushed)."""
    n = next(_numbers)
    account = Account(name=f"Issuer {n}", slug=f"issuer-{n}", shop_domain=f"issuer-{n}.myshopify.com",
                      return_action=return_action, **fields)
    db.session.add(account)
    db.session.flush()
    connect_to_sandbox(account, sandbox, SCOPES + ["read_returns", "write_returns", "write_customers"])
    db.session.commit()
    return account


def shipped_order(account: Account, sandbox, quantity: int = 1) -> Order:
    """An order placed and shipped in the sandbox, stored here through the app's own client."""
    product = exchangeable_product(sandbox, account.shop_domain)
    placed = sandbox.store.place_order(account.shop_domain, variant_ids=[product.bought.id], quantity=quantity,
                                       discount_code="")
    # A paid, untouched order (the seeded mix also has authorised-only, voided and refunded ones).
    placed.financial, placed.refunds, placed.cancelled_at = "PAID", [], None
    sandbox.store.update_order(account.shop_domain, placed.id, fulfill=True, emit=False)
    upsert_order(account.id, fetch_order(client_for(account), placed.id))
    db.session.commit()
    order = db.session.query(Order).filter_by(account_id=account.id, shopify_order_id=placed.id).one()
    order.product = product  # for exchange tests: the variants to swap to
    return order


def make_decided_return(account: Account, order: Order, option: str = "refund", quantity: int = 1,
                        variant=None, issuing_method: str = "legacy") -> Return:
    """A customer-choice return of the order's first line with the option already chosen."""
    line = order.lines[0]
    now = datetime.now(timezone.utc)
    ret = Return(account_id=account.id, order_id=order.id, rma_number=f"I-{next(_numbers)}", status="OPEN",
                 option_source="customer", shopify_order_id=order.shopify_order_id, order_name=order.name,
                 customer_email=order.email, customer_name=order.customer_name,
                 shipping_address=order.shipping_address, currency=order.currency, created_at=now, updated_at=now)
    ret.items.append(ReturnItem(
        order_line_id=line.id, shopify_line_id=line.shopify_line_id, product_id=line.product_id,
        variant_id=line.variant_id, title=line.title, variant_title=line.variant_title,
        unit_value=line.discounted_unit_price, quantity=quantity, reason="Too small", option=option,
        resolution="DECIDED", exchange_variant_id=variant.id if variant is not None else None,
        issuing_method=issuing_method,
        exchange_variant_title=variant.title if variant is not None else None))
    db.session.add(ret)
    db.session.commit()
    return ret


def issued_in_sandbox(sandbox, account: Account | str) -> dict:
    """What the app created in the account's (or the domain's) sandbox shop, counted by the
    sandbox's control API."""
    domain = account if isinstance(account, str) else account.shop_domain
    response = requests.get(f"{sandbox.url}/_sandbox/shops/{domain}/issued", timeout=5)
    response.raise_for_status()
    return response.json()


class IssuingJobs(RecordingBackend):
    """Issuing and restock jobs recorded when queued, as item ids in ``issue`` and ``restock``;
    every other job as ``(name, args)`` in ``other``. ``run()`` runs the issuing and restock jobs
    (each twice, as a retry or a duplicate delivery would)."""

    KINDS = {"jobs.actions.issue_item_job": "issue", "jobs.actions.restock_item_job": "restock"}

    def __init__(self, runs_in_process: bool = False):
        super().__init__(runs_in_process)
        self.issue: list = []
        self.restock: list = []
        self.other: list = []

    def enqueue_spec(self, spec, args, job_id, unique):
        """Record the job under its kind."""
        super().enqueue_spec(spec, args, job_id, unique)
        job = self.queued.pop()
        kind = self.KINDS.get(job.name)
        if kind:
            getattr(self, kind).append(job.args[0])
        else:
            self.other.append(job)

    def run(self, times: int = 2) -> list:
        """Run the issuing, then the restock jobs recorded so far, each ``times`` times."""
        results = []
        for kind, func in (("issue", legacy_issuing.issue_item), ("restock", legacy_restock.restock_item)):
            pending = getattr(self, kind)
            setattr(self, kind, [])
            for item_id in pending:
                for _ in range(times):
                    results.append(func(item_id))
        db.session.expire_all()
        return results


@pytest.fixture
def queued(app, monkeypatch) -> IssuingJobs:
    """Issuing and restock jobs recorded when queued; ``queued.run()`` runs them."""
    return record_jobs(app, monkeypatch, IssuingJobs.standing_in_for(app.extensions["jobs"]))

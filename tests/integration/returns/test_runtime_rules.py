"""The app copes with each of Shopify's runtime rules the sandbox enforces: scopes, protected
customer data on webhook topics, mandatory idempotency keys with their variables, requests still in
progress, changeFromQuantity, 40-character tags (docs/reference/shopify-returns.md §3, §6)."""
from datetime import datetime, timezone

import pytest
import requests

from app.extensions import db
from app.models import Return, ReturnItem, ShopifyReturn
from app.services import legacy_issuing, legacy_restock, return_workflow as wf
from app.services.webhook_subscriptions import sync_webhooks
from app.shopify import errors as E
from tests.support.issuing import issued_in_sandbox
from tests.support.portal import SCOPES
from tests.support.shopify_returns import (RETURNS_SCOPES, placed_order, returns_account, sandbox_returns, stock,
                                           submit)

STAFF = "staff@example.com"


def app_client_id(sandbox, account) -> str:
    return next(a.client_id for a in sandbox.store.state["apps"].values() if a.shop == account.shop_domain)


def test_without_write_returns_nothing_is_issued_and_staff_are_told_which_scope(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", scopes=SCOPES + ["read_returns"])
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])
    jobs.run()
    wf.close_return(ret, STAFF)
    jobs.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "FAILED" and "write_returns" in item.failure_reason
    assert "write_returns" in db.session.query(ShopifyReturn).one().failure_reason
    counts = issued_in_sandbox(sandbox, account)
    assert (counts["refunds"], counts["gift_cards"], counts["returns_created"]) == (0, 0, 0)  # no old-way fallback


def test_webhook_topics_need_protected_data_approval_and_returns_topics_need_read_returns(app, sandbox,
                                                                                          monkeypatch):
    account = returns_account(sandbox, "manual", scopes=SCOPES)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")
    done = sync_webhooks(account.id)
    assert not any(t.startswith("RETURNS_") for t in done["created"])  # no read_returns: not subscribed
    requests.patch(f"{sandbox.url}/_sandbox/shops/{account.shop_domain}/apps/{app_client_id(sandbox, account)}",
                   json={"protected_customer_data_approved": False}, timeout=5).raise_for_status()
    other = returns_account(sandbox, "manual", scopes=RETURNS_SCOPES)
    requests.patch(f"{sandbox.url}/_sandbox/shops/{other.shop_domain}/apps/{app_client_id(sandbox, other)}",
                   json={"protected_customer_data_approved": False}, timeout=5).raise_for_status()
    with pytest.raises(E.UserErrorsError):
        sync_webhooks(other.id)
    db.session.refresh(other)
    assert "protected customer data" in other.webhooks_error


def test_returns_topics_are_subscribed_with_read_returns(app, sandbox, monkeypatch):
    account = returns_account(sandbox, "manual", scopes=RETURNS_SCOPES)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")
    done = sync_webhooks(account.id)
    assert {"RETURNS_APPROVE", "RETURNS_PROCESS", "RETURNS_CANCEL", "RETURNS_CLOSE"} <= set(done["created"])


def test_separate_exchange_orders_keep_their_tag_within_40_characters(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", exchange_mode="separate_order")
    order = placed_order(account, sandbox)
    wanted = order.products[0].in_stock[0]
    before = stock(sandbox, account, wanted.id)
    ret = submit(account, order, [(0, 1, "exchange", wanted)])
    jobs.run()
    wf.close_return(ret, STAFF)
    jobs.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "ISSUED" and item.exchange_order_name != order.name
    drafts = issued_in_sandbox(sandbox, account)["draft_order_list"]
    assert len(drafts) == 1 and all(len(t) <= 40 for t in drafts[0]["tags"])
    held = sandbox_returns(sandbox, account)
    assert held["returns"][0]["exchanges"] == [] and held["summary"]["units_processed"] == 1  # unit recorded
    assert stock(sandbox, account, wanted.id) == before - 1


# --- items in flight on the old method finish on it -------------------------------------------------

def legacy_item(account, sandbox, option="refund") -> ReturnItem:
    """A return issued the old way, its item claimed (ISSUING) when the new method arrived."""
    order = placed_order(account, sandbox)
    line = order.lines[0]
    now = datetime.now(timezone.utc)
    ret = Return(account_id=account.id, order_id=order.id, rma_number=f"L-{order.id}", status="CLOSED",
                 option_source="customer", shopify_order_id=order.shopify_order_id, order_name=order.name,
                 customer_email=order.email, currency=order.currency, created_at=now, updated_at=now,
                 action_triggered_at=now)
    ret.items.append(ReturnItem(order_line_id=line.id, shopify_line_id=line.shopify_line_id, product_id=line.product_id,
                                variant_id=line.variant_id, title=line.title, unit_value=line.discounted_unit_price,
                                quantity=1, reason="Too small", option=option, resolution="DECIDED",
                                issuing_method="legacy"))
    db.session.add(ret)
    db.session.commit()
    return ret.items[0]


def test_a_legacy_refund_in_progress_at_shopify_waits_and_finishes_once(app, sandbox, virtual_clock, monkeypatch):
    account = returns_account(sandbox, "manual")
    item = legacy_item(account, sandbox)
    sandbox.store.set_faults(account.shop_domain, keyed_in_progress_seconds=3600)
    # Applied, its answer lost; the client's keyed retry meets Shopify still working on it.
    assert legacy_issuing.issue_item(item.id) == "in progress"
    assert db.session.get(ReturnItem, item.id).resolution == "ISSUING"  # "in progress" is never FAILED
    monkeypatch.setitem(app.config, "ISSUE_LEASE_SECONDS", 0)
    # Reconciled first: the order's refunds show the one the first call made.
    assert legacy_issuing.issue_item(item.id) == "issued"
    assert issued_in_sandbox(sandbox, account)["refunds"] == 1


def test_a_legacy_refund_is_resent_with_its_first_variables(app, sandbox, virtual_clock, monkeypatch):
    account = returns_account(sandbox, "manual")
    item = legacy_item(account, sandbox)
    sandbox.store.set_faults(account.shop_domain, drop_response_after_mutation=1.0)
    with pytest.raises(E.ShopifyError):
        legacy_issuing.issue_item(item.id)
    sandbox.store.clear_faults(account.shop_domain)
    first = db.session.get(ReturnItem, item.id).keyed_input
    # Shopify's suggestion changes meanwhile: the retry must not recompute (same key, other figures).
    monkeypatch.setattr(legacy_issuing, "_suggested", lambda *a: pytest.fail("recomputed the refund"))
    monkeypatch.setitem(app.config, "ISSUE_LEASE_SECONDS", 0)
    assert legacy_issuing.issue_item(item.id) == "issued"
    assert db.session.get(ReturnItem, item.id).keyed_input == first
    assert issued_in_sandbox(sandbox, account)["refunds"] == 1


def test_a_legacy_restock_passes_change_from_quantity_and_rereads_a_stale_level(app, sandbox, virtual_clock,
                                                                               monkeypatch):
    account = returns_account(sandbox, "first_scan")
    item = legacy_item(account, sandbox)
    assert legacy_issuing.issue_item(item.id) == "issued"
    item = db.session.get(ReturnItem, item.id)
    assert item.restock_state == "PENDING"
    variant = item.variant_id
    before = stock(sandbox, account, variant)
    real = legacy_issuing.shopify.send_restock

    def someone_sells_one_first(client, variables):
        monkeypatch.setattr(legacy_issuing.shopify, "send_restock", real)
        sandbox.store.get_shop(account.shop_domain).variants[variant].inventory -= 1
        return real(client, variables)

    monkeypatch.setattr(legacy_issuing.shopify, "send_restock", someone_sells_one_first)
    assert legacy_restock.restock_item(item.id) == "stale level: retry"
    assert legacy_restock.restock_item(item.id) == "restocked"
    assert stock(sandbox, account, variant) == before - 1 + 1
    assert db.session.get(ReturnItem, item.id).keyed_input["restock_attempt"] == 2

"""Connecting a store from the command line, and `make demo`'s wiring to the sandbox."""
import time
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.services.webhook_subscriptions import FULFILLMENT_TOPICS, RETURN_TOPICS, WEBHOOK_TOPICS
from app.models import Account
from tests.factories import make_account
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.connect import (SEEDED, SHOP, assert_nothing_saved, make_shop, order_count, use_virtual_time)


# --- CLI --------------------------------------------------------------------------------------------

def test_cli_connects_with_a_token_and_imports(app, sandbox, monkeypatch, drain_jobs, jobs_run_at_once):
    use_virtual_time(monkeypatch, sandbox)
    # Everything but gift cards granted: the command must name the missing permission.
    shop = make_shop(sandbox, scopes=["read_orders", "write_orders", "read_all_orders", "read_products",
                                      "read_customers", "write_draft_orders"])
    account = make_account(shop_domain=None, slug="cli-shop")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["shop", "connect", "--account-slug", "cli-shop", "--domain", SHOP,
                                 "--token", shop.token, "--secret", shop.client_secret,
                                 "--api-origin", shop.origin])
    assert result.exit_code == 0, result.output
    assert f"Connected 'cli-shop' to Acme Outfitters ({SHOP})" in result.output
    assert "Missing write_gift_cards" in result.output
    drain_jobs()
    db.session.expire_all()
    assert db.session.get(Account, account.id).is_connected
    assert order_count(account.id) == SEEDED
    result = runner.invoke(args=["shop", "import", "--account-slug", "cli-shop"])
    assert result.exit_code == 0 and "Import" in result.output


@pytest.mark.parametrize("args, message", [
    (["--token", "nope"], "--token"),
    (["--domain", "bad domain"], "--domain"),
    (["--account-slug", "no-such-account"], "No account with the slug"),
])
def test_cli_connect_refuses_bad_input_and_saves_nothing(app, shop, args, message):
    account = make_account(shop_domain="untouched.myshopify.com", slug="cli-shop")
    db.session.commit()
    base = {"--account-slug": "cli-shop", "--domain": SHOP, "--token": shop.token,
            "--secret": shop.client_secret, "--api-origin": shop.origin}
    base[args[0]] = args[1]
    argv = ["shop", "connect"] + [item for pair in base.items() for item in pair]
    result = app.test_cli_runner().invoke(args=argv)
    assert result.exit_code != 0
    assert message in result.output
    assert_nothing_saved(account.id)


# --- the demo wiring ----------------------------------------------------------------------------------

def demo_returns_in_sandbox(sandbox, domain: str, account_id: int) -> dict:
    """{Shopify return name: the sandbox's return} for each Boomerang return of the account,
    checking each is one of Boomerang's own returns in the sandbox."""
    from app.models import ShopifyReturn

    held = {r["name"]: r for r in requests.get(f"{sandbox.url}/_sandbox/shops/{domain}/returns").json()["returns"]}
    ours = db.session.scalars(select(ShopifyReturn).where(ShopifyReturn.account_id == account_id)).all()
    assert ours and all(ref.name in held and not ref.made_in_shopify for ref in ours)
    return {ref.name: held[ref.name] for ref in ours}


def test_the_demo_connects_to_the_sandbox_and_is_safe_to_run_again(app, sandbox, monkeypatch, drain_jobs,
                                                                   demo_jobs_in_process):
    from decimal import Decimal

    from app.demo.orders import OUTFITTERS_ORDERS
    from app.demo.returns import OUTFITTERS_RETURNS, REVIEW_RETURNS
    from app.demo.sandbox import DEMO_ORDERS, DEMO_SCOPES, DEMO_SHOP
    from app.demo.stores import connect_demo
    from app.models import Order, Return, ShopifyReturn

    use_virtual_time(monkeypatch, sandbox)
    sandbox.clock.set(time.time())
    user, facts = connect_demo(sandbox.url)
    drain_jobs()
    db.session.expire_all()
    account = db.session.get(Account, user.account_id)
    assert account.is_connected and account.shop_domain == DEMO_SHOP
    assert account.connection_method == "legacy_token"
    shop_orders = DEMO_ORDERS + len(OUTFITTERS_ORDERS)
    assert facts["orders"] == shop_orders and order_count(account.id) == shop_orders
    # Connected with the returns scopes; what the connect check reads is recorded.
    assert set(DEMO_SCOPES) <= set(account.granted_scopes)
    assert {"read_returns", "write_returns", "write_customers"} <= set(account.granted_scopes)
    assert account.customer_accounts_version == "NEW_CUSTOMER_ACCOUNTS"
    assert account.gift_card_issue_limit == Decimal("2000.00")
    assert account.return_action == "first_scan"
    # Shoppers returning a faulty item are offered photos, so the demo shows the photo field.
    assert account.photo_modes == {"Faulty": "optional"}

    # The orders to try, one per case, as the sandbox holds them and as Boomerang stored them.
    placed = {o["email"]: o for o in requests.get(
        f"{sandbox.url}/_sandbox/shops/{DEMO_SHOP}/orders?limit=10").json()["orders"]}
    assert [(label, order.email) for label, order in facts["specials"]] == [
        (spec.label, spec.email) for spec in OUTFITTERS_ORDERS]
    manual, pending, failing, guest = (placed[spec.email] for spec in OUTFITTERS_ORDERS)
    assert (manual["gateway"], manual["financial_status"]) == ("manual", "PAID")
    assert (pending["refund_outcome"], failing["refund_outcome"], manual["refund_outcome"]) == \
        ("pending", "failure", "success")
    assert guest["customer_id"] is None and manual["customer_id"] is not None
    assert all(o["fulfillment_status"] == "FULFILLED" for o in (manual, pending, failing, guest))
    stored = {order.email: order for _label, order in facts["specials"]}
    assert stored[guest["email"]].customer_shopify_id is None
    assert {order.name for order in stored.values()} == {o["name"] for o in (manual, pending, failing, guest)}
    tried = {order.id for _label, order in facts["picks"]}
    assert len(tried) == 3 and not tried & {order.id for order in stored.values()}

    # The demo returns, each with its Shopify return (lines and all) in the sandbox.
    returns, (waiting,) = facts["returns"][:-1], facts["returns"][-1:]
    # Then the store reviews returns over a value, and one such return awaits review: in Shopify
    # a return request, until staff approve or decline it.
    assert len(returns) == len(OUTFITTERS_RETURNS) and len(REVIEW_RETURNS) == 1
    assert waiting.status == "REQUESTED" and account.review_mode == "rule"
    assert db.session.get(Order, waiting.order_id).total_price > Decimal("100")
    assert db.session.scalars(select(ShopifyReturn.status).where(
        ShopifyReturn.return_id == waiting.id)).all() == ["REQUESTED"]
    assert not {ret.order_id for ret in returns} & (tried | {order.id for order in stored.values()})
    assert [ret.status for ret in returns] == ["OPEN", "CLOSED", "CLOSED", "CLOSED"]
    assert returns[0].tracking_number == "DEMO1001"
    assert [sorted(i.option for i in ret.items) for ret in returns] == [
        ["refund"], ["refund"], ["credit"], ["exchange"]]
    assert all(i.resolution == "ISSUED" for ret in returns[1:] for i in ret.items)
    assert [i.resolution for i in returns[0].items] == ["DECIDED"]  # waiting for the first scan
    in_sandbox = demo_returns_in_sandbox(sandbox, DEMO_SHOP, account.id)
    assert len(in_sandbox) == len(OUTFITTERS_RETURNS) + len(REVIEW_RETURNS)
    waiting_name = db.session.scalar(select(ShopifyReturn.name).where(ShopifyReturn.return_id == waiting.id))
    assert in_sandbox[waiting_name]["status"] == "REQUESTED"
    for ret in returns:
        held = in_sandbox[db.session.scalar(select(ShopifyReturn.name).where(ShopifyReturn.return_id == ret.id))]
        assert [(ln["title"], ln["quantity"]) for ln in held["lines"]] == [
            (f"{i.title} ({i.variant_title})" if i.variant_title else i.title, i.quantity) for i in ret.items]
        assert held["status"] == ("OPEN" if ret.status == "OPEN" else "CLOSED")
    summary = requests.get(f"{sandbox.url}/_sandbox/shops/{DEMO_SHOP}/issued").json()
    assert summary["return_refunds"] == 2 and summary["store_credit_issued"] != "0.00"
    assert summary["exchange_units_processed"] == 1
    page = requests.get(f"{sandbox.url}/").text
    assert all(name in page for name in in_sandbox)
    # The Outbox shows the shopper emails of the way: each confirmation, a parcel received, what was issued.
    from app.models import OutboxEmail
    kinds = db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.account_id == account.id)).all()
    assert {"submitted", "received", "issued"} <= set(kinds)
    assert kinds.count("submitted") == len(OUTFITTERS_RETURNS) + len(REVIEW_RETURNS)
    # The demo's webhook endpoint (the sandbox's stand-in for the retailer's system) heard them.
    from app.models import OutboundDelivery
    sent = db.session.scalars(select(OutboundDelivery).where(OutboundDelivery.account_id == account.id)).all()
    assert sent and {d.state for d in sent} == {"delivered"}
    inbox = requests.get(f"{sandbox.url}/_sandbox/retailer-hooks/inbox").json()
    assert {"return.created", "return.closed", "item.issued"} <= {m["headers"]["X-Boomerang-Topic"] for m in inbox}
    first_token = account.access_token_encrypted

    sandbox.store.webhooks.flush(5)
    user, facts = connect_demo(sandbox.url)  # a second `make demo`
    drain_jobs()
    db.session.expire_all()
    account = db.session.get(Account, user.account_id)
    assert account.access_token_encrypted == first_token  # already connected: left alone
    assert order_count(account.id) == shop_orders == len(sandbox.store.get_shop(DEMO_SHOP).orders)
    assert len([s for s in sandbox.store.state["subs"].values() if s.shop == DEMO_SHOP]) == len(
        WEBHOOK_TOPICS + RETURN_TOPICS + FULFILLMENT_TOPICS)
    assert [ret.id for ret in facts["returns"]] == [ret.id for ret in returns] + [waiting.id]
    assert db.session.scalar(select(func.count()).select_from(Return).where(
        Return.account_id == account.id)) == len(OUTFITTERS_RETURNS) + len(REVIEW_RETURNS)
    assert len(demo_returns_in_sandbox(sandbox, DEMO_SHOP, account.id)) == len(OUTFITTERS_RETURNS) + len(REVIEW_RETURNS)
    # The analytics page has something to show: the demo returns against the units its orders sold
    # (counted once, though the demo ran twice).
    from app.domain.analytics import preset_range
    from app.models import OrderLine
    from app.services.analytics import compute

    shown = compute(account.id, preset_range(365, datetime.now(timezone.utc).date())).current
    assert shown.returned_units > 0 and shown.sold_units == db.session.scalar(
        select(func.sum(OrderLine.quantity)).join(Order).where(Order.account_id == account.id,
                                                               Order.cancelled_at.is_(None)))
    assert {"refund", "credit", "exchange"} <= set(shown.split) and shown.median is not None
    # Run again, the demo writes no email twice.
    assert db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.account_id == account.id)).all() == kinds


def test_the_rules_demo_is_on_classic_accounts_with_the_one_app_and_returns(app, sandbox, monkeypatch, drain_jobs,
                                                                              demo_jobs_in_process):
    """Demo Rules Co: classic customer accounts (a credit note is a gift card), an order whose
    discount makes the rules give a credit note, and returns already made. Both demo shops have
    the one Boomerang app installed, and each store verifies webhooks with its one secret."""
    from decimal import Decimal

    from app.crypto import decrypt_secret
    from app.demo.orders import RULES_ORDERS
    from app.demo.returns import RULES_RETURNS
    from app.demo.sandbox import DEMO_SHOP
    from app.demo.stores import RULES_SHOP, connect_demo, connect_rules_demo
    from app.models import Rule

    use_virtual_time(monkeypatch, sandbox)
    sandbox.clock.set(time.time())
    user, _facts = connect_demo(sandbox.url)
    rules_user, facts = connect_rules_demo(sandbox.url)
    drain_jobs()
    db.session.expire_all()
    secrets = set()
    for account_id, domain in ((user.account_id, DEMO_SHOP), (rules_user.account_id, RULES_SHOP)):
        account = db.session.get(Account, account_id)
        apps = requests.get(f"{sandbox.url}/_sandbox/shops/{domain}").json()["apps"]
        assert len(apps) == 1 and decrypt_secret(account.webhook_secret_encrypted) == apps[0]["client_secret"]
        secrets.add((apps[0]["client_id"], apps[0]["client_secret"]))
    assert len(secrets) == 1
    account = db.session.get(Account, rules_user.account_id)
    assert account.option_mode == "rules" and account.customer_accounts_version == "CLASSIC"
    (label, order), = facts["specials"]
    assert order.email == RULES_ORDERS[0].email and order.discount_codes == ["STAFF60"]
    assert order.total_discounts / (order.subtotal_price + order.total_discounts) > Decimal("0.5")

    returns = facts["returns"]
    assert [ret.status for ret in returns] == ["PROCESSED", "PROCESSED"] and len(returns) == len(RULES_RETURNS)
    refund, credit = (ret.items[0] for ret in returns)
    assert (refund.option, refund.resolution) == ("refund", "ISSUED")
    assert db.session.get(Rule, refund.decided_by_rule_id).name == "Faulty items are refunded"
    assert (credit.option, credit.resolution) == ("credit", "ISSUED")
    issued = requests.get(f"{sandbox.url}/_sandbox/shops/{RULES_SHOP}/issued").json()
    assert issued["gift_cards"] == 1 and issued["store_credit_issued"] == "0.00"  # classic: a gift card
    assert len(demo_returns_in_sandbox(sandbox, RULES_SHOP, account.id)) == 2

    sandbox.store.webhooks.flush(5)
    again_user, again = connect_rules_demo(sandbox.url)  # a second `make demo`
    assert [ret.id for ret in again["returns"]] == [ret.id for ret in returns]
    assert requests.get(f"{sandbox.url}/_sandbox/shops/{RULES_SHOP}/issued").json()["gift_cards"] == 1
    assert len([o for o in sandbox.store.get_shop(RULES_SHOP).orders.values()
                if o.email == RULES_ORDERS[0].email]) == 1


def test_make_demo_keeps_the_webhooks_sent_while_it_sets_up_and_hands_them_on_after(app):
    """`make demo` serves while the demo returns are made (Shopify deletes a subscription whose
    deliveries fail eight times in a row), but keeps their webhooks until setup is done: SQLite
    takes one writer at a time. Each is answered 200 at once, then stored in the order it came."""
    import json

    from werkzeug.test import Client

    from app.crypto import encrypt_secret
    from app.demo.gate import SetupGate
    from app.models import WebhookDelivery
    from tests.support.shopify_webhooks import SECRET, signed_headers

    shop = "gate-demo.myshopify.com"
    make_account(shop_domain=shop, slug="gate-demo", webhook_secret_encrypted=encrypt_secret(SECRET))
    db.session.commit()
    gate = SetupGate(app)
    client = Client(gate)

    def send(event_id: str):
        body = json.dumps({"id": 1}).encode()
        return client.post("/webhooks/shopify", data=body,
                           headers=signed_headers(body, shop, "app/uninstalled", event_id=event_id))

    def stored() -> list[str]:
        db.session.expire_all()
        return list(db.session.scalars(select(WebhookDelivery.event_id).where(WebhookDelivery.shop_domain == shop)
                                       .order_by(WebhookDelivery.id)))

    assert [send(event).status_code for event in ("first", "second")] == [200, 200]
    assert stored() == [] and len(gate.kept) == 2
    assert gate.open_and_replay() == 2
    assert stored() == ["first", "second"]
    assert send("third").status_code == 200 and stored() == ["first", "second", "third"]

"""The two demo stores of `make demo`, each connected to its sandbox shop with orders to try and a
few returns made already: Demo Outfitters (customer choice, new customer accounts, so a credit note
is store credit) and Demo Rules Co (rules mode with the spec's three example rules, classic customer
accounts, so a credit note is a gift card). Both are safe to set up again."""
from sqlalchemy import func, select

from app.demo.orders import OUTFITTERS_ORDERS, RULES_ORDERS, orders_to_try, stored_orders_to_try
from app.demo.returns import OUTFITTERS_RETURNS, REVIEW_OVER, REVIEW_RETURNS, RULES_RETURNS, make_demo_returns
from app.demo.sandbox import SandboxControl, connect_demo_shop, demo_shop
from app.demo.seed import DEMO_PASSWORD, SAMPLE_ORDER_IDS, SAMPLE_ORDERS, seed_demo
from app.domain.photos import PhotoMode
from app.domain.vocabulary import ReturnAction
from app.extensions import db
from app.models import Account, Order, OutboundEndpoint, User
from app.services import outbound_webhooks
from app.services.accounts import sign_up
from app.services.imports import latest_run
from app.services.rules import seed_keep_demo, seed_review_demo, seed_rules_demo
from app.shopify.client import ShopifyClient
from app.shopify.errors import UserErrorsError
from app.shopify.operations import delete_webhook_subscription, list_webhook_subscriptions

RULES_EMAIL = "admin@demo-rules.com"
RULES_STORE = "Demo Rules Co"
RULES_SHOP = "demo-rules.myshopify.com"
# An earlier demo gave this shop an app of its own; the one Boomerang app replaces it.
EARLIER_CLIENT_ID = "boomerang-demo-rules-app"


def connect_demo(sandbox_url: str) -> tuple[User, dict]:
    """Seed the demo login, make the sandbox shop (with its orders to try), connect the account to
    it, make the demo returns and return what to print. Safe to run again."""
    user = seed_demo(sample_orders=False)
    account = db.session.get(Account, user.account_id)
    # The three placeholder orders of `flask demo seed` would sit beside the shop's own #1001…
    for number in range(1, len(SAMPLE_ORDERS) + 1):
        placeholder = db.session.scalar(select(Order).where(
            Order.account_id == account.id, Order.shopify_order_id == SAMPLE_ORDER_IDS + number))
        if placeholder is not None:
            db.session.delete(placeholder)
    db.session.commit()
    sandbox = SandboxControl(sandbox_url)
    demo = demo_shop(sandbox, settings={"customer_accounts": "new"}, orders_to_try=OUTFITTERS_ORDERS)
    connect_demo_shop(account, sandbox, demo)
    account = db.session.get(Account, user.account_id)
    account.return_action = ReturnAction.FIRST_SCAN.value  # as the demo carrier says (demo/tracking.py)
    # Boomerang, not Shopify, tells shoppers what was issued: the Outbox shows those emails too.
    account.issued_notice = "email"
    # A restocking fee for a change of mind, as many shops charge: the portal's review shows it.
    account.restocking_fees = {"Changed my mind": "10"}
    # Shoppers returning a faulty item may add photos, so the portal shows its photo field.
    if "Faulty" in (account.return_reasons or []):
        account.photo_modes = {**(account.photo_modes or {}), "Faulty": PhotoMode.OPTIONAL.value}
    connect_demo_webhooks(account, sandbox_url)
    run = latest_run(account.id)
    picks = orders_to_try(account)
    specials = stored_orders_to_try(account, OUTFITTERS_ORDERS)
    returns = make_demo_returns(account, OUTFITTERS_RETURNS,
                                skip_orders={order.id for _, order in picks + specials})
    # Then the store reviews returns over a value, and one such return awaits review.
    seed_review_demo(db.session.get(Account, user.account_id), REVIEW_OVER)
    seed_keep_demo(db.session.get(Account, user.account_id))
    account = db.session.get(Account, user.account_id)
    returns += make_demo_returns(account, REVIEW_RETURNS, skip_orders={order.id for _, order in picks + specials}
                                 | {r.order_id for r in returns})
    return db.session.get(User, user.id), {
        "orders": demo.shop["orders"], "import": run.status if run else "none",
        "stored": db.session.scalar(select(func.count()).select_from(Order).where(
            Order.account_id == account.id)),
        "picks": picks, "specials": specials, "returns": returns,
    }


def connect_demo_webhooks(account: Account, sandbox_url: str) -> None:
    """An outbound webhook endpoint to the sandbox's stand-in for the retailer's own system, so the
    demo returns fill Settings → Webhooks' delivery log (once; only where loopback is allowed)."""
    url = f"{sandbox_url.rstrip('/')}/_sandbox/retailer-hooks/inbox"
    if db.session.scalar(select(OutboundEndpoint.id).where(OutboundEndpoint.account_id == account.id)):
        return
    try:
        outbound_webhooks.create_endpoint(account, url, list(outbound_webhooks.TOPICS), "Warehouse (demo)")
    except outbound_webhooks.EndpointRefused:
        pass  # a production configuration: the demo's receiver is on this machine


def retire_earlier_app(sandbox: SandboxControl, shop: dict) -> None:
    """Uninstall the app an earlier demo installed on this shop, once the store is connected
    through the one Boomerang app: its webhook subscriptions first, so it sends none, and no
    app/uninstalled, which the store's previous secret (the earlier app's, still accepted while
    a secret changes) would let disconnect the store."""
    if not any(app["client_id"] == EARLIER_CLIENT_ID and app["installed"] for app in shop["apps"]):
        return
    path = f"/shops/{RULES_SHOP}/apps/{EARLIER_CLIENT_ID}"
    earlier = ShopifyClient(RULES_SHOP, sandbox.call("POST", f"{path}/admin-token")["access_token"],
                            api_origin=shop["api_origin"])
    for subscription in list_webhook_subscriptions(earlier):  # the earlier app's own
        try:
            delete_webhook_subscription(earlier, subscription.id)
        except UserErrorsError as refused:
            # Only "no such subscription" is expected (the connection's webhook sync, running on
            # the jobs thread meanwhile, may have removed it first): gone is what this wants.
            if any(item.field != ("id",) for item in refused.items):
                raise
    sandbox.call("POST", f"{path}/uninstall")


def connect_rules_demo(sandbox_url: str) -> tuple[User, dict]:
    """Make the login, the sandbox shop (classic customer accounts, its order to try) and the
    connection, seed the three example rules and switch customer choice off, then make the demo
    returns; returns the user and what to print. Safe to run again."""
    user = db.session.scalar(select(User).where(User.email == RULES_EMAIL))
    if user is None:
        user = sign_up(RULES_STORE, RULES_EMAIL, DEMO_PASSWORD)
    account = db.session.get(Account, user.account_id)
    sandbox = SandboxControl(sandbox_url)
    demo = demo_shop(sandbox, RULES_SHOP, RULES_STORE, orders=80, seed=7,
                     settings={"customer_accounts": "classic"}, orders_to_try=RULES_ORDERS)
    connect_demo_shop(account, sandbox, demo)
    retire_earlier_app(sandbox, demo.shop)
    seed_rules_demo(db.session.get(Account, user.account_id))
    db.session.commit()
    account = db.session.get(Account, user.account_id)
    picks = orders_to_try(account)
    specials = stored_orders_to_try(account, RULES_ORDERS)
    returns = make_demo_returns(account, RULES_RETURNS, skip_orders={order.id for _, order in picks + specials})
    return db.session.get(User, user.id), {"picks": picks, "specials": specials, "returns": returns}

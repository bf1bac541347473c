"""Connecting a store, three ways (DESIGN §2.1); what was typed is read in connect_input.py.

Every way ends in ``connect``: a live check against the store with a short timeout (who the shop
is, which scopes were granted, whether customer data is readable), and only when all of that
succeeded are the credentials saved (encrypted), the return window capped when it must be, the
webhook subscriptions queued and the initial import queued. Any failure raises ``ConnectError``
naming the form field it belongs to, and nothing is saved.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import islice

from flask import current_app

from app.crypto import decrypt_secret, encrypt_secret
from app.extensions import db
from app.i18n import language_of_shop_locale
from app.models import Account, ConnectionMethod, ImportRun
from app.queue import enqueue
from app.services import imports
from app.services.connect_input import ConnectError, check_available, parse_api_origin, parse_secret, parse_shop
from app.services.imports import SHOPIFY_ORDER_VISIBILITY_DAYS, describe_error, start_import
from app.services.return_address import remember_shop_address
from app.services.shopify_access import store_token
from app.shopify import auth
from app.shopify import errors as E
from app.shopify.auth import AccessToken
from app.shopify.client import ShopifyClient
from app.shopify.operations import (ShopInfo, fetch_gift_card_limit, fetch_primary_locale, fetch_shop_info,
                                    iter_orders)

log = logging.getLogger(__name__)

# What each permission is for, in the retailer's words (the order is the order shown).
SCOPE_PURPOSES = [
    ("read_orders", "find orders and import them — nothing works without it"),
    ("read_all_orders", "see orders older than 60 days"),
    ("read_products", "read the items on orders and offer other sizes and colours for exchanges "
                      "— nothing works without it"),
    ("read_returns", "see returns made in Shopify and what Shopify still lets a customer return"),
    ("write_returns", "record every return in Shopify and issue its refund, store credit or exchange "
                      "through it — nothing is issued without it"),
    ("write_orders", "issue refunds"),
    ("write_gift_cards", "issue credit notes as gift cards where store credit is unavailable"),
    ("write_customers", "give a credit note's gift card to the customer, in their account"),
    ("write_draft_orders", "create separate exchange orders (only in that exchange mode)"),
    ("write_inventory", "put returned items back into stock"),
    ("read_locations", "choose the location returned items are restocked at"),
    ("read_fulfillments", "hear at once when a parcel ships or arrives, for return windows counted from "
                          "delivery (without it they are read with the order)"),
    ("read_locales", "start the returns portal in your shop's own language"),
]
# Orders cannot be read without both: a line item's product and variant need read_products.
REQUIRED_SCOPES = ("read_orders", "read_products")
# A return is issued after the parcel is back and checked: allow this long between the customer
# starting a return and the refund, credit note or exchange going out in Shopify.
ISSUE_GRACE_DAYS = 14
CAPPED_RETURN_WINDOW_DAYS = SHOPIFY_ORDER_VISIBILITY_DAYS - ISSUE_GRACE_DAYS
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,255}$")


@dataclass(frozen=True)
class Grant:
    """What one way of connecting produced: a token and the secrets that go with it."""

    method: str
    token: AccessToken
    webhook_secret: str
    client_id: str | None = None
    client_secret: str | None = None
    token_field: str = "access_token"    # where a refused token is reported


@dataclass
class ConnectResult:
    """What the retailer is shown after connecting."""

    account: Account
    shop: ShopInfo
    missing_scopes: list[tuple[str, str]] = field(default_factory=list)
    window_capped_from: int | None = None
    import_run: ImportRun | None = None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- the three ways -------------------------------------------------------------------------------

def _timeout() -> tuple[float, float]:
    return (3.05, float(current_app.config["SHOPIFY_CONNECT_TIMEOUT"]))


def _unreachable(shop: str, origin: str | None) -> ConnectError:
    where = origin or f"https://{shop}"
    return ConnectError(f"Could not reach {where}. Check the address and that the store is online.",
                        "api_origin" if origin else "shop_domain")


def legacy_token_grant(token: str | None, secret: str | None) -> Grant:
    """A pasted admin custom-app token (``shpat_…``) with the app's API secret key."""
    if not (token or "").strip():
        raise ConnectError("Paste the Admin API access token (it starts with shpat_).", "access_token")
    if len(token) > 512:
        raise ConnectError("That is too long for an access token.", "access_token")
    try:
        token = auth.check_pasted_token(token)
    except E.ShopifyAuthError as error:
        raise ConnectError(f"That is not an Admin API access token: {error}.", "access_token") from None
    secret = parse_secret(secret, "api_secret", "API secret key")
    if secret == token:
        raise ConnectError("The API secret key is not the access token.", "api_secret")
    return Grant(ConnectionMethod.LEGACY_TOKEN.value, AccessToken(access_token=token, scopes=()),
                 webhook_secret=secret, token_field="access_token")


def client_credentials_grant(shop: str, client_id: str | None, client_secret: str | None,
                             origin: str | None) -> Grant:
    """A 24-hour token from the client-credentials grant of the retailer's own Dev Dashboard app."""
    client_id = (client_id or "").strip()
    if not client_id:
        raise ConnectError("Enter the app's client ID.", "client_id")
    if not _CLIENT_ID_RE.fullmatch(client_id):
        raise ConnectError("A client ID is letters and digits with no spaces.", "client_id")
    client_secret = parse_secret(client_secret, "client_secret", "client secret")
    try:
        token = auth.client_credentials_token(shop, client_id, client_secret, origin=origin,
                                              timeout=_timeout())
    except (E.ShopifyConnectionError, E.ShopifyTimeoutError):
        raise _unreachable(shop, origin) from None
    except E.NonJSONResponseError:
        raise ConnectError("No Shopify store answered at this address.",
                           "api_origin" if origin else "shop_domain") from None
    except E.ShopifyAuthError as error:
        if "404" in str(error):
            raise ConnectError(f"Shopify has no store at {shop}.", "shop_domain") from None
        raise ConnectError("Shopify refused this client ID and secret. Check both in the Dev "
                           "Dashboard, and that the app is installed on this store.",
                           "client_secret") from None
    return Grant(ConnectionMethod.CLIENT_CREDENTIALS.value, token, webhook_secret=client_secret,
                 client_id=client_id, client_secret=client_secret, token_field="client_secret")


def oauth_configured() -> bool:
    """Whether this deployment has its own Shopify app for the OAuth install."""
    cfg = current_app.config
    return bool(cfg.get("SHOPIFY_APP_CLIENT_ID") and cfg.get("SHOPIFY_APP_CLIENT_SECRET"))


def begin_oauth(account: Account, shop_raw: str | None, origin_raw: str | None,
                redirect_uri: str) -> tuple[str, dict]:
    """The authorize URL to send the retailer to, and what the callback must find in the session."""
    if not oauth_configured():
        raise ConnectError("This Boomerang has no Shopify app of its own configured "
                           "(SHOPIFY_APP_CLIENT_ID and SHOPIFY_APP_CLIENT_SECRET). Use one of the "
                           "other two ways.", "shop_domain")
    shop = parse_shop(shop_raw)
    origin = parse_api_origin(origin_raw)
    check_available(account, shop)
    state = auth.new_state()
    cfg = current_app.config
    url = auth.authorize_url(shop, cfg["SHOPIFY_APP_CLIENT_ID"], cfg["SHOPIFY_APP_SCOPES"],
                             redirect_uri, state, origin=origin)
    return url, {"state": state, "shop": shop, "origin": origin, "account_id": account.id,
                 "redirect_uri": redirect_uri}


def finish_oauth(account: Account, params: dict, saved: dict | None) -> ConnectResult:
    """Verify the callback (HMAC, state, shop, age), trade the code for an offline token, connect."""
    if not saved or saved.get("account_id") != account.id:
        raise ConnectError("This approval was not started here (or it was already used). Start again.")
    cfg = current_app.config
    secret = cfg.get("SHOPIFY_APP_CLIENT_SECRET")
    if not oauth_configured():
        raise ConnectError("This Boomerang has no Shopify app of its own configured.")
    if params.get("error"):
        raise ConnectError("Shopify reports the approval was not given. Start again to retry.")
    try:
        shop = auth.verify_callback(params, secret, expected_state=saved.get("state"))
    except E.ShopifyAuthError:
        raise ConnectError("Shopify's answer could not be verified (signature, state or age). "
                           "Start again.") from None
    if shop != saved.get("shop"):
        raise ConnectError("Shopify answered for a different store than the one you chose. Start again.")
    check_available(account, shop)
    code = params.get("code") or ""
    origin = saved.get("origin")
    try:
        token = auth.exchange_code(shop, cfg["SHOPIFY_APP_CLIENT_ID"], secret, code, origin=origin,
                                   timeout=_timeout())
    except (E.ShopifyConnectionError, E.ShopifyTimeoutError):
        raise _unreachable(shop, origin) from None
    except E.ShopifyError:
        raise ConnectError("Shopify refused the approval code (it may have been used already). "
                           "Start again.") from None
    grant = Grant(ConnectionMethod.OAUTH.value, token, webhook_secret=secret,
                  client_id=cfg["SHOPIFY_APP_CLIENT_ID"], client_secret=secret, token_field="shop_domain")
    return connect(account, shop, grant, origin)


# --- the live check and saving --------------------------------------------------------------------

def _with_implied(scopes) -> set[str]:
    granted = set(scopes)
    return granted | {"read_" + s[6:] for s in granted if s.startswith("write_")}


def missing_scopes(granted) -> list[tuple[str, str]]:
    """(scope, what it is for) for each permission Boomerang uses and was not granted."""
    have = _with_implied(granted or ())
    return [(scope, purpose) for scope, purpose in SCOPE_PURPOSES if scope not in have]


def _check_client(shop: str, token: str, origin: str | None) -> ShopifyClient:
    timeout = _timeout()
    client = ShopifyClient(shop, token, api_version=current_app.config["SHOPIFY_API_VERSION"],
                           api_origin=origin, timeout=timeout, max_retries=1,
                           max_retry_seconds=timeout[1])
    for name, value in imports.client_options().items():
        setattr(client, name, value)
    return client


def _live_check(shop: str, grant: Grant, origin: str | None) -> tuple[ShopifyClient, ShopInfo]:
    client = _check_client(shop, grant.token.access_token, origin)
    try:
        info = fetch_shop_info(client)
    except E.RevokedTokenError:
        raise ConnectError("Shopify did not accept this access token: it is wrong, was revoked, or "
                           "belongs to another store.", grant.token_field) from None
    except (E.ShopifyConnectionError, E.ShopifyTimeoutError):
        raise _unreachable(shop, origin) from None
    except E.ShopUnavailableError:
        raise ConnectError("This store is frozen or locked in Shopify.", "shop_domain") from None
    except E.ShopifyHTTPError as error:
        if error.status == 404 or isinstance(error, E.NonJSONResponseError):
            raise ConnectError("No Shopify store answered at this address.",
                               "api_origin" if origin else "shop_domain") from None
        raise ConnectError(describe_error(error), "shop_domain") from None
    except E.ShopifyError as error:
        raise ConnectError(describe_error(error), "shop_domain") from None
    if info.myshopify_domain and info.myshopify_domain.lower() != shop:
        raise ConnectError(f"This token belongs to {info.myshopify_domain}, not {shop}.",
                           grant.token_field)
    return client, info


def _protected_data_readable(client: ShopifyClient, now: datetime) -> bool | None:
    """Whether recent orders come with the customer's email or name (protected customer data);
    None when there is no recent order to look at."""
    try:
        sample = list(islice(iter_orders(client, created_at_min=now - timedelta(days=60)), 5))
    except E.ShopifyError as error:
        log.info("protected-data check skipped: %s", error)
        return None
    if not sample:
        return None
    return any(order.email or order.customer_name for order in sample)


def _gift_card_limit(client: ShopifyClient):
    """The shop's cap on gift cards made by apps, when Shopify says (Settings show it)."""
    try:
        return fetch_gift_card_limit(client)
    except E.ShopifyError as error:
        log.info("gift card limit not read: %s", error)
        return None


def _shop_language(client: ShopifyClient, scopes: set[str]) -> str | None:
    """The portal language of the shop's primary locale in Shopify, when the token may read it
    (read_locales or read_markets_home) and the portal speaks it."""
    if not {"read_locales", "read_markets_home"} & _with_implied(scopes):
        return None
    try:
        return language_of_shop_locale(fetch_primary_locale(client))
    except E.ShopifyError as error:
        log.info("shop language not read: %s", error)
        return None


def connect(account: Account, shop: str, grant: Grant, origin: str | None) -> ConnectResult:
    """Check the grant live; on success save everything (committed) and queue the follow-ups."""
    check_available(account, shop)
    client, info = _live_check(shop, grant, origin)
    scopes = set(info.scopes) or set(grant.token.scopes)
    lacking = [scope for scope in REQUIRED_SCOPES if scope not in _with_implied(scopes)]
    if lacking:
        raise ConnectError(f"This app was not given the {' and '.join(lacking)} permission"
                           f"{'s' if len(lacking) > 1 else ''}, so Boomerang cannot read your orders. "
                           f"Add {'them' if len(lacking) > 1 else 'it'} to the app's Admin API scopes, "
                           f"then connect again.", grant.token_field)
    now = _utcnow()
    readable = _protected_data_readable(client, now)
    gift_card_limit = _gift_card_limit(client)
    # The default return address: the shop's own, as Shopify shows it to buyers.
    remember_shop_address(account, client)
    # On the first connection the portal starts in the shop's own language, unless the retailer
    # already chose one; after that the language is the retailer's setting, which a reconnection
    # leaves alone.
    first = account.connected_at is None and (account.locale or "en") == "en"
    language = _shop_language(client, scopes) if first else None

    old_secret = decrypt_secret(account.webhook_secret_encrypted)
    if old_secret and old_secret != grant.webhook_secret:
        # Shopify may sign with the old secret for up to an hour after a rotation.
        account.previous_webhook_secret_encrypted = account.webhook_secret_encrypted
    account.webhook_secret_encrypted = encrypt_secret(grant.webhook_secret)
    account.refresh_token_encrypted = None
    store_token(account, grant.token)
    account.granted_scopes = sorted(scopes)
    account.connection_method = grant.method
    account.client_id = grant.client_id
    account.client_secret_encrypted = encrypt_secret(grant.client_secret)
    account.shop_domain = shop
    account.api_origin = origin
    account.shop_name = info.name or None
    account.shop_plan = (info.plan_display_name or "")[:64] or None
    # Whether credit notes can be store credit, and the most a gift card may hold (Settings say which).
    account.customer_accounts_version = (info.customer_accounts_version or "")[:32] or None
    account.gift_card_issue_limit = gift_card_limit
    if info.currency_code:
        account.currency = info.currency_code[:3]
    if language:
        account.locale = language
    account.connected_at = now
    account.disconnected_at = None
    account.disconnect_reason = None
    account.protected_data_readable = readable
    account.webhooks_ok_at = None
    account.webhooks_error = None
    capped_from = None
    if "read_all_orders" not in scopes and account.return_window_days > CAPPED_RETURN_WINDOW_DAYS:
        capped_from = account.return_window_days
        account.return_window_days = CAPPED_RETURN_WINDOW_DAYS
    db.session.commit()
    run = start_import(account)
    enqueue("jobs.imports.sync_webhooks_job", account.id)  # safe to run twice; see start_import on job ids
    # The rules' product facts: a job of its own, so the order import never waits on products.
    enqueue("jobs.imports.sync_products_job", account.id, job_id=f"sync-products-{account.id}")
    return ConnectResult(account=account, shop=info, missing_scopes=missing_scopes(scopes),
                         window_capped_from=capped_from, import_run=run)


def window_cap_applies(account: Account) -> bool:
    """Whether the return window is held to CAPPED_RETURN_WINDOW_DAYS (no read_all_orders)."""
    return bool(account.shop_domain) and not account.has_scope("read_all_orders")

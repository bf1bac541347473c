"""An account's way into its Shopify store: a ready client, renewed tokens, disconnection."""
from datetime import datetime, timedelta, timezone

from flask import current_app

from app.crypto import decrypt_secret, encrypt_secret
from app.extensions import db
from app.models import Account, ConnectionMethod
from app.shopify import auth
from app.shopify.client import Pacing, ShopifyClient

RENEW_MARGIN = timedelta(minutes=10)
_PACING: dict[tuple, Pacing] = {}


class NotConnected(RuntimeError):
    """The account has no usable store connection (never connected, uninstalled, revoked)."""


def client_for(account: Account, *, read_timeout: float | None = None) -> ShopifyClient:
    """A client for the account's store, renewing an expiring token first.

    `read_timeout` is for calls a person waits on (the connect check, the variant list).
    """
    if not account.is_connected:
        raise NotConnected(account.disconnect_reason or "This store is not connected.")
    if _expires_soon(account):
        renew_token(account)
    clock = current_app.config.get("SHOPIFY_CLOCK")
    # One bucket memory per shop (and clock) in this process, shared by every client of it.
    options = {"pacing": _PACING.setdefault((account.shop_domain, id(clock)), Pacing())}
    if clock is not None:
        # Benchmarks and tests pace against the sandbox's virtual clock (no real waiting).
        options.update(sleep=clock.sleep, monotonic=clock.now)
    if read_timeout is not None:
        options["timeout"] = (3.05, read_timeout)
    return ShopifyClient(
        account.shop_domain, decrypt_secret(account.access_token_encrypted),
        api_version=current_app.config["SHOPIFY_API_VERSION"], api_origin=account.api_origin,
        on_unauthorized=(lambda: renew_token(account)) if _renewable(account) else None, **options)


def _renewable(account: Account) -> bool:
    return account.connection_method == ConnectionMethod.CLIENT_CREDENTIALS.value or bool(
        account.refresh_token_encrypted)


def _expires_soon(account: Account) -> bool:
    expires = account.access_token_expires_at
    return expires is not None and datetime.now(timezone.utc) + RENEW_MARGIN >= expires


def renew_token(account: Account) -> str:
    """Get a fresh token (client credentials: a new grant; expiring OAuth: the refresh token),
    store it encrypted, commit, and return it."""
    secret = decrypt_secret(account.client_secret_encrypted)
    if account.connection_method == ConnectionMethod.CLIENT_CREDENTIALS.value:
        token = auth.client_credentials_token(account.shop_domain, account.client_id, secret,
                                              origin=account.api_origin)
    elif account.refresh_token_encrypted:
        token = auth.refresh_access_token(account.shop_domain, account.client_id, secret,
                                          decrypt_secret(account.refresh_token_encrypted), origin=account.api_origin)
    else:
        raise NotConnected("This store's token cannot be renewed; reconnect it.")
    store_token(account, token)
    db.session.commit()
    return token.access_token


def store_token(account: Account, token: auth.AccessToken) -> None:
    """Keep a token (and its refresh token) encrypted on the account; the caller commits."""
    account.access_token_encrypted = encrypt_secret(token.access_token)
    account.access_token_expires_at = token.expires_at
    if token.refresh_token:
        account.refresh_token_encrypted = encrypt_secret(token.refresh_token)
    if token.scopes:
        account.granted_scopes = sorted(token.scopes)


def mark_disconnected(account: Account, reason: str) -> None:
    """Stop using the store (jobs check is_connected) and tell the retailer why; caller commits."""
    if account.disconnected_at is None:
        account.disconnected_at = datetime.now(timezone.utc)
    account.disconnect_reason = reason

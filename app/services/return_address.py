"""Where shoppers send their parcels: the shop's address as Shopify shows it to buyers (read when
the store connects, or again on request) and the retailer's own return address and instructions."""
from __future__ import annotations

import logging

from flask import current_app

from app.extensions import db
from app.models import Account
from app.services.shopify_access import NotConnected, client_for
from app.shopify import errors as E
from app.shopify.client import ShopifyClient
from app.shopify.shop_address import fetch_shop_address

log = logging.getLogger(__name__)


class AddressUnavailable(RuntimeError):
    """Shopify could not be asked for the shop's address; the message is for the retailer."""


def shop_address_from(client: ShopifyClient) -> str | None:
    """The shop's address from Shopify as text (one line per line), None when it has none."""
    return "\n".join(fetch_shop_address(client)) or None


def remember_shop_address(account: Account, client: ShopifyClient) -> None:
    """At connect: keep the shop's address when Shopify gives it (the caller commits). A failure
    only leaves the previous one: the retailer can read it again from Settings."""
    try:
        account.shop_address = shop_address_from(client) or account.shop_address
    except E.ShopifyError as error:
        log.info("shop address of %s not read: %s", account.shop_domain, error)


def refresh_shop_address(account: Account) -> str | None:
    """Read the shop's address from Shopify again (a person waits: short timeout, no retries);
    stored and committed. Raises AddressUnavailable with the reason."""
    try:
        client = client_for(account, read_timeout=current_app.config["SETTINGS_SHOPIFY_TIMEOUT"])
        client.max_retries, client.max_retry_seconds = 0, 0.0
        address = shop_address_from(client)
    except NotConnected:
        raise AddressUnavailable("Connect your store first: the address is read from Shopify.") from None
    except E.ShopifyError as error:
        log.warning("shop address of %s unavailable: %s", account.shop_domain, error)
        raise AddressUnavailable("Your shop's address could not be read from Shopify right now (it is slow "
                                 "or unreachable). The address shown is kept; try again in a minute.") from None
    if address is None:
        raise AddressUnavailable("Shopify has no address for your shop (Settings → General → Store "
                                 "address in Shopify). Add one there, or give a return address below.")
    account.shop_address = address
    db.session.commit()
    return address

"""The live Shopify read a shopper waits on: a product's variants, for the exchange picker and
the stock re-check at submit. Short timeout, few retries, one clear error when Shopify is slow."""
from flask import current_app

from app.models import Account
from app.services.shopify_access import NotConnected, client_for
from app.shopify.errors import ShopifyError
from app.shopify.operations import fetch_product_variants

UNAVAILABLE = ("We could not reach the shop to check sizes and colours just now. Please try again in a "
               "minute, or choose a refund or credit note instead.")


class VariantsUnavailable(RuntimeError):
    """Shopify did not answer in time (or the store is disconnected); the message is for shoppers."""

    def __init__(self):
        super().__init__(UNAVAILABLE)


def live_variants(account: Account):
    """A `variants_for(product_id)` function reading Shopify, each product at most once per request."""
    cache: dict[int, tuple] = {}

    def variants_for(product_id: int):
        if product_id not in cache:
            try:
                client = client_for(account, read_timeout=current_app.config["PORTAL_SHOPIFY_TIMEOUT"])
                # A person is waiting: one quick retry at most, never the minute a job may spend.
                client.max_retries, client.max_retry_seconds = 1, 3.0
                cache[product_id] = fetch_product_variants(client, product_id)
            except (ShopifyError, NotConnected) as error:
                current_app.logger.warning("variants of product %s unavailable: %s", product_id, error)
                raise VariantsUnavailable() from error
        return cache[product_id]

    return variants_for

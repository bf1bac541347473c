"""Product facts for the rules (type, tags, collections), stored per Shopify product.

Filled by a sync of every product after a store connects (its own job: the order import does not
wait for it, nor read products), and kept current by the products/create, products/update and
products/delete webhooks. A body older than what is stored (``updated_at``) changes nothing, so
out-of-order deliveries cannot bring old facts back. Safe to run twice: every write is an upsert
by (account, product).
"""
import logging
from datetime import datetime, timezone

from sqlalchemy import delete, select

from app.extensions import db
from app.models import Account, Product
from app.services.shopify_access import NotConnected, client_for
from app.shopify.products import (PRODUCTS_PAGE_SIZE, ProductFacts, fetch_product_facts, iter_product_facts,
                                  product_from_webhook, product_id_of_deleted)
from app.text import fit_text

log = logging.getLogger(__name__)
MAX_TAGS = 250          # Shopify allows 250 tags per product
MAX_TEXT = 255


def _texts(values) -> list[str]:
    # NUL and lone surrogates cleaned as every stored text is (app.text), then cut to fit.
    return [t for t in (fit_text(str(v), MAX_TEXT) for v in list(values or ())[:MAX_TAGS]) if t]


def store_product(account_id: int, facts: ProductFacts) -> str:
    """Upsert one product's facts (the caller commits). Collections None keeps the stored ones."""
    row = db.session.scalar(select(Product).where(Product.account_id == account_id,
                                                  Product.shopify_product_id == facts.product_id))
    if row is not None and row.shopify_updated_at and facts.updated_at and facts.updated_at < row.shopify_updated_at:
        return "older"
    if row is None:
        row = Product(account_id=account_id, shopify_product_id=facts.product_id, collections=[])
        db.session.add(row)
    row.title, row.tags = fit_text(facts.title, MAX_TEXT), _texts(facts.tags)
    row.product_type = fit_text(facts.product_type, MAX_TEXT) or None
    if facts.collections is not None:
        row.collections = _texts(facts.collections)
    row.shopify_updated_at = facts.updated_at or row.shopify_updated_at
    row.stored_at = datetime.now(timezone.utc)
    return "stored"


def sync_products(account_id: int, client=None, page_size: int = PRODUCTS_PAGE_SIZE) -> int:
    """Read every product of the store and store its facts, a page per commit; returns how
    many. Products gone from the store since are left to products/delete."""
    account = db.session.get(Account, account_id)
    if account is None or not account.is_connected:
        return 0
    client = client or client_for(account)
    count = 0
    for page in iter_product_facts(client, page_size):
        for facts in page:
            store_product(account_id, facts)
        db.session.commit()
        count += len(page)
    return count


def process_product_webhook(account: Account, topic: str, payload) -> str:
    """A products/* delivery: store the body's facts (and the product's collections, read again:
    no products/* body carries them), or forget a deleted product."""
    if topic == "products/delete":
        product_id = product_id_of_deleted(payload)
        db.session.execute(delete(Product).where(Product.account_id == account.id,
                                                 Product.shopify_product_id == product_id))
        return f"product {product_id} forgotten"
    facts = product_from_webhook(payload)
    outcome = store_product(account.id, facts)
    if outcome == "older":
        return f"product {facts.product_id}: an older change, ignored"
    try:
        fresh = fetch_product_facts(client_for(account), facts.product_id)
    except NotConnected:
        return f"product {facts.product_id} stored; store not connected, collections kept"
    if fresh is None:
        return f"product {facts.product_id} stored; no longer in the store"
    store_product(account.id, fresh)
    return f"product {facts.product_id} stored with its collections"

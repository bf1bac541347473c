"""What the rules read about products, from the Admin API and from products/* webhook bodies.

- The sync reads every product a page at a time (queries/product_facts.graphql): type, tags and
  the titles of the first PRODUCT_COLLECTIONS collections each is in.
- A products/create or products/update body is the REST product (Shopify's documented example:
  tests/fixtures/shopify/webhook_products_create_docs_2023-07.metadata.json): ``product_type``,
  ``tags`` as one comma-separated string, ``updated_at`` with an offset, and no collections,
  which are read again for that one product (queries/product_facts_one.graphql).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from app.shopify.client import ShopifyClient
from app.shopify.errors import ShopifyDataError
from app.shopify.values import blank_to_none, parse_id, parse_optional_datetime, split_tags

# Cost of a page: 2 + 20 × (1 + 2 + 25) = 562, under the 1,000-point single-query limit with room
# (tests/unit/shopify/test_queries.py). A product in more collections keeps its first 25.
PRODUCTS_PAGE_SIZE = 20
PRODUCT_COLLECTIONS = 25


@dataclass(frozen=True)
class ProductFacts:
    """One product's facts as Shopify has them. `collections` None: not known (a webhook body)."""

    product_id: int
    title: str
    product_type: str | None
    tags: tuple[str, ...]
    collections: tuple[str, ...] | None
    updated_at: datetime | None


def _type(value) -> str | None:
    """A product type ("" is none: Shopify's productType is never null, only empty)."""
    return (blank_to_none(value) or None)[:255] if isinstance(value, str) and value.strip() else None


def _from_node(node: dict) -> ProductFacts:
    nodes = ((node.get("collections") or {}).get("nodes")) or ()
    return ProductFacts(
        product_id=parse_id(node.get("id"), "Product"), title=str(node.get("title") or "")[:255],
        product_type=_type(node.get("productType")), tags=split_tags(node.get("tags")),
        collections=tuple(str(c["title"]).strip() for c in nodes if isinstance(c, dict) and c.get("title")),
        updated_at=parse_optional_datetime(node.get("updatedAt"), "Product.updatedAt"))


def iter_product_facts(client: ShopifyClient, page_size: int = PRODUCTS_PAGE_SIZE) -> Iterator[list[ProductFacts]]:
    """Every product of the shop, one page (a list) at a time."""
    after = None
    while True:
        data = client.run("product_facts", {"first": page_size, "after": after, "collections": PRODUCT_COLLECTIONS})
        connection = data.get("products") or {}
        yield [_from_node(node) for node in connection.get("nodes") or ()]
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return
        after = page.get("endCursor")


def fetch_product_facts(client: ShopifyClient, product_id: int) -> ProductFacts | None:
    """One product's facts with its collections (None: no such product any more)."""
    data = client.run("product_facts_one", {"id": f"gid://shopify/Product/{product_id}",
                                            "collections": PRODUCT_COLLECTIONS})
    node = data.get("product")
    return _from_node(node) if node else None


def product_from_webhook(payload) -> ProductFacts:
    """A products/create or products/update body → its facts (collections unknown). The id is
    read from ``admin_graphql_api_id`` first: the documented example's numeric ``id`` has been
    through a float and lost its last digits."""
    if not isinstance(payload, dict):
        raise ShopifyDataError("a product body is a JSON object")
    gid = payload.get("admin_graphql_api_id")
    return ProductFacts(
        product_id=parse_id(gid, "Product") if gid else parse_id(payload.get("id"), "Product"),
        title=str(payload.get("title") or "")[:255], product_type=_type(payload.get("product_type")),
        tags=split_tags(payload.get("tags")), collections=None,
        updated_at=parse_optional_datetime(payload.get("updated_at"), "product updated_at"))


def product_id_of_deleted(payload) -> int:
    """The id a products/delete body names (``{"id": …}`` in Shopify's documented example)."""
    if not isinstance(payload, dict):
        raise ShopifyDataError("a product body is a JSON object")
    return parse_id(payload.get("id"), "Product")

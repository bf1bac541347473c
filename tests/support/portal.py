"""Test data for the customer portal: an account connected to the sandbox (fake Shopify) and
orders whose lines point at the sandbox's real products, so exchanges read live variants."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import count
from urllib.parse import quote

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Account, Order, OrderLine

_numbers = count(1)
SCOPES = ["read_orders", "write_orders", "read_all_orders", "read_products", "read_customers",
          "read_inventory", "write_inventory", "read_locations", "write_gift_cards", "write_draft_orders"]


def connect_to_sandbox(account: Account, sandbox, scopes=None) -> None:
    """Make the sandbox hold this account's shop, and give the account a token for it."""
    scopes = list(SCOPES if scopes is None else scopes)
    store = sandbox.store
    store.create_shop(account.shop_domain, name=account.name)
    app = store.create_app(account.shop_domain, scopes=scopes)
    token = store.issue_admin_token(account.shop_domain, app.client_id)
    account.api_origin = sandbox.api_origin(account.shop_domain)
    account.access_token_encrypted = encrypt_secret(token.token)
    account.connection_method = "legacy_token"
    account.granted_scopes = scopes
    account.connected_at = datetime.now(timezone.utc)
    db.session.flush()


@dataclass
class SandboxProduct:
    """A sandbox product with size/colour variants: the one bought, others in stock, one sold out."""

    id: int
    title: str
    bought: object          # sandbox Variant
    in_stock: list
    sold_out: list


def exchangeable_product(sandbox, shop_domain: str, title: str | None = None,
                         exclude=()) -> SandboxProduct:
    """A product with two options, at least two other in-stock variants and one sold out (not
    one of ``exclude``, by product id)."""
    shop = sandbox.store.get_shop(shop_domain)
    for product in shop.products.values():
        if (title and product.title != title) or product.id in exclude:
            continue
        variants = [shop.variants[v] for v in product.variants]
        if len(product.options) < 2 or "final-sale" in product.tags:
            continue
        stocked = [v for v in variants if v.inventory > 0]
        empty = [v for v in variants if v.inventory <= 0]
        if len(stocked) >= 3 and empty:
            return SandboxProduct(product.id, product.title, stocked[0], stocked[1:], empty)
    raise LookupError("no exchangeable product in the sandbox catalogue")


def swatch(colour: str) -> str:
    """A tiny inline SVG image (the CSP allows data: images; the test network has no CDN)."""
    svg = (f"<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64'><rect width='64' height='64' "
           f"rx='8' fill='{colour}'/></svg>")
    return "data:image/svg+xml," + quote(svg)


def make_line(**fields) -> OrderLine:
    """One order line; unset values describe a shipped, unrefunded single item."""
    n = next(_numbers)
    values = {"shopify_line_id": 9_000_000_000 + n, "title": f"Item {n}", "variant_title": None, "quantity": 1,
              "unit_price": Decimal("50.00"), "discounted_unit_price": Decimal("50.00"),
              "fulfilled_quantity": 1, "refunded_quantity": 0, "product_tags": [], "image_url": swatch("#94a3b8")}
    values.update(fields)
    return OrderLine(**values)


def line_for_variant(product: SandboxProduct, **fields) -> OrderLine:
    """A line buying the product's `bought` variant."""
    variant = product.bought
    return make_line(product_id=product.id, variant_id=variant.id, title=product.title,
                     variant_title=variant.title, image_url=swatch("#1f6feb"), **fields)


def make_portal_order(account: Account, lines: list[OrderLine], *, name: str | None = None,
                      email: str | None = None, days_ago: float = 3, **fields) -> Order:
    """An order of the account with the given lines (flushed, not committed)."""
    n = next(_numbers)
    created = datetime.now(timezone.utc) - timedelta(days=days_ago)
    total = sum((line.discounted_unit_price * line.quantity for line in lines), Decimal("0"))
    values = {"account_id": account.id, "shopify_order_id": 8_000_000_000_000 + n, "name": name or f"#{5000 + n}",
              "email": email or f"shopper{n}@example.com", "customer_name": "Pat Shopper", "currency": "USD",
              "total_price": total, "subtotal_price": total, "total_discounts": Decimal("0"),
              "financial_status": "paid", "fulfillment_status": "fulfilled", "created_at": created,
              "updated_at": created, "shipping_country": "US"}
    values.update(fields)
    order = Order(**values)
    order.lines.extend(lines)
    db.session.add(order)
    db.session.flush()
    return order

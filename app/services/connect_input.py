"""Reading what a retailer typed to connect a store: the store's address, another API origin (the
sandbox), a secret; and whether the store may be connected to this account. Each refusal is a
``ConnectError`` naming the form field it belongs next to."""
from __future__ import annotations

import re
from urllib.parse import urlparse

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Order
from app.shopify import auth
from app.shopify import errors as E

_SECRET_RE = re.compile(r"^[A-Za-z0-9_]{16,255}$")


class ConnectError(Exception):
    """Connecting failed; ``field`` is the form field the message belongs next to (or None)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def parse_shop(raw: str | None) -> str:
    """``my-shop`` / ``https://my-shop.myshopify.com/admin`` → ``my-shop.myshopify.com``."""
    if not (raw or "").strip():
        raise ConnectError("Enter your store's address, like my-store.myshopify.com.", "shop_domain")
    if len(raw) > 255:
        raise ConnectError("That address is too long for a store address.", "shop_domain")
    try:
        return auth.normalize_shop_domain(raw)
    except E.InvalidShopDomainError:
        raise ConnectError("Enter the store's myshopify.com address, like my-store.myshopify.com "
                           "(find it in Shopify under Settings → Domains).", "shop_domain") from None


def api_origin_allowed() -> bool:
    """Whether this deployment lets admins point a store at another API origin (the sandbox)."""
    return bool(current_app.config.get("SHOPIFY_API_ORIGIN_ALLOWED"))


def parse_api_origin(raw: str | None) -> str | None:
    """An optional ``http(s)://host[:port][/path]`` standing in for ``https://<shop>``."""
    text = (raw or "").strip()
    if not text:
        return None
    if not api_origin_allowed():
        raise ConnectError("This deployment does not allow another API origin.", "api_origin")
    parsed = urlparse(text)
    if (parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query
            or parsed.fragment or parsed.username or parsed.password or len(text) > 500
            or any(c.isspace() for c in text)):
        raise ConnectError("Enter a full address like http://127.0.0.1:8001/store/my-store.myshopify.com, "
                           "or leave it empty for Shopify itself.", "api_origin")
    try:
        parsed.port  # noqa: B018 - reading the port is the check: it raises on a bad one
    except ValueError:
        raise ConnectError("The port in that address is not a number between 1 and 65535.",
                           "api_origin") from None
    return text.rstrip("/")


def check_available(account: Account, shop: str) -> None:
    """Refuse a store connected to another account, and a second store for one account's orders."""
    other = db.session.scalar(select(Account.id).where(Account.shop_domain == shop,
                                                       Account.id != account.id))
    if other is not None:
        raise ConnectError(f"{shop} is already connected to another Boomerang account. Ask its "
                           f"admin to add you as staff there.", "shop_domain")
    if account.shop_domain and account.shop_domain != shop and account.access_token_encrypted:
        has_orders = db.session.scalar(select(Order.id).where(Order.account_id == account.id).limit(1))
        if has_orders is not None:
            raise ConnectError(f"This account holds orders of {account.shop_domain}. Connect that "
                               f"store again, or sign up a new account for {shop}.", "shop_domain")


def parse_secret(raw: str | None, field_name: str, what: str) -> str:
    """An app's API secret key or client secret as typed; refuses a token pasted in its place."""
    text = (raw or "").strip()
    if not text:
        raise ConnectError(f"Enter the {what}.", field_name)
    if text.startswith(("shpat_", "shpca_", "shppa_", "shpua_")):
        raise ConnectError(f"That is an access token, not the {what}. The {what} is shown beside "
                           f"the API key in the app's credentials.", field_name)
    if not _SECRET_RE.fullmatch(text):
        raise ConnectError(f"That does not look like an {what}: it is a string of letters and "
                           f"digits (often starting shpss_), with no spaces.", field_name)
    return text

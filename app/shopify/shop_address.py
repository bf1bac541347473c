"""The shop's address from the Admin API (``Shop.shopAddress``), as the lines of a postal address."""
from __future__ import annotations

import unicodedata

from app.shopify.client import ShopifyClient

LINE_MAX = 120


def _clean(value) -> str:
    """One address field as printable text: control characters and surrogates dropped."""
    if not isinstance(value, str):
        return ""
    kept = "".join(c for c in value if unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn"))
    return " ".join(kept.split())[:LINE_MAX]


def address_lines(shop: dict) -> list[str]:
    """Company (the shop's name when none), street lines, "city, province zip", country; empty
    fields left out. An address with no street or city is no address: []."""
    address = shop.get("shopAddress") or {}
    street = [_clean(address.get("address1")), _clean(address.get("address2"))]
    city = _clean(address.get("city"))
    if not (street[0] or city):
        return []
    region = " ".join(part for part in (_clean(address.get("provinceCode")) or _clean(address.get("province")),
                                         _clean(address.get("zip"))) if part)
    place = ", ".join(part for part in (city, region) if part)
    lines = [_clean(address.get("company")) or _clean(shop.get("name")), *street, place,
             _clean(address.get("country"))]
    return [line for line in lines if line]


def fetch_shop_address(client: ShopifyClient) -> list[str]:
    """The shop's address as Shopify shows it to buyers, one line per entry ([] when it has none)."""
    data = client.run("shop_address")
    return address_lines(data.get("shop") or {})

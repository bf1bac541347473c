"""The shop's address as Shopify shows it to buyers (``Shop.shopAddress``, a ``ShopAddress``).

Every sandbox shop has one (Shopify requires a store address in Settings → General); a test or the
demo changes it with ``set_address``. Kept in the shop's issuing state, so older state files load.
Schema: https://shopify.dev/docs/api/admin-graphql/2026-04/objects/Shop#field-shopAddress
"""
from __future__ import annotations

from . import issuing

FIELDS = ("company", "address1", "address2", "city", "province", "provinceCode", "zip", "country",
          "countryCodeV2", "phone")
DEFAULT = {"address1": "150 Elgin Street", "address2": "Unit 8", "city": "Ottawa", "province": "Ontario",
           "provinceCode": "ON", "zip": "K2P 1L4", "country": "Canada", "countryCodeV2": "CA", "phone": None}


def address(shop) -> dict:
    """The ShopAddress of the shop (the company is the shop's name unless set)."""
    stored = issuing.state(shop).get("address") or {}
    served = {field: stored.get(field, DEFAULT.get(field)) for field in FIELDS}
    if "company" not in stored:
        served["company"] = shop.name
    served["id"] = f"gid://shopify/ShopAddress/{shop.id}"
    served["coordinatesValidated"] = False
    return served


def set_address(shop, **fields) -> dict:
    """Replace the shop's address (fields not given are empty, as a merchant may leave them)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown address fields: {', '.join(sorted(unknown))}")
    issuing.state(shop)["address"] = {field: fields.get(field) for field in FIELDS}
    return address(shop)

"""Shop.shopAddress: every sandbox shop has the address Shopify shows to buyers; a test changes it."""
from __future__ import annotations

import pytest

from app.shopify.documents import load_document
from app.shopify.shop_address import address_lines
from sandbox import shop_address

from .conftest import SHOP, gql


def test_the_shop_address_document_is_answered_with_the_shops_address(client, store, shop):
    status, body = gql(client, shop["token"], load_document("shop_address"))
    assert status == 200
    served = body["data"]["shop"]
    assert served["shopAddress"]["company"] == "Demo" and served["shopAddress"]["countryCodeV2"] == "CA"
    assert address_lines(served) == ["Demo", "150 Elgin Street", "Unit 8", "Ottawa, ON K2P 1L4", "Canada"]

    shop_address.set_address(store.get_shop(SHOP), address1="9 Quay Road", city="Leith", zip="EH6 6QQ",
                             country="United Kingdom", countryCodeV2="GB")
    served = gql(client, shop["token"], load_document("shop_address"))[1]["data"]["shop"]
    # No company given: Shopify leaves it empty, and the lines start with the shop's name.
    assert served["shopAddress"]["company"] is None and served["shopAddress"]["address2"] is None
    assert address_lines(served) == ["Demo", "9 Quay Road", "Leith, EH6 6QQ", "United Kingdom"]


def test_an_address_with_no_street_or_city_gives_no_lines_and_odd_characters_are_dropped(store):
    assert address_lines({"name": "Demo", "shopAddress": {"country": "Canada"}}) == []
    assert address_lines({"name": "Demo", "shopAddress": None}) == []
    lines = address_lines({"name": "Demo", "shopAddress": {"address1": "1 Main\x00 St\ud800", "city": " Leith\n",
                                                           "zip": 42}})
    assert lines == ["Demo", "1 Main St", "Leith"]


def test_unknown_address_fields_are_refused(store, shop):
    with pytest.raises(ValueError):
        shop_address.set_address(store.get_shop(SHOP), street="1 Main St")

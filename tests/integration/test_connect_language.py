"""The portal starts in the shop's own language: on the first connection Boomerang reads the shop's
primary locale from Shopify (shopLocales, which needs read_locales) and, when the portal speaks
it, makes it the shop's language; without the scope nothing is asked, and a language the retailer
chose (before connecting, or after) is never overwritten."""
import re

import pytest
import requests

from app.extensions import db
from app.models import Account
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.connect import SHOP, connect_with_token, login_admin, make_shop, use_virtual_time

BASE = ["read_orders", "read_products", "read_all_orders"]


def primary_locale(sandbox, code: str, domain: str = SHOP) -> None:
    """Set the sandbox shop's primary language (its one published locale)."""
    requests.patch(f"{sandbox.url}/_sandbox/shops/{domain}", json={"primary_locale": code},
                   timeout=5).raise_for_status()


def connected_locale(client, account_id: int, shop) -> str:
    response = connect_with_token(client, shop)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.get(Account, account_id).locale


@pytest.mark.parametrize("primary, scopes, expected", [
    ("fr", [*BASE, "read_locales"], "fr"),
    ("de-AT", [*BASE, "read_locales"], "de"),
    ("es", [*BASE, "read_markets_home"], "es"),
    ("pt-BR", [*BASE, "read_locales"], "en"),  # a language the portal does not speak
    ("fr", BASE, "en"),  # without the scope Shopify would refuse: not asked
], ids=["fr", "de-AT", "markets-scope", "unspoken", "no-scope"])
def test_the_first_connection_takes_the_shops_primary_language(app, client, sandbox, monkeypatch, drain_jobs,
                                                               primary, scopes, expected):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, orders=0, scopes=scopes)
    primary_locale(sandbox, primary)
    account, _ = login_admin(client, shop_domain=None)
    assert connected_locale(client, account.id, shop) == expected
    if expected != "en":
        # The portal greets a shopper whose browser says nothing in the shop's language.
        account = db.session.get(Account, account.id)
        page = client.get(f"/r/{account.slug}")
        assert page.status_code == 200 and f'<html lang="{expected}"' in page.get_data(as_text=True)
        settings = client.get("/dashboard/settings").get_data(as_text=True)
        option = re.search(f'<option (selected )?value="{expected}"( selected)?>', settings).group(0)
        assert "selected" in option
        assert "primary language when the portal speaks it" in settings


def test_a_language_the_retailer_chose_is_kept_before_and_after_connecting(app, client, sandbox, monkeypatch,
                                                                           drain_jobs):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, orders=0, scopes=[*BASE, "read_locales"])
    primary_locale(sandbox, "fr")
    chose_first, _ = login_admin(client, shop_domain=None, locale="es")
    assert connected_locale(client, chose_first.id, shop) == "es"

    client.post("/logout")
    other = "second-shop.myshopify.com"
    shop = make_shop(sandbox, domain=other, orders=0, scopes=[*BASE, "read_locales"])
    primary_locale(sandbox, "fr", other)
    account, _ = login_admin(client, shop_domain=None)
    assert connected_locale(client, account.id, shop) == "fr"
    account = db.session.get(Account, account.id)
    account.locale = "de"  # the retailer's choice in Settings
    db.session.commit()
    assert connected_locale(client, account.id, shop) == "de"  # a reconnection leaves it


@pytest.mark.parametrize("code", ["", "x", "fr_FR", "FR", "fr-\x00", "é", "a" * 40, "fr-CA-extra", 7, ["fr"]])
def test_the_sandbox_refuses_a_locale_shopify_would_not_name(sandbox, code):
    make_shop(sandbox, orders=0)
    answer = requests.patch(f"{sandbox.url}/_sandbox/shops/{SHOP}", json={"primary_locale": code}, timeout=5)
    assert answer.status_code == 400
    assert sandbox.store.get_shop(SHOP) is not None
    primary_locale(sandbox, "pt-BR")  # a well-formed one is taken


def test_shopify_answers_the_locales_only_to_a_token_with_the_scope(app, sandbox):
    from app.shopify import errors
    from app.shopify.client import ShopifyClient
    from app.shopify.operations import fetch_primary_locale

    for scopes, expected in ((BASE, None), ([*BASE, "read_locales"], "fr-CA")):
        sandbox.store.reset()
        shop = make_shop(sandbox, orders=0, scopes=scopes)
        primary_locale(sandbox, "fr-CA")
        client = ShopifyClient(shop.domain, shop.token, api_origin=shop.origin)
        assert fetch_primary_locale(client) == expected
        if expected is None:  # refused as Shopify refuses it, not answered empty
            with pytest.raises(errors.MissingScopeError):
                client.run("shop_locales")


@pytest.mark.parametrize("answer", [
    {}, {"shopLocales": None}, {"shopLocales": 7}, {"shopLocales": "fr"}, {"shopLocales": {"locale": "fr"}},
    {"shopLocales": [None, 3, "fr", {"locale": "fr"}, {"locale": 7, "primary": True},
                     {"locale": "fr", "primary": "yes"}]},
    None, [],
])
def test_an_unexpected_shape_from_shopify_names_no_language(answer):
    from app.shopify.operations import fetch_primary_locale

    class Answers:
        def run(self, name, variables=None):
            assert name == "shop_locales"
            return answer

    assert fetch_primary_locale(Answers()) is None

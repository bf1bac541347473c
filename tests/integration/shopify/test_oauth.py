"""Getting a token all three ways through the sandbox over HTTP (``app.shopify.auth``).

The consent page is driven like a browser would, with plain HTTP: GET the authorize URL the
app builds, read the form, POST it, and take the redirect back to the app's callback.
The callback's timestamp is on the virtual clock, so ``verify_callback`` is given that time.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import requests

from app.shopify import auth, errors as E, operations as ops

from .conftest import CLIENT_ID, CLIENT_SECRET, SHOP

REDIRECT_URI = "https://boomerang.example/shopify/callback"


class FormReader(HTMLParser):
    """The first form of a page: its action and its named inputs."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action, self._in_form = attrs.get("action") or "", True
        elif tag in ("input", "button") and self._in_form and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False


def approve_install(sandbox, scopes, *, online=False) -> tuple[dict, str]:
    """Merchant clicks Install: returns (callback query params, the state we issued)."""
    state = auth.new_state()
    url = auth.authorize_url(SHOP, CLIENT_ID, scopes, REDIRECT_URI, state, online=online,
                             origin=sandbox.api_origin(SHOP))
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text
    form = FormReader()
    form.feed(page.text)
    assert form.action is not None and "approve" in form.fields
    answer = browser.post(urljoin(page.url, form.action), data=form.fields,
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return dict(parse_qsl(urlsplit(location).query)), state


def virtual_now(sandbox):
    """The sandbox clock as a datetime: token lifetimes and callback ages are measured on it."""
    return datetime.fromtimestamp(sandbox.clock.now(), timezone.utc)


def test_authorization_code_grant_gives_a_non_expiring_offline_token(api_shop, sandbox):
    params, state = approve_install(sandbox, ["read_orders", "read_products"])

    assert auth.verify_callback(params, CLIENT_SECRET, expected_state=state,
                                now=virtual_now(sandbox)) == SHOP
    with pytest.raises(E.InvalidHMACError):
        auth.verify_callback(params, "shpss_not_the_secret", expected_state=state,
                             now=virtual_now(sandbox))
    with pytest.raises(E.ShopifyAuthError, match="state"):
        auth.verify_callback(params, CLIENT_SECRET, expected_state=auth.new_state(),
                             now=virtual_now(sandbox))

    token = auth.exchange_code(SHOP, CLIENT_ID, CLIENT_SECRET, params["code"],
                               origin=sandbox.api_origin(SHOP), now=lambda: virtual_now(sandbox))
    assert token.access_token.startswith("shpat_") and token.expires_at is None
    assert token.refresh_token is None and set(token.scopes) == {"read_orders", "read_products"}
    info = ops.fetch_shop_info(api_shop.client(token.access_token))
    assert info.scopes == frozenset(token.scopes)

    # A code is single-use.
    with pytest.raises(E.ShopifyAuthError, match="invalid_grant|already used"):
        auth.exchange_code(SHOP, CLIENT_ID, CLIENT_SECRET, params["code"],
                           origin=sandbox.api_origin(SHOP))


def test_callback_older_than_an_hour_is_refused(api_shop, sandbox):
    params, state = approve_install(sandbox, ["read_orders"])
    with pytest.raises(E.ShopifyAuthError, match="too old"):
        auth.verify_callback(params, CLIENT_SECRET, expected_state=state,
                             now=virtual_now(sandbox) + timedelta(hours=2))


def test_expiring_offline_token_refreshes_and_the_client_renews_on_401(api_shop, sandbox):
    params, state = approve_install(sandbox, ["read_orders"])
    auth.verify_callback(params, CLIENT_SECRET, expected_state=state, now=virtual_now(sandbox))
    origin = sandbox.api_origin(SHOP)

    def clock_now():
        return virtual_now(sandbox)

    first = auth.exchange_code(SHOP, CLIENT_ID, CLIENT_SECRET, params["code"], expiring=True,
                               origin=origin, now=clock_now)
    issued = virtual_now(sandbox)
    assert first.expires_at == issued + timedelta(minutes=60)
    assert first.refresh_token and first.refresh_token_expires_at == issued + timedelta(days=90)
    assert not first.needs_renewal(issued)
    assert first.needs_renewal(issued + timedelta(minutes=51))

    # The client renews once on a 401 through on_unauthorized, then carries on.
    renewed = []

    def renew():
        current = renewed[-1] if renewed else first
        token = auth.refresh_access_token(SHOP, CLIENT_ID, CLIENT_SECRET, current.refresh_token,
                                          origin=origin, now=clock_now)
        renewed.append(token)
        return token.access_token

    client = api_shop.client(first.access_token, on_unauthorized=renew)
    assert ops.fetch_shop_info(client).scopes == {"read_orders"}
    sandbox.clock.advance(3601)  # the access token has expired
    assert ops.fetch_shop_info(client).scopes == {"read_orders"}
    assert len(renewed) == 1 and client.access_token == renewed[0].access_token
    assert renewed[0].refresh_token != first.refresh_token  # rotated

    # The used refresh token is retired, and so is the access token it replaced.
    with pytest.raises(E.ShopifyAuthError, match="invalid_grant|invalid or expired"):
        auth.refresh_access_token(SHOP, CLIENT_ID, CLIENT_SECRET, first.refresh_token,
                                  origin=origin)
    with pytest.raises(E.RevokedTokenError):
        ops.fetch_shop_info(api_shop.client(first.access_token))


def test_online_grant_gives_a_per_user_token(api_shop, sandbox):
    params, _state = approve_install(sandbox, ["read_orders"], online=True)
    token = auth.exchange_code(SHOP, CLIENT_ID, CLIENT_SECRET, params["code"],
                               origin=sandbox.api_origin(SHOP), now=lambda: virtual_now(sandbox))
    assert token.access_token.startswith("shpua_") and token.associated_user_id is not None
    assert token.expires_at is not None


def test_client_credentials_grant_lasts_24_hours(api_shop, sandbox):
    origin = sandbox.api_origin(SHOP)
    token = auth.client_credentials_token(SHOP, CLIENT_ID, CLIENT_SECRET, origin=origin,
                                          now=lambda: virtual_now(sandbox))
    lifetime = token.expires_at - virtual_now(sandbox)
    assert timedelta(hours=23, minutes=59) <= lifetime <= timedelta(hours=24)
    assert token.refresh_token is None
    client = api_shop.client(token.access_token)
    assert ops.fetch_shop_info(client).name == "Acme Outdoor"

    sandbox.clock.advance(86_400)
    with pytest.raises(E.RevokedTokenError):
        ops.fetch_shop_info(client)

    with pytest.raises(E.ShopifyAuthError, match="Client authentication failed"):
        auth.client_credentials_token(SHOP, CLIENT_ID, "shpss_wrong", origin=origin)


def test_a_pasted_admin_token_works_for_a_shop_query(api_shop):
    pasted = f"  {api_shop.token}\n"  # as copied from the admin, with stray whitespace
    token = auth.check_pasted_token(pasted)
    assert ops.fetch_shop_info(api_shop.client(token)).myshopify_domain == SHOP
    with pytest.raises(E.ShopifyAuthError, match="API secret key"):
        auth.check_pasted_token(CLIENT_SECRET)

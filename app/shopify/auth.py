"""Getting an Admin API token, all three ways (DESIGN §2.1; reference §6, H1–H2).

1. OAuth authorization-code grant (an app installed from our URL): ``authorize_url`` → Shopify
   redirects back with ``code``, ``shop``, ``state``, ``timestamp``, ``hmac`` → ``verify_callback``
   → ``exchange_code`` (offline token; ``expiring=True`` asks for the 60-minute kind with a refresh
   token, renewed by ``refresh_access_token``).
2. Client-credentials grant (a Dev Dashboard app the merchant owns): ``client_credentials_token``;
   the token lives 24 h and has no refresh token, so callers renew before ``expires_at``.
3. A pasted legacy admin custom-app token (``shpat_…``, never expires): ``check_pasted_token`` for
   the shape, then a shop query (``operations.fetch_shop_info``) is the live check.

The callback HMAC is NOT the webhook algorithm: hex HMAC-SHA256 over the query parameters except
``hmac`` (and legacy ``signature``), sorted, as ``key=value`` joined with ``&``.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets as _secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Mapping
from urllib.parse import urlencode

import requests

from app.shopify import errors as E

SHOP_DOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_TOKEN_RE = re.compile(r"^shpat_[A-Za-z0-9]{16,}$")
# Other prefixes people paste by mistake, with what they are.
_WRONG_PREFIXES = {
    "shpss_": "the API secret key (used for webhooks), not the Admin API access token",
    "shppa_": "a private-app password; paste the Admin API access token (shpat_…)",
    "shpca_": "a custom-app token of another kind; paste the Admin API access token (shpat_…)",
}
DEFAULT_TIMEOUT = (3.05, 15.0)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class AccessToken:
    """A token and what we know of its life."""

    access_token: str
    scopes: tuple[str, ...]
    expires_at: datetime | None = None            # None: does not expire (offline, legacy)
    refresh_token: str | None = None
    refresh_token_expires_at: datetime | None = None
    associated_user_id: int | None = None         # online tokens only

    def needs_renewal(self, now: datetime, margin: timedelta = timedelta(minutes=10)) -> bool:
        """True when the token expires within ``margin`` of ``now`` (renew before, not after)."""
        return self.expires_at is not None and now + margin >= self.expires_at


# --- shop domain, state, authorize URL -----------------------------------------------------------

def is_valid_shop_domain(shop: str | None) -> bool:
    """Strict check of a ``shop`` parameter: ``<name>.myshopify.com``, lower case, nothing else."""
    return bool(shop) and bool(SHOP_DOMAIN_RE.fullmatch(shop))


def normalize_shop_domain(value: str) -> str:
    """A shop typed by a person (``My-Shop``, ``https://my-shop.myshopify.com/admin``) → domain.

    Raises ``InvalidShopDomainError`` when the result is not ``<name>.myshopify.com``.
    """
    text = (value or "").strip().lower()
    text = re.sub(r"^https?://", "", text).split("/", 1)[0]
    if text and "." not in text:
        text += ".myshopify.com"
    if not is_valid_shop_domain(text):
        raise E.InvalidShopDomainError(f"not a myshopify.com shop domain: {value!r}")
    return text


def new_state() -> str:
    """A fresh unguessable ``state`` nonce for one authorization attempt."""
    return _secrets.token_urlsafe(32)


def authorize_url(shop: str, client_id: str, scopes: Iterable[str], redirect_uri: str,
                  state: str, *, online: bool = False, origin: str | None = None) -> str:
    """The URL to send the merchant to. Offline (default) gives a shop-wide token; ``online``
    adds ``grant_options[]=per-user`` for a token tied to the logged-in staff member."""
    if not is_valid_shop_domain(shop):
        raise E.InvalidShopDomainError(f"not a myshopify.com shop domain: {shop!r}")
    params = [("client_id", client_id), ("scope", ",".join(scopes)),
              ("redirect_uri", redirect_uri), ("state", state)]
    if online:
        params.append(("grant_options[]", "per-user"))
    base = (origin or f"https://{shop}").rstrip("/")
    return f"{base}/admin/oauth/authorize?{urlencode(params)}"


# --- callback HMAC -------------------------------------------------------------------------------

def _escape(text: str, is_key: bool) -> str:
    # Shopify's rule for the signed message: % and & escaped in keys and values, = also in keys.
    text = text.replace("%", "%25").replace("&", "%26")
    return text.replace("=", "%3D") if is_key else text


def query_hmac_message(params: Mapping[str, str | list[str]]) -> str:
    """The signed message: sorted ``key=value`` pairs joined by ``&``, without hmac/signature.

    A repeated parameter (``ids[]=1&ids[]=2``) is signed as ``ids=["1", "2"]``.
    """
    pairs = []
    for key, value in params.items():
        if key in ("hmac", "signature"):
            continue
        if isinstance(value, (list, tuple)):
            key = key[:-2] if key.endswith("[]") else key
            value = "[" + ", ".join(f'"{v}"' for v in value) + "]"
        pairs.append(f"{_escape(str(key), True)}={_escape(str(value), False)}")
    return "&".join(sorted(pairs))


def compute_query_hmac(params: Mapping[str, str | list[str]], secret: str) -> str:
    """Hex HMAC-SHA256 of ``query_hmac_message(params)`` with the app's client secret."""
    message = query_hmac_message(params).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_query_hmac(params: Mapping[str, str | list[str]], secret: str) -> bool:
    """True when ``params['hmac']`` matches (constant-time compare)."""
    received = params.get("hmac")
    if not isinstance(received, str) or not received:
        return False
    expected = compute_query_hmac(params, secret)
    return hmac.compare_digest(expected.encode(), received.strip().lower().encode())


def verify_callback(params: Mapping[str, str], secret: str, *, expected_state: str | None,
                    now: datetime | None = None, max_age: timedelta = timedelta(hours=1)) -> str:
    """Check an OAuth callback and return its shop domain, or raise ``ShopifyAuthError``.

    Checks: HMAC, shop domain format, ``state`` equals the nonce we issued (CSRF), and a
    ``timestamp`` no older than ``max_age`` (replay).
    """
    if not verify_query_hmac(params, secret):
        raise E.InvalidHMACError("the callback's hmac does not match")
    shop = params.get("shop")
    if not is_valid_shop_domain(shop):
        raise E.InvalidShopDomainError(f"not a myshopify.com shop domain: {shop!r}")
    if expected_state is not None and not hmac.compare_digest(
            str(params.get("state") or "").encode(), expected_state.encode()):
        raise E.ShopifyAuthError("the callback's state does not match the one we issued")
    stamp = params.get("timestamp")
    if stamp is not None:
        try:
            issued = datetime.fromtimestamp(int(stamp), timezone.utc)
        except (TypeError, ValueError, OverflowError) as exc:
            raise E.ShopifyAuthError(f"bad timestamp {stamp!r}") from exc
        if (now or _utcnow()) - issued > max_age:
            raise E.ShopifyAuthError("the callback is too old")
    return shop


# --- token endpoint ------------------------------------------------------------------------------

def _token_request(shop: str, form: dict, *, origin: str | None, session, timeout,
                   now: Callable[[], datetime]) -> AccessToken:
    if not is_valid_shop_domain(shop):
        raise E.InvalidShopDomainError(f"not a myshopify.com shop domain: {shop!r}")
    url = f"{(origin or f'https://{shop}').rstrip('/')}/admin/oauth/access_token"
    http = session or requests.Session()
    started = now()
    try:
        response = http.post(url, data=form, headers={"Accept": "application/json"},
                             timeout=timeout)
    except requests.exceptions.Timeout as exc:
        raise E.ShopifyTimeoutError(f"token request to {shop} timed out") from exc
    except requests.exceptions.ConnectionError as exc:
        raise E.ShopifyConnectionError(f"token request to {shop} failed: {exc}") from exc
    try:
        body = response.json()
    except ValueError:
        raise E.NonJSONResponseError(
            f"token endpoint answered HTTP {response.status_code} with a non-JSON body",
            status=response.status_code, body=response.text[:500],
            content_type=response.headers.get("Content-Type")) from None
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
        detail = (body.get("error_description") or body.get("error") or body.get("errors")
                  if isinstance(body, dict) else None)
        raise E.ShopifyAuthError(f"token request refused (HTTP {response.status_code}): {detail}")
    return _access_token(body, started)


def _access_token(body: dict, issued: datetime) -> AccessToken:
    def later(seconds) -> datetime | None:
        return issued + timedelta(seconds=int(seconds)) if seconds not in (None, "") else None

    user = body.get("associated_user") if isinstance(body.get("associated_user"), dict) else None
    return AccessToken(
        access_token=body["access_token"],
        scopes=tuple(s.strip() for s in str(body.get("scope") or "").split(",") if s.strip()),
        expires_at=later(body.get("expires_in")),
        refresh_token=body.get("refresh_token"),
        refresh_token_expires_at=later(body.get("refresh_token_expires_in")),
        associated_user_id=int(user["id"]) if user and user.get("id") is not None else None,
    )


def exchange_code(shop: str, client_id: str, client_secret: str, code: str, *,
                  expiring: bool = False, origin: str | None = None, session=None,
                  timeout=DEFAULT_TIMEOUT, now: Callable[[], datetime] = _utcnow) -> AccessToken:
    """Trade the callback's ``code`` for a token (single use: never retried)."""
    form = {"client_id": client_id, "client_secret": client_secret, "code": code}
    if expiring:
        form["expiring"] = "1"  # expiring offline token: expires_in + refresh_token
    return _token_request(shop, form, origin=origin, session=session, timeout=timeout, now=now)


def refresh_access_token(shop: str, client_id: str, client_secret: str, refresh_token: str, *,
                         origin: str | None = None, session=None, timeout=DEFAULT_TIMEOUT,
                         now: Callable[[], datetime] = _utcnow) -> AccessToken:
    """Renew an expiring offline token; the answer carries a new refresh token too."""
    form = {"client_id": client_id, "client_secret": client_secret,
            "grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_request(shop, form, origin=origin, session=session, timeout=timeout, now=now)


def client_credentials_token(shop: str, client_id: str, client_secret: str, *,
                             origin: str | None = None, session=None, timeout=DEFAULT_TIMEOUT,
                             now: Callable[[], datetime] = _utcnow) -> AccessToken:
    """A 24-hour token for an app the merchant's own organisation owns (no refresh token)."""
    form = {"grant_type": "client_credentials", "client_id": client_id,
            "client_secret": client_secret}
    return _token_request(shop, form, origin=origin, session=session, timeout=timeout, now=now)


def check_pasted_token(token: str) -> str:
    """The stripped ``shpat_`` token, or ``ShopifyAuthError`` saying what was pasted instead."""
    text = (token or "").strip()
    for prefix, what in _WRONG_PREFIXES.items():
        if text.startswith(prefix):
            raise E.ShopifyAuthError(f"that looks like {what}")
    if not _TOKEN_RE.fullmatch(text):
        raise E.ShopifyAuthError("an Admin API access token starts with shpat_ followed by letters "
                                 "and digits")
    return text

"""Every failure the Shopify client reports: one tree under ``ShopifyError``.

Callers branch on the class (revoked token → ask the retailer to reconnect; missing scope → tell
them which one; throttled/unavailable → try later; user errors → show Shopify's messages).
"""
from __future__ import annotations

from dataclasses import dataclass


class ShopifyError(Exception):
    """Base of every error raised by ``app.shopify``."""


# --- transport ---------------------------------------------------------------------------------

class ShopifyTransportError(ShopifyError):
    """The request did not get a usable HTTP answer (after any retries allowed)."""


class ShopifyConnectionError(ShopifyTransportError):
    """Connection refused, reset or DNS failure."""


class ShopifyTimeoutError(ShopifyTransportError):
    """Shopify did not answer within the timeout."""


class ShopifyHTTPError(ShopifyError):
    """An HTTP status the client does not treat specially (e.g. 404, 400)."""

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = body


class ShopifyServerError(ShopifyHTTPError):
    """5xx from Shopify, still failing after the retries allowed (or a mutation not retried)."""


class ShopUnavailableError(ShopifyHTTPError):
    """402 (shop frozen for non-payment) or 423 (shop locked): nothing to retry soon."""


class RevokedTokenError(ShopifyHTTPError):
    """401: the token is invalid, expired or revoked (app uninstalled)."""


class MissingScopeError(ShopifyHTTPError):
    """403 or ACCESS_DENIED: the token lacks an access scope (named in ``scope`` when known)."""

    def __init__(self, message: str, *, scope: str | None = None, status: int | None = None,
                 body: str | None = None):
        super().__init__(message, status=status, body=body)
        self.scope = scope


class ThrottledError(ShopifyError):
    """Still throttled (THROTTLED or 429) when the retry budget ran out."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NonJSONResponseError(ShopifyHTTPError):
    """The body was not JSON (an HTML error page from a proxy, a maintenance page, truncation)."""

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None,
                 content_type: str | None = None):
        super().__init__(message, status=status, body=body)
        self.content_type = content_type


# --- GraphQL level -----------------------------------------------------------------------------

class GraphQLErrors(ShopifyError):
    """The response carried top-level GraphQL ``errors`` (syntax, validation, execution)."""

    def __init__(self, errors: list[dict], data: dict | None = None):
        self.errors = errors
        self.data = data  # partial data Shopify may return beside the errors
        self.messages = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
        self.codes = [
            (e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)
        ]
        super().__init__("; ".join(self.messages) or "GraphQL errors")


@dataclass(frozen=True)
class UserErrorItem:
    """One entry of a mutation's ``userErrors``."""

    message: str
    field: tuple[str, ...] = ()
    code: str | None = None


class UserErrorsError(ShopifyError):
    """A mutation answered with non-empty ``userErrors`` (Shopify refused the input)."""

    def __init__(self, operation: str, items: list[UserErrorItem]):
        self.operation = operation
        self.items = items
        self.messages = [i.message for i in items]
        detail = "; ".join(
            (".".join(i.field) + ": " if i.field else "") + i.message for i in items
        )
        super().__init__(f"{operation}: {detail}")


# --- data --------------------------------------------------------------------------------------

class ShopifyDataError(ShopifyError):
    """Shopify's data is not what we can map: bad money string, unparseable id or date, ..."""


class BulkOperationError(ShopifyError):
    """A bulk operation ended FAILED/CANCELED/EXPIRED, or did not finish in the time allowed."""

    def __init__(self, message: str, *, status: str | None = None, error_code: str | None = None,
                 partial_data_url: str | None = None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.partial_data_url = partial_data_url


class BulkResultError(ShopifyDataError):
    """A line of a bulk JSONL result is not valid JSON (truncated download) or is orphaned."""

    def __init__(self, message: str, *, line_number: int | None = None):
        super().__init__(message)
        self.line_number = line_number


# --- auth --------------------------------------------------------------------------------------

class ShopifyAuthError(ShopifyError):
    """Getting or checking a token failed (bad HMAC, bad shop, refused grant, bad token shape)."""


class InvalidShopDomainError(ShopifyAuthError):
    """The shop parameter is not a ``<name>.myshopify.com`` domain."""


class InvalidHMACError(ShopifyAuthError):
    """The OAuth callback's query-string HMAC does not match."""

"""GraphQL Admin API client over ``requests``: pacing, retries and typed errors.

Facts this follows (see docs/reference/shopify-api.md §3, §6):
- Endpoint ``/admin/api/{version}/graphql.json``, header ``X-Shopify-Access-Token``.
- Cost-based leaky bucket per app+store: every response carries ``extensions.cost`` with
  ``requestedQueryCost`` and ``throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}``.
  We pace so the next query's requested cost fits the bucket instead of running into THROTTLED.
- Throttled calls come back either as HTTP 200 with ``errors[].extensions.code == "THROTTLED"`` or as
  HTTP 429 with ``Retry-After`` (seconds, possibly fractional); sources disagree, so both are handled.
  A throttled call was refused before it ran, so it is retried even when it is a mutation.
- 5xx, connection resets and read timeouts leave it unknown whether a mutation ran: queries are
  retried (exponential backoff with jitter, bounded in count and in total time); a mutation only
  when the caller says it carries an ``@idempotent(key:)`` directive (API 2026-01), because Shopify
  then answers a repeated key with the original result instead of acting twice.
- 401 = token invalid/revoked/expired (``on_unauthorized`` may renew a client-credentials token once),
  403 or ``ACCESS_DENIED`` = missing scope, 402/423 = shop frozen/locked.
"""
from __future__ import annotations

import functools
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import requests

from app.shopify import errors as E
from app.shopify.documents import load_document, operation_type

# The newest Admin API version whose schema the tests hold and validate every document against
# (tests/fixtures/shopify/admin-2026-04.schema.graphql.xz); app.config's default.
DEFAULT_API_VERSION = "2026-04"
# (connect, read) seconds. Callers with a person waiting pass a shorter read timeout.
DEFAULT_TIMEOUT = (3.05, 30.0)
_SCOPE_RE = re.compile(r"\b((?:read|write|unauthenticated_read|unauthenticated_write)_[a-z_]+)\b")
_SERVER_ERROR_CODES = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}


@dataclass
class ThrottleStatus:
    """The last bucket state Shopify reported, and when (on our monotonic clock) we saw it."""

    maximum_available: float
    currently_available: float
    restore_rate: float
    observed_at: float

    def available_at(self, now: float) -> float:
        """Points expected in the bucket at ``now`` (it refills at restore_rate per second)."""
        refill = max(0.0, now - self.observed_at) * self.restore_rate
        return min(self.maximum_available, self.currently_available + refill)


@dataclass
class Pacing:
    """What this process knows of one shop's bucket: the last throttle status and each
    document's cost. Clients of the same shop share it (a job makes a client per item), so
    a new client paces from the first call instead of learning the bucket from a THROTTLED."""

    throttle: ThrottleStatus | None = None
    costs: dict[str, float] = field(default_factory=dict)


@functools.lru_cache(maxsize=256)
def _is_mutation(document: str) -> bool:
    """True when the document's operation is a mutation (comments and whitespace skipped)."""
    stripped = re.sub(r"#[^\n]*", "", document)
    return re.search(r"(?:^|[}\s])mutation\b", stripped) is not None


class ShopifyClient:
    """One shop's GraphQL Admin API, with pacing, bounded retries and typed errors."""

    def __init__(self, shop_domain: str, access_token: str, *,
                 api_version: str = DEFAULT_API_VERSION, api_origin: str | None = None,
                 session: requests.Session | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 max_retries: int = 5, max_retry_seconds: float = 60.0,
                 backoff_base: float = 0.5, backoff_max: float = 8.0,
                 on_unauthorized: Callable[[], str | None] | None = None,
                 random_fn: Callable[[], float] = random.random, pacing: Pacing | None = None):
        self.shop_domain = shop_domain
        self.access_token = access_token
        self.api_version = api_version
        self.origin = (api_origin or f"https://{shop_domain}").rstrip("/")
        self.endpoint = f"{self.origin}/admin/api/{api_version}/graphql.json"
        self.session = session or requests.Session()
        self.timeout = timeout
        self.sleep = sleep
        self.monotonic = monotonic
        self.max_retries = max_retries
        self.max_retry_seconds = max_retry_seconds
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.on_unauthorized = on_unauthorized
        self.random = random_fn
        self.pacing = pacing or Pacing()
        self.last_cost: dict | None = None
        self.throttled = 0  # calls refused as throttled (and retried) by this client
        self._cost_by_document = self.pacing.costs

    @property
    def throttle(self) -> ThrottleStatus | None:
        """The shop's bucket as last reported (shared through ``pacing``)."""
        return self.pacing.throttle

    @throttle.setter
    def throttle(self, status: ThrottleStatus | None) -> None:
        self.pacing.throttle = status

    # --- public ---------------------------------------------------------------------------------

    def run(self, name: str, variables: dict | None = None, *, idempotent: bool = False) -> dict:
        """Execute the named document from ``app/shopify/queries`` and return its ``data``."""
        document = load_document(name)
        if operation_type(name) != "mutation":
            idempotent = False
        return self.execute(document, variables, idempotent=idempotent)

    def execute(self, document: str, variables: dict | None = None, *,
                idempotent: bool = False, cost_hint: float | None = None, cost: float | None = None) -> dict:
        """POST one GraphQL document and return ``data``; raise a ``ShopifyError`` otherwise.

        ``idempotent=True`` declares that a mutation carries ``@idempotent(key:)`` and may be
        retried after an ambiguous failure; it is refused for a document without the directive.
        ``cost_hint`` is the expected requested cost, used for pacing before the first response
        for this document has told us its real cost. ``cost`` is the exact requested cost, for a
        document whose cost depends on its variables (``nodes(ids:)``): it paces every call.
        """
        mutation = _is_mutation(document)
        if idempotent and "@idempotent" not in document:
            raise ValueError("idempotent=True but the document has no @idempotent(key:) directive")
        may_retry_ambiguous = (not mutation) or idempotent
        payload = {"query": document, "variables": variables or {}}
        started = self.monotonic()
        retries = 0
        renewed = False
        while True:
            self._pace(cost if cost is not None else self._cost_by_document.get(document, cost_hint))
            try:
                response = self._post(payload)
            except requests.exceptions.ConnectTimeout as exc:
                # Never connected, so nothing ran: safe to retry even a mutation.
                wait = self._backoff(retries)
                if not self._budget_allows(retries, started, wait):
                    raise E.ShopifyTimeoutError(f"connect timeout to {self.origin}: {exc}") from exc
            except requests.exceptions.Timeout as exc:
                wait = self._backoff(retries)
                if not (may_retry_ambiguous and self._budget_allows(retries, started, wait)):
                    raise E.ShopifyTimeoutError(
                        f"Shopify did not answer within {self.timeout[1]}s"
                        + ("" if may_retry_ambiguous else " (mutation not retried: it may have run)")
                    ) from exc
            except requests.exceptions.ConnectionError as exc:
                wait = self._backoff(retries)
                if not (may_retry_ambiguous and self._budget_allows(retries, started, wait)):
                    raise E.ShopifyConnectionError(f"connection to {self.origin} failed: {exc}") from exc
            else:
                outcome = self._interpret(response, document)
                if outcome[0] == "data":
                    return outcome[1]
                kind, wait, error = outcome
                if kind == "server":
                    # Ambiguous: the operation may have run. Only queries and keyed mutations retry.
                    if not may_retry_ambiguous:
                        raise error
                    wait = self._backoff(retries)
                if kind == "unauthorized":
                    # 401 means the call was refused unrun, so one renewal + retry is safe.
                    if self.on_unauthorized is not None and not renewed:
                        renewed = True
                        new_token = self.on_unauthorized()
                        if new_token:
                            self.access_token = new_token
                            continue
                    raise error
                if kind == "fatal":
                    raise error
                if kind == "throttled":
                    self.throttled += 1
                if not self._budget_allows(retries, started, wait):
                    raise error
            retries += 1
            self.sleep(wait)

    def stream_lines(self, url: str) -> Iterator[bytes]:
        """GET ``url`` (a bulk result: a signed storage URL) and yield its lines as bytes.

        Constant memory: the body is streamed, never loaded whole. The access token is NOT sent:
        the URL is pre-signed and may point at another host.
        """
        try:
            response = self.session.get(url, stream=True, timeout=self.timeout)
        except requests.exceptions.Timeout as exc:
            raise E.ShopifyTimeoutError(f"bulk result download timed out: {exc}") from exc
        except requests.exceptions.ConnectionError as exc:
            raise E.ShopifyConnectionError(f"bulk result download failed: {exc}") from exc
        with response:
            if response.status_code != 200:
                raise E.ShopifyHTTPError(f"bulk result download: HTTP {response.status_code}",
                                         status=response.status_code)
            try:
                yield from response.iter_lines(chunk_size=64 * 1024)
            except requests.exceptions.RequestException as exc:
                raise E.ShopifyConnectionError(f"bulk result download broke off: {exc}") from exc

    # --- internals ------------------------------------------------------------------------------

    def _post(self, payload: dict) -> requests.Response:
        headers = {
            "X-Shopify-Access-Token": self.access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        return self.session.post(self.endpoint, data=json.dumps(payload), headers=headers,
                                 timeout=self.timeout)

    def _pace(self, expected_cost: float | None) -> None:
        """Sleep until the bucket should hold ``expected_cost`` points (leaky-bucket refill)."""
        status = self.throttle
        if status is None or not expected_cost or status.restore_rate <= 0:
            return
        needed = min(expected_cost, status.maximum_available)
        available = status.available_at(self.monotonic())
        if available < needed:
            self.sleep((needed - available) / status.restore_rate)

    def _backoff(self, retries: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** retries))
        return ceiling / 2 + self.random() * ceiling / 2

    def _budget_allows(self, retries: int, started: float, wait: float) -> bool:
        """Both bounds: number of retries and total seconds spent including the next wait."""
        if retries >= self.max_retries:
            return False
        return (self.monotonic() - started) + wait <= self.max_retry_seconds

    def _record_cost(self, body: dict, document: str) -> dict | None:
        cost = (body.get("extensions") or {}).get("cost") if isinstance(body, dict) else None
        if not isinstance(cost, dict):
            return None
        self.last_cost = cost
        status = cost.get("throttleStatus") or {}
        try:
            self.throttle = ThrottleStatus(
                maximum_available=float(status["maximumAvailable"]),
                currently_available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
                observed_at=self.monotonic(),
            )
        except (KeyError, TypeError, ValueError):
            pass
        if isinstance(cost.get("requestedQueryCost"), (int, float)):
            self._cost_by_document[document] = float(cost["requestedQueryCost"])
        return cost

    def _throttle_wait(self, cost: dict | None) -> float:
        """Seconds until the bucket holds the refused query's requested cost."""
        status = self.throttle
        if cost and status and status.restore_rate > 0:
            requested = float(cost.get("requestedQueryCost") or 0)
            needed = min(requested, status.maximum_available) - status.currently_available
            return max(needed / status.restore_rate, 0.1)
        return 1.0

    def _interpret(self, response: requests.Response, document: str):
        """Turn a response into ("data", data) or (kind, wait_seconds, error_to_raise)."""
        status = response.status_code
        text = response.text
        if status == 401:
            return ("unauthorized", 0.0, E.RevokedTokenError(
                "401 Unauthorized: the access token is invalid, expired or revoked",
                status=status, body=text[:500]))
        if status == 403:
            scope = _scope_in(text)
            return ("fatal", 0.0, E.MissingScopeError(
                f"403 Forbidden{': missing scope ' + scope if scope else ''}",
                scope=scope, status=status, body=text[:500]))
        if status in (402, 423):
            return ("fatal", 0.0, E.ShopUnavailableError(
                f"{status}: the shop is {'frozen (payment required)' if status == 402 else 'locked'}",
                status=status, body=text[:500]))
        if status == 429:
            wait = _retry_after(response.headers.get("Retry-After"))
            return ("throttled", wait, E.ThrottledError("429 Too Many Requests", retry_after=wait))
        if status >= 500:
            error = E.ShopifyServerError(f"Shopify answered HTTP {status}", status=status,
                                         body=text[:500])
            return ("server", 0.0, error)
        if status != 200:
            return ("fatal", 0.0, E.ShopifyHTTPError(f"Shopify answered HTTP {status}",
                                                     status=status, body=text[:500]))
        try:
            body = json.loads(text)
        except ValueError:
            content_type = response.headers.get("Content-Type")
            return ("fatal", 0.0, E.NonJSONResponseError(
                f"Shopify answered HTTP 200 with a non-JSON body ({content_type or 'no type'}): "
                f"{text[:120]!r}", status=status, body=text[:500], content_type=content_type))
        if not isinstance(body, dict):
            return ("fatal", 0.0, E.NonJSONResponseError(
                "Shopify answered with JSON that is not an object", status=status, body=text[:500]))
        cost = self._record_cost(body, document)
        errs = body.get("errors")
        if errs:
            if isinstance(errs, str):  # REST-style {"errors": "..."} on some failures
                errs = [{"message": errs}]
            codes = {(e.get("extensions") or {}).get("code") for e in errs if isinstance(e, dict)}
            messages = " ".join(str(e.get("message", "")) for e in errs if isinstance(e, dict))
            if "THROTTLED" in codes or messages.strip().lower() == "throttled":
                wait = self._throttle_wait(cost)
                return ("throttled", wait, E.ThrottledError("THROTTLED", retry_after=wait))
            if "ACCESS_DENIED" in codes:
                scope = _scope_in(messages)
                return ("fatal", 0.0, E.MissingScopeError(
                    f"ACCESS_DENIED: {messages.strip()}", scope=scope, status=status))
            if codes & _SERVER_ERROR_CODES:
                return ("server", 0.0, E.GraphQLErrors(errs))
            return ("fatal", 0.0, E.GraphQLErrors(errs, data=body.get("data")))
        if "data" not in body:
            return ("fatal", 0.0, E.NonJSONResponseError(
                "Shopify's JSON has neither data nor errors", status=status, body=text[:500]))
        return ("data", body["data"])


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (Shopify sends a float like "2.0"); 1 s if unusable."""
    try:
        seconds = float(value) if value is not None else 1.0
    except ValueError:
        return 1.0
    return seconds if seconds >= 0 else 1.0


def _scope_in(text: str) -> str | None:
    """The access scope an error message names, e.g. "read_orders", if any."""
    match = _SCOPE_RE.search(text or "")
    return match.group(1) if match else None

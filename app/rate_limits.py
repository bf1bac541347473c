"""Limits that count failures only: the login and the portal's order look-up.

Flask-Limiter's decorators count every request to a route, so one address (a load balancer's, or
a busy office's) exhausts the budget for everyone behind it, and a successful login or look-up
spends it too. These guards count failed attempts instead, in two kinds of counters:

- by address ("address" scope: the client's address, per shop for the portal). An address over
  its limit is refused before its attempt is checked.
- by target ("target" scope: the email a login is for; the shop's order number). A target over its
  limit is refused only to addresses that have themselves failed within the address limit's
  window. An address with no recent failure always has its attempt checked, so the right password
  (or the right order number and email) typed from an address that has not failed always gets in:
  an attacker who knows the admin's email slows guessing at it to one guess per fresh address per
  window, but cannot keep the admin out.

A success never counts. The counters live in the limiter's storage (Redis when configured). When
that storage fails or does not answer within its socket timeout, they move to process memory with
a logged warning, and Redis is tried again after RATELIMIT_RETRY_SECONDS: a login or look-up never
answers 500 or hangs because Redis is down or frozen.
"""
import hashlib
import logging
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

EXTENSION_KEY = "boomerang.failure_counters"


class Counters:
    """Moving-window counters in the configured storage, with process memory as the fallback."""

    def __init__(self, uri: str, options: dict, prefix: str, retry_seconds: float):
        self.prefix = prefix
        self.retry_seconds = retry_seconds
        self.primary = MovingWindowRateLimiter(storage_from_string(uri, **options))
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.down_until: float | None = None

    def call(self, method: str, item: RateLimitItem, *identifiers: str):
        """Run one strategy call (`hit`, `test`, `get_window_stats`) where the counters live now."""
        identifiers = (self.prefix, *identifiers)
        if self.down_until is None or time.monotonic() >= self.down_until:
            try:
                result = getattr(self.primary, method)(item, *identifiers)
            except (StorageError, OSError) as error:
                if self.down_until is None:
                    log.warning("rate-limit storage unreachable (%s); counting failures in memory "
                                "and retrying it every %ss", error, self.retry_seconds)
                self.down_until = time.monotonic() + self.retry_seconds
            else:
                if self.down_until is not None:
                    log.warning("rate-limit storage is back; counting failures there again")
                    self.down_until = None
                return result
        return getattr(self.memory, method)(item, *identifiers)


def counters() -> Counters:
    """This app's counters, built on first use from its RATELIMIT_* settings."""
    found = current_app.extensions.get(EXTENSION_KEY)
    if found is None:
        config = current_app.config
        options = {**config["RATELIMIT_STORAGE_OPTIONS"], "wrap_exceptions": True}
        uri = config["RATELIMIT_STORAGE_URI"]
        if uri.startswith("memory://"):
            options = {"wrap_exceptions": True}
        found = Counters(uri, options, config["RATELIMIT_KEY_PREFIX"] + "-failures",
                         float(config["RATELIMIT_RETRY_SECONDS"]))
        current_app.extensions[EXTENSION_KEY] = found
    return found


def _digest(parts: tuple[str, ...]) -> str:
    # Typed text becomes a key: hashed, so a NUL, a lone surrogate or 10 kB of text is a fine key.
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()[:40]


@dataclass(frozen=True)
class FailureGuard:
    """One guarded form: its name and the settings holding its address and target limits."""

    name: str
    address_setting: str
    target_setting: str

    def _limits(self, setting: str) -> list[RateLimitItem]:
        return parse_many(current_app.config[setting])

    def refused(self, address: tuple[str, ...], target: tuple[str, ...]) -> bool:
        """Whether to refuse this attempt (429) before checking it (see the module docstring)."""
        store, address_key, target_key = counters(), _digest(address), _digest(target)
        address_limits = self._limits(self.address_setting)
        if not all(store.call("test", item, self.name, "address", address_key) for item in address_limits):
            return True
        if all(store.call("test", item, self.name, "target", target_key)
               for item in self._limits(self.target_setting)):
            return False
        return any(store.call("get_window_stats", item, self.name, "address", address_key).remaining < item.amount
                   for item in address_limits)

    def failed(self, address: tuple[str, ...], target: tuple[str, ...]) -> None:
        """Count one failed attempt against the address and the target."""
        store, address_key, target_key = counters(), _digest(address), _digest(target)
        for item in self._limits(self.address_setting):
            store.call("hit", item, self.name, "address", address_key)
        for item in self._limits(self.target_setting):
            store.call("hit", item, self.name, "target", target_key)


LOGIN = FailureGuard("login", "LOGIN_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT")
PORTAL_LOOKUP = FailureGuard("portal-lookup", "PORTAL_LOOKUP_RATE_LIMIT", "PORTAL_ORDER_RATE_LIMIT")

"""Leaky-bucket throttling per app + shop, driven by the sandbox clock."""
from __future__ import annotations

from .models import PLANS

EPSILON = 1e-3  # points; see try_take


class Bucket:
    """Shopify's GraphQL bucket: ``available`` points refill at ``rate`` per second."""

    __slots__ = ("maximum", "rate", "available", "stamp", "refused", "spent")

    def __init__(self, maximum: float, rate: float, now: float):
        self.maximum, self.rate, self.available, self.stamp = maximum, rate, maximum, now
        self.refused = 0  # THROTTLED answers given (benchmarks and tests count them)
        self.spent = 0.0  # points charged, after refunds of the unused part

    def refill(self, now: float) -> None:
        """Add the points restored since the last look."""
        if now > self.stamp:
            self.available = min(self.maximum, self.available + (now - self.stamp) * self.rate)
        self.stamp = max(self.stamp, now)

    def status(self) -> dict:
        """The ``throttleStatus`` object Shopify returns."""
        return {"maximumAvailable": float(self.maximum),
                "currentlyAvailable": float(int(self.available)),
                "restoreRate": float(self.rate)}


def bucket_for(store, shop, client_id: str) -> Bucket:
    """The bucket of (app, shop), sized by the shop's current plan."""
    _display, rate, size, _plus = PLANS[shop.plan]
    key = (client_id, shop.domain)
    now = store.clock.now()
    with store.lock:
        b = store.buckets.get(key)
        if b is None or b.rate != rate:
            b = store.buckets[key] = Bucket(size, rate, now)
        b.refill(now)
        return b


def try_take(store, bucket: Bucket, cost: int) -> bool:
    """Take ``cost`` points if available (Shopify: the requested cost must fit)."""
    with store.lock:
        bucket.refill(store.clock.now())
        # A thousandth of a point of slack: clock seconds are floats near 1.7e9, so a client
        # that waited exactly (cost - available) / rate can come back 1e-7 s "early" and be
        # refused for 0.00001 of a point. The slack is far below any query's cost: it never
        # admits a query that is short by a real point.
        if bucket.available + EPSILON < cost:
            bucket.refused += 1
            return False
        bucket.available = max(0.0, bucket.available - cost)
        bucket.spent += cost
        return True


def refund(store, bucket: Bucket, points: int) -> None:
    """Give back the difference between requested and actual cost."""
    with store.lock:
        bucket.available = min(bucket.maximum, bucket.available + max(0, points))
        bucket.spent -= max(0, points)

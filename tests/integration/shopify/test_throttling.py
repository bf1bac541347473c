"""A 5,000-order paginated import under the Basic plan (100 points/s, bucket 2,000): the client's
pacing keeps every call inside the sandbox's leaky bucket.

Client and sandbox share one VirtualClock (client ``sleep``/``monotonic`` are the clock's), so
the ~20 virtual minutes the bucket imposes pass instantly; only the 1,000 HTTP round trips cost
real time.
"""
from __future__ import annotations

import pytest

from app.shopify import operations as ops

ORDERS = 5_000


@pytest.mark.slow
def test_5000_order_import_stays_inside_the_bucket(api_shop, control, sandbox):
    assert control.seed(ORDERS, days=50, seed=11) == ORDERS
    client = api_shop.client()
    started = sandbox.clock.now()

    ids = [o.shopify_order_id for o in ops.iter_orders(client)]

    # Every order exactly once, in the store's order, and no call failed (it would have raised).
    assert ids == [o.id for o in api_shop.record.order_list]
    answers = api_shop.sessions[0].answers
    assert len(answers) == ORDERS // ops.ORDERS_PAGE_SIZE
    # The sandbox never refused a call: pacing waited for the points instead of hitting THROTTLED
    # (the client would tolerate max_retries in a row; it needed none).
    assert api_shop.sessions[0].count(code="THROTTLED") == 0
    assert all(status == 200 and not codes for status, _cost, codes in answers)
    statuses = [cost["throttleStatus"] for _s, cost, _c in answers]
    assert min(s["currentlyAvailable"] for s in statuses) >= 0
    assert {s["maximumAvailable"] for s in statuses} == {2000.0}
    assert {s["restoreRate"] for s in statuses} == {100.0}

    # Leaky-bucket arithmetic on what the sandbox charged: spending more than the full bucket
    # plus the refill would be "exceeding the bucket"; taking much longer than the points
    # need would mean the client waits for nothing.
    spent = sum(cost["actualQueryCost"] for _s, cost, _c in answers)
    elapsed = sandbox.clock.now() - started
    assert spent <= 2000 + 100 * elapsed
    assert elapsed <= spent / 100 + 10

"""Calculated query cost, the single-query maximum and the leaky bucket (virtual clock)."""
from __future__ import annotations

import requests

from sandbox.clock import VirtualClock

from .conftest import SHOP, gql

PAGE = """query($after: String) { orders(first: 50, after: $after) {
  pageInfo { hasNextPage endCursor } edges { cursor node { id name
  lineItems(first: 5) { nodes { id quantity } } } } } }"""


def test_requested_cost_follows_published_rules(client, shop):
    q = "{ orders(first: 10) { edges { node { id lineItems(first: 5) { nodes { id } } } } } }"
    # 2 + 10 * (1 order + (2 + 5 * 1 line item)) = 82
    body = gql(client, shop["token"], q)[1]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 82
    # No orders exist: actual = 2 (the connection alone), the rest is refunded.
    assert body["extensions"]["cost"]["actualQueryCost"] == 2
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1998.0


def test_actual_cost_counts_returned_nodes(client, store, shop):
    store.seed(SHOP, 3, 5, seed=4)
    body = gql(client, shop["token"], "{ orders(first: 10) { nodes { id } } }")[1]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 12
    assert body["extensions"]["cost"]["actualQueryCost"] == 2 + 3


def test_query_over_1000_points_is_refused_before_execution(client, store, shop):
    store.seed(SHOP, 5, 5, seed=1)
    q = "{ orders(first: 100) { nodes { id lineItems(first: 10) { nodes { id } } } } }"
    status, body = gql(client, shop["token"], q)
    assert status == 200
    err = body["errors"][0]
    assert err["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert err["extensions"]["cost"] == 2 + 100 * (1 + 2 + 10) and "data" not in body
    # Nothing was charged.
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000.0


def test_bucket_drains_then_throttles_then_restores_with_the_clock(client, store, shop, clock):
    q = "{ orders(first: 99) { nodes { id } } }"  # requested 101, actual 2 — charge requested
    store.seed(SHOP, 120, 10, seed=2)
    seen = []
    for _ in range(30):
        status, body = gql(client, shop["token"], q)
        assert status == 200
        seen.append(body)
        if body.get("errors"):
            break
    last = seen[-1]
    assert last["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert last["errors"][0]["message"] == "Throttled"
    ts = last["extensions"]["cost"]["throttleStatus"]
    assert ts["currentlyAvailable"] < 101 and ts["maximumAvailable"] == 2000.0
    assert len(seen) == 20  # 19 × 101 fits in 2000 (orders returned = 99 each)
    clock.sleep((101 - ts["currentlyAvailable"]) / 100.0)
    assert "errors" not in gql(client, shop["token"], q)[1]


def test_plan_sets_restore_rate_and_bucket(client, store, shop):
    store.update_shop(SHOP, plan="plus")
    ts = gql(client, shop["token"], "{ shop { name } }")[1]["extensions"]["cost"]["throttleStatus"]
    assert ts["restoreRate"] == 1000.0 and ts["maximumAvailable"] == 20000.0
    store.update_shop(SHOP, plan="advanced")
    ts = gql(client, shop["token"], "{ shop { name } }")[1]["extensions"]["cost"]["throttleStatus"]
    assert ts["restoreRate"] == 200.0 and ts["maximumAvailable"] == 4000.0


def test_buckets_are_per_app_and_shop(client, store, shop):
    other = store.create_app(SHOP, client_id="other")
    tok2 = store.issue_admin_token(SHOP, "other").token
    gql(client, shop["token"], "{ orders(first: 200) { nodes { id } } }")
    ts1 = gql(client, shop["token"], "{ shop { name } }")[1]["extensions"]["cost"]["throttleStatus"]
    ts2 = gql(client, tok2, "{ shop { name } }")[1]["extensions"]["cost"]["throttleStatus"]
    assert ts1["currentlyAvailable"] < ts2["currentlyAvailable"] == 1999.0
    assert other.client_id == "other"


def import_all(url, token, clock, session=None):
    """A throttle-aware paginated client, as Boomerang's would be: sleeps on the clock."""
    s = session or requests.Session()
    after, ids, throttled = None, [], 0
    while True:
        body = s.post(url, json={"query": PAGE, "variables": {"after": after}},
                      headers={"X-Shopify-Access-Token": token}, timeout=10).json()
        if body.get("errors"):
            assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
            throttled += 1
            ts = body["extensions"]["cost"]["throttleStatus"]
            need = body["extensions"]["cost"]["requestedQueryCost"] - ts["currentlyAvailable"]
            clock.sleep(max(need, 1) / ts["restoreRate"])
            continue
        conn = body["data"]["orders"]
        ids += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return ids, throttled
        after = conn["pageInfo"]["endCursor"]


def test_5000_order_import_over_http_takes_virtual_minutes(sandbox):
    st = sandbox.store
    st.create_shop(SHOP, plan="basic")
    st.create_app(SHOP, client_id="cid")
    token = st.issue_admin_token(SHOP, "cid").token
    st.seed(SHOP, 5000, 55, seed=9)
    t0 = sandbox.clock.now()
    ids, throttled = import_all(sandbox.graphql_url(SHOP), token, sandbox.clock)
    assert len(ids) == len(set(ids)) == 5000  # every order exactly once
    assert throttled > 0  # 100 pages × 352 points cannot fit a 2,000-point bucket
    assert sandbox.clock.now() - t0 > 60  # virtual time passed while restoring


def test_virtual_clock_sleep_is_instant():
    c = VirtualClock(start=100)
    c.sleep(3600)
    assert c.now() == 3700

"""Bulk operations: CREATED → RUNNING → COMPLETED on the clock, JSONL with __parentId."""
from __future__ import annotations

import json

import requests

from .conftest import SHOP, gql

BULK = '''mutation { bulkOperationRunQuery(query: """
{ orders(query: "created_at:>=2025-12-01") { edges { node { id name
  lineItems { edges { node { id quantity variant { id } } } } } } } }
""") { bulkOperation { id status } userErrors { field message code } } }'''
POLL = "{ currentBulkOperation { id status errorCode objectCount rootObjectCount url } }"


def post(sandbox, token, query):
    return requests.post(sandbox.graphql_url(SHOP), json={"query": query},
                         headers={"X-Shopify-Access-Token": token}, timeout=10).json()


def test_bulk_query_produces_jsonl_with_parent_ids(sandbox):
    st = sandbox.store
    st.create_shop(SHOP)
    st.create_app(SHOP, client_id="cid")
    token = st.issue_admin_token(SHOP, "cid").token
    st.seed(SHOP, 150, 60, seed=12)
    started = post(sandbox, token, BULK)["data"]["bulkOperationRunQuery"]
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    op_id = started["bulkOperation"]["id"]
    again = post(sandbox, token, BULK)["data"]["bulkOperationRunQuery"]
    assert again["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    statuses = []
    for _ in range(200):
        cur = post(sandbox, token, POLL)["data"]["currentBulkOperation"]
        statuses.append(cur["status"])
        if cur["status"] == "COMPLETED":
            break
        sandbox.clock.sleep(0.5)  # the client's poll interval, in virtual time
    assert statuses[0] == "CREATED" and "RUNNING" in statuses and statuses[-1] == "COMPLETED"
    assert cur["id"] == op_id
    rows = [json.loads(l) for l in requests.get(cur["url"], timeout=5).text.splitlines()]
    orders = [r for r in rows if "__parentId" not in r]
    lines = [r for r in rows if "__parentId" in r]
    cutoff_ids = {f"gid://shopify/Order/{o.id}" for o in st.get_shop(SHOP).order_list
                  if o.created_at >= 1_764_547_200}  # 2025-12-01
    assert {o["id"] for o in orders} == cutoff_ids
    assert int(cur["rootObjectCount"]) == len(orders) and int(cur["objectCount"]) == len(rows)
    assert all(l["__parentId"] in cutoff_ids for l in lines) and lines
    assert all("lineItems" not in o for o in orders)
    assert lines[0]["variant"]["id"].startswith("gid://shopify/ProductVariant/")
    node = post(sandbox, token, '{ node(id: "%s") { ... on BulkOperation { status url } } }' % op_id)
    assert node["data"]["node"]["status"] == "COMPLETED"


def test_invalid_bulk_query_is_a_user_error(client, shop):
    body = gql(client, shop["token"], 'mutation { bulkOperationRunQuery(query: "{ nope }") '
               "{ bulkOperation { id } userErrors { message code } } }")[1]
    err = body["data"]["bulkOperationRunQuery"]["userErrors"][0]
    assert err["code"] == "INVALID"


def test_bulk_without_scope_fails_access_denied(client, store, shop, clock):
    tok = store.issue_admin_token(SHOP, "cid", scopes=["read_products"]).token
    body = gql(client, tok, BULK)[1]
    assert body["data"]["bulkOperationRunQuery"]["userErrors"] == []
    for _ in range(100):
        clock.sleep(1)
        cur = gql(client, tok, POLL)[1]["data"]["currentBulkOperation"]
        if cur["status"] not in ("CREATED", "RUNNING"):
            break
    assert cur["status"] == "FAILED" and cur["errorCode"] == "ACCESS_DENIED"


def test_bulk_stays_running_until_the_clock_moves(client, store, shop):
    import time
    store.seed(SHOP, 5, 5, seed=1)
    gql(client, shop["token"], BULK)
    time.sleep(0.2)  # real time passes, virtual time does not
    assert gql(client, shop["token"], POLL)[1]["data"]["currentBulkOperation"]["status"] == "CREATED"

"""Bulk operations: CREATED → RUNNING → COMPLETED on the clock, JSONL with __parentId; how many
may run at once by API version; bulkOperations filtered and newest first; bulkOperation(id:)."""
from __future__ import annotations

import json

import pytest
import requests

from sandbox.models import BulkOp

from .conftest import SHOP, START, gql

BULK = '''mutation { bulkOperationRunQuery(query: """
{ orders(query: "created_at:>=2025-12-01") { edges { node { id name
  lineItems { edges { node { id quantity variant { id } } } } } } } }
""") { bulkOperation { id status } userErrors { field message code } } }'''
POLL = "{ bulkOperation(id: \"%s\") { id status errorCode objectCount rootObjectCount url } }"
LIST = """query($q: String, $sort: BulkOperationsSortKeys, $reverse: Boolean) {
  bulkOperations(first: 10, query: $q, sortKey: $sort, reverse: $reverse) {
    nodes { id status type } pageInfo { hasNextPage } } }"""


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
    statuses = []
    for _ in range(200):
        cur = post(sandbox, token, POLL % op_id)["data"]["bulkOperation"]
        statuses.append(cur["status"])
        if cur["status"] == "COMPLETED":
            break
        sandbox.clock.sleep(0.5)  # the client's poll interval, in virtual time
    assert statuses[0] == "CREATED" and "RUNNING" in statuses and statuses[-1] == "COMPLETED"
    assert cur["id"] == op_id
    rows = [json.loads(raw) for raw in requests.get(cur["url"], timeout=5).text.splitlines()]
    orders = [r for r in rows if "__parentId" not in r]
    lines = [r for r in rows if "__parentId" in r]
    cutoff_ids = {f"gid://shopify/Order/{o.id}" for o in st.get_shop(SHOP).order_list
                  if o.created_at >= 1_764_547_200}  # 2025-12-01
    assert {o["id"] for o in orders} == cutoff_ids
    assert int(cur["rootObjectCount"]) == len(orders) and int(cur["objectCount"]) == len(rows)
    assert all(row["__parentId"] in cutoff_ids for row in lines) and lines
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
    op_id = body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
    for _ in range(100):
        clock.sleep(1)
        cur = gql(client, tok, POLL % op_id)[1]["data"]["bulkOperation"]
        if cur["status"] not in ("CREATED", "RUNNING"):
            break
    assert cur["status"] == "FAILED" and cur["errorCode"] == "ACCESS_DENIED"


def test_bulk_stays_running_until_the_clock_moves(client, store, shop):
    import time
    store.seed(SHOP, 5, 5, seed=1)
    started = gql(client, shop["token"], BULK)[1]["data"]["bulkOperationRunQuery"]
    time.sleep(0.2)  # real time passes, virtual time does not
    polled = gql(client, shop["token"], POLL % started["bulkOperation"]["id"])[1]
    assert polled["data"]["bulkOperation"]["status"] == "CREATED"


@pytest.mark.parametrize("version,at_once", [("2025-04", 1), ("2026-04", 5)])
def test_how_many_bulk_queries_run_at_once_depends_on_the_version(client, shop, version, at_once):
    started = [gql(client, shop["token"], BULK, version=version)[1]["data"]["bulkOperationRunQuery"]
               for _ in range(at_once + 1)]
    assert all(s["userErrors"] == [] for s in started[:at_once])
    refused = started[at_once]
    assert refused["bulkOperation"] is None
    assert refused["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"


def _ops(store, *specs, client_id="cid"):
    """Bulk operations recorded directly: (status, type, minutes after START) each; ids in order."""
    for n, (status, kind, minutes) in enumerate(specs, start=1):
        store.state["bulk"][n] = BulkOp(
            id=n, shop=SHOP, client_id=client_id, query="{ orders { edges { node { id } } } }",
            status=status, type=kind, created_at=START + 60 * minutes,
            completed_at=None if status in ("CREATED", "RUNNING") else START + 60 * minutes + 30,
            object_count=0, root_object_count=0, scopes=[])


def _listed(client, shop, query=None, sort=None, reverse=None):
    body = gql(client, shop["token"], LIST, {"q": query, "sort": sort, "reverse": reverse})[1]
    assert "errors" not in body, body
    return [int(n["id"].rsplit("/", 1)[1]) for n in body["data"]["bulkOperations"]["nodes"]]


def test_bulk_operations_are_filtered_by_status_and_type_newest_first(client, store, shop):
    _ops(store, ("COMPLETED", "QUERY", 1), ("RUNNING", "QUERY", 2), ("FAILED", "QUERY", 3),
         ("RUNNING", "MUTATION", 4), ("COMPLETED", "QUERY", 5))
    assert _listed(client, shop) == [5, 4, 3, 2, 1]                    # newest first by default
    assert _listed(client, shop, reverse=True) == [1, 2, 3, 4, 5]
    assert _listed(client, shop, "status:running") == [4, 2]
    assert _listed(client, shop, "operation_type:query AND status:running") == [2]
    assert _listed(client, shop, "operation_type:query") == [5, 3, 2, 1]
    assert _listed(client, shop, "operation_type:query status:completed") == [5, 1]
    assert _listed(client, shop, "status:canceled") == []
    assert _listed(client, shop, "id:>=4") == [5, 4]
    assert _listed(client, shop, "status:completed", sort="COMPLETED_AT") == [5, 1]


def test_bulk_operations_are_the_calling_apps_own(client, store, shop):
    store.create_app(SHOP, client_id="other")
    _ops(store, ("RUNNING", "QUERY", 1), client_id="other")
    assert _listed(client, shop) == []
    body = gql(client, shop["token"], POLL % "gid://shopify/BulkOperation/1")[1]
    assert body["data"]["bulkOperation"] is None
    other = store.issue_admin_token(SHOP, "other").token
    body = gql(client, other, POLL % "gid://shopify/BulkOperation/1")[1]
    assert body["data"]["bulkOperation"]["status"] == "RUNNING"
    assert gql(client, other, POLL % "gid://shopify/Order/1")[1]["data"]["bulkOperation"] is None


def test_a_connection_inside_a_list_field_is_refused_as_on_shopify(client, shop):
    """Order.fulfillments is a list: its fulfillmentLineItems connection cannot be bulk-read
    (the dates alone can)."""
    nested = ('mutation { bulkOperationRunQuery(query: """{ orders { edges { node { id fulfillments '
              '{ id fulfillmentLineItems(first: 5) { nodes { id } } } } } } }""") '
              "{ bulkOperation { id } userErrors { message code } } }")
    err = gql(client, shop["token"], nested)[1]["data"]["bulkOperationRunQuery"]["userErrors"][0]
    assert err["code"] == "INVALID" and "connection field within a list field" in err["message"]
    dates = ('mutation { bulkOperationRunQuery(query: """{ orders { edges { node { id fulfillments '
             '{ id createdAt deliveredAt } } } } }""") { bulkOperation { id } userErrors { message code } } }')
    assert gql(client, shop["token"], dates)[1]["data"]["bulkOperationRunQuery"]["userErrors"] == []

"""Bulk export: run → poll → stream JSONL → orders with line items, grouped or not."""
import copy
import json

import pytest

from app.shopify import bulk
from app.shopify import errors as E
from app.shopify.mapping import order_from_graphql
from tests.support.shopify_schema import validation_errors
from tests.unit.shopify.stub import Reply, graphql
from tests.unit.shopify.test_mapping import GRAPHQL_ORDER_1001


def jsonl_for(orders: list[dict], grouped: bool = True) -> list[bytes]:
    """Shopify's JSONL for order nodes: one line per order, one per line item with __parentId."""
    parents, children = [], []
    for order in orders:
        order = copy.deepcopy(order)
        items = order.pop("lineItems")["nodes"]
        parents.append(json.dumps(order))
        children.append([json.dumps({**item, "__parentId": order["id"]}) for item in items])
    if grouped:
        lines = [line for p, c in zip(parents, children, strict=True) for line in [p, *c]]
    else:  # every child still after its parent, but after later orders too
        lines = parents + [line for c in children for line in c]
    return [line.encode() for line in lines]


def second_order():
    order = copy.deepcopy(GRAPHQL_ORDER_1001)
    order["id"] = "gid://shopify/Order/1002"
    order["name"] = "#1002"
    for i, line in enumerate(order["lineItems"]["nodes"]):
        line["id"] = f"gid://shopify/LineItem/{2000 + i}"
    return order


@pytest.mark.parametrize("grouped", [True, False])
def test_reassembles_children_onto_their_orders(grouped):
    orders = [GRAPHQL_ORDER_1001, second_order()]
    nodes = list(bulk.iter_bulk_objects(jsonl_for(orders, grouped)))
    assert [n["id"] for n in nodes] == [o["id"] for o in orders]
    for node, original in zip(nodes, orders, strict=True):
        expected = copy.deepcopy(original)
        expected["lineItems"].pop("pageInfo")
        assert node == expected
        assert order_from_graphql(node) == order_from_graphql(copy.deepcopy(original))


def test_order_without_lines_gets_empty_connection():
    order = {**copy.deepcopy(GRAPHQL_ORDER_1001), "lineItems": {"nodes": []}}
    [node] = bulk.iter_bulk_objects(jsonl_for([order]))
    assert node["lineItems"] == {"nodes": []}


def test_escaped_gids_in_jsonl_are_understood():
    lines = [b'{"id":"gid:\\/\\/shopify\\/Order\\/1"}',
             b'{"id":"gid:\\/\\/shopify\\/LineItem\\/2","__parentId":"gid:\\/\\/shopify\\/Order\\/1"}']
    [node] = bulk.iter_bulk_objects(lines)
    assert node["lineItems"]["nodes"] == [{"id": "gid://shopify/LineItem/2"}]


def test_truncated_line_is_a_clear_error():
    lines = jsonl_for([GRAPHQL_ORDER_1001])
    lines[-1] = lines[-1][:37]  # download cut mid-line
    with pytest.raises(E.BulkResultError) as info:
        list(bulk.iter_bulk_objects(lines))
    assert info.value.line_number == len(lines)
    assert "truncated" in str(info.value)


def test_nothing_is_yielded_before_the_whole_file_checks_out():
    lines = jsonl_for([GRAPHQL_ORDER_1001, second_order()])
    lines.append(b"[1, 2]")
    stream = bulk.iter_bulk_objects(lines)
    with pytest.raises(E.BulkResultError, match="not a JSON object"):
        next(stream)


def test_orphan_child_is_an_error():
    lines = [b'{"id":"gid://shopify/Order/1"}',
             b'{"id":"gid://shopify/LineItem/2","__parentId":"gid://shopify/Order/9"}']
    with pytest.raises(E.BulkResultError, match="matches no object"):
        list(bulk.iter_bulk_objects(lines))


def test_large_stream_is_consumed_lazily_line_by_line():
    consumed = []

    def lines():
        for i in range(1, 3001):
            consumed.append(i)
            yield json.dumps({"id": f"gid://shopify/Order/{i}"}).encode()
            yield json.dumps({"id": f"gid://shopify/LineItem/{i}",
                              "__parentId": f"gid://shopify/Order/{i}"}).encode()

    stream = bulk.iter_bulk_objects(lines())
    first = next(stream)
    assert first["lineItems"]["nodes"] == [{"id": "gid://shopify/LineItem/1"}]
    assert sum(1 for _ in stream) == 2999


def test_bulk_query_with_filter_is_valid_graphql():
    document = bulk.bulk_orders_query("created_at:>='2026-01-01T00:00:00Z' AND tag:\"a\\b\"")
    assert validation_errors(document) == []
    assert 'orders(query: "created_at:>=\'2026-01-01T00:00:00Z\' AND tag:\\"a\\\\b\\"")' in document


def test_run_poll_stream_end_to_end(stub, client, clock):
    body = b"\n".join(jsonl_for([GRAPHQL_ORDER_1001, second_order()], grouped=False)) + b"\n"
    op_id = "gid://shopify/BulkOperation/1"

    def handler(request):
        if request.method == "GET":
            return Reply(200, body, {"Content-Type": "application/jsonl"})
        query = request.json["query"]
        if "bulkOperationRunQuery" in query:
            return graphql({"bulkOperationRunQuery": {"bulkOperation": {"id": op_id, "status": "CREATED"},
                                                      "userErrors": []}})
        polls = sum(1 for r in stub.requests
                    if r.method == "POST" and "bulkOperation(id" in r.json["query"])
        status = "RUNNING" if polls < 3 else "COMPLETED"
        return graphql({"bulkOperation": {"id": op_id, "status": status, "errorCode": None,
                                 "objectCount": "8", "url": f"{stub.url}/bulk/result.jsonl"
                                 if status == "COMPLETED" else None, "partialDataUrl": None}})

    stub.handler = handler
    op = bulk.start_bulk_orders(client, created_at_min="2026-01-01T00:00:00Z")
    sent = stub.requests[0].json["variables"]["query"]
    assert "orders(query: \"created_at:>='2026-01-01T00:00:00Z'\")" in sent
    progress = []
    done = bulk.wait_for_bulk_operation(client, op.id, on_progress=progress.append)
    assert [p.status for p in progress] == ["RUNNING", "RUNNING", "COMPLETED"]
    assert clock.sleeps == [2.0, 3.0]
    orders = [order_from_graphql(n) for n in bulk.iter_bulk_orders(client, done)]
    assert [o.name for o in orders] == ["#1001", "#1002"]
    assert [len(o.lines) for o in orders] == [3, 3]
    download = stub.requests[-1]
    assert download.method == "GET" and "x-shopify-access-token" not in download.headers


def test_failed_operation_raises_with_code(stub, client):
    stub.add(graphql({"bulkOperation": {"id": "gid://shopify/BulkOperation/1", "status": "FAILED",
                                        "errorCode": "ACCESS_DENIED", "url": None,
                                        "partialDataUrl": "https://storage/partial.jsonl"}}))
    with pytest.raises(E.BulkOperationError) as info:
        bulk.wait_for_bulk_operation(client, "gid://shopify/BulkOperation/1")
    assert info.value.error_code == "ACCESS_DENIED"
    assert info.value.partial_data_url == "https://storage/partial.jsonl"


def test_missing_operation_raises(stub, client):
    stub.add(graphql({"bulkOperation": None}))
    with pytest.raises(E.BulkOperationError):
        bulk.get_bulk_operation(client, "gid://shopify/BulkOperation/404")


def _ops(*statuses):
    return {"nodes": [{"id": f"gid://shopify/BulkOperation/{n}", "status": status}
                      for n, status in statuses]}


@pytest.mark.parametrize("running,latest,expected", [
    (_ops((3, "RUNNING")), _ops((5, "COMPLETED")), ("gid://shopify/BulkOperation/3", "RUNNING")),
    (_ops(), _ops((5, "FAILED")), ("gid://shopify/BulkOperation/5", "FAILED")),
    (_ops(), _ops(), None),
])
def test_latest_bulk_query_prefers_a_running_one(stub, client, running, latest, expected):
    stub.add(graphql({"running": running, "latest": latest}))
    found = bulk.latest_bulk_query(client)
    assert (None if found is None else (found.id, found.status)) == expected
    sent = stub.requests[0].json["query"]
    assert "status:running" in sent and "operation_type:query" in sent
    assert "currentBulkOperation" not in sent


def test_run_user_errors(stub, client):
    stub.add(graphql({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
        {"field": ["query"], "message": "A bulk query operation for this app and shop is already in progress",
         "code": "OPERATION_IN_PROGRESS"}]}}))
    with pytest.raises(E.UserErrorsError) as info:
        bulk.start_bulk_orders(client)
    assert info.value.items[0].code == "OPERATION_IN_PROGRESS"
    assert info.value.items[0].field == ("query",)


def test_completed_without_url_yields_nothing(client):
    assert list(bulk.iter_bulk_orders(client, bulk.BulkOperation(id="x", status="COMPLETED"))) == []


@pytest.mark.parametrize("seed", range(6))
def test_children_anywhere_after_their_parent_are_reassembled_in_file_order(seed):
    """Some children directly after their order, some after later orders, interleaved: every
    order gets exactly its own children, in the order the file has them."""
    import random

    rng = random.Random(seed)
    pending, lines, expected = [], [], {}
    for number in range(1, 41):
        gid = f"gid://shopify/Order/{number}"
        lines.append(json.dumps({"id": gid, "name": f"#{number}"}))
        expected[gid] = []
        children = [{"id": f"gid://shopify/LineItem/{number * 100 + i}", "__parentId": gid}
                    for i in range(rng.randrange(0, 4))]
        directly = rng.randrange(0, len(children) + 1) if seed % 2 else len(children) // 2
        for child in children[:directly]:
            lines.append(json.dumps(child))
        pending.extend(children[directly:])
        rng.shuffle(pending)
        while pending and rng.random() < 0.5:
            lines.append(json.dumps(pending.pop()))
    lines.extend(json.dumps(child) for child in pending)
    for line in lines:
        item = json.loads(line)
        if "__parentId" in item:
            expected[item.pop("__parentId")].append(item)
    nodes = list(bulk.iter_bulk_objects([line.encode() for line in lines]))
    assert [n["id"] for n in nodes] == list(expected)
    assert {n["id"]: n["lineItems"]["nodes"] for n in nodes} == expected


def test_a_child_line_before_its_parent_is_still_attached():
    lines = [b'{"id":"gid://shopify/LineItem/2","__parentId":"gid://shopify/Order/1"}',
             b'{"id":"gid://shopify/LineItem/5","__parentId":"gid://shopify/Order/1"}',
             b'{"id":"gid://shopify/Order/1"}',
             b'{"id":"gid://shopify/LineItem/3","__parentId":"gid://shopify/Order/1"}',
             b'{"id":"gid://shopify/Order/7"}',
             b'{"id":"gid://shopify/LineItem/4","__parentId":"gid://shopify/Order/1"}']
    first, second = bulk.iter_bulk_objects(lines)
    assert [n["id"][-1] for n in first["lineItems"]["nodes"]] == ["2", "5", "3", "4"]
    assert second["lineItems"] == {"nodes": []}


@pytest.mark.parametrize("bad", [b'{"id":"gid://shopify/Order/2","note":"\xff"}',
                                 b'{"id":"gid://shopify/Order/2","n":01}',
                                 b'{"id":"gid://shopify/Order/2"} x', b'"text"', b'null'])
def test_a_line_the_full_parse_refuses_fails_the_check_before_anything_is_yielded(bad):
    """Pass 1 checks lines without building them; what it lets through pass 2 must read."""
    lines = [*jsonl_for([GRAPHQL_ORDER_1001]), bad]
    with pytest.raises(E.BulkResultError) as info:
        next(bulk.iter_bulk_objects(lines))
    assert info.value.line_number == len(lines)


def test_lines_only_the_stdlib_reads_pass_the_check():
    lines = [b'{"id":"gid://shopify/Order/1","x":NaN}', b'{"id":"gid://shopify/Order/2","s":"\\ud800"}']
    assert [n["id"] for n in bulk.iter_bulk_objects(lines)] == ["gid://shopify/Order/1",
                                                                "gid://shopify/Order/2"]


def test_an_object_of_the_grouped_layout_can_be_read_again_from_its_lines():
    [node, other] = bulk.iter_bulk_objects(jsonl_for([GRAPHQL_ORDER_1001, second_order()]))
    again = bulk.reread_bulk_object(node.lines)
    assert again == node and type(again) is dict and again is not node
    assert bulk.reread_bulk_object(other.lines) == other

"""Fulfillments: shipments with their own fulfillment line items, seeded and made by
``update_order(fulfill=True)``, the same in GraphQL and in webhook bodies, and old state files."""
from __future__ import annotations

import pickle

import pytest

from sandbox import create_app, fulfillments
from sandbox.store import SandboxError
from sandbox.persistence import load_state, save_state
from sandbox.rest_payload import order_payload

from .conftest import SHOP, gql
from .returns_support import make_order

FULFILLMENTS = """query($id: ID!) { order(id: $id) { displayFulfillmentStatus
  fulfillments { id name createdAt location { id isPrimary }
    fulfillmentLineItems(first: 10) { nodes { id quantity lineItem { id } } } } } }"""


def graphql_fulfillments(client, token, order):
    status, body = gql(client, token, FULFILLMENTS, {"id": f"gid://shopify/Order/{order.id}"})
    assert status == 200 and "errors" not in body, body
    return body["data"]["order"]["fulfillments"]


def test_seeded_orders_ship_mostly_in_one_fulfillment_and_some_in_two(store, shop):
    store.seed(SHOP, 400, 40, seed=3)
    s = store.get_shop(SHOP)
    shipped = [o for o in s.order_list if any(ln.fulfilled for ln in o.lines)]
    counts = [len(fulfillments.records(s, o)) for o in shipped]
    assert counts.count(1) > counts.count(2) > 0 and set(counts) == {1, 2}
    for o in shipped:
        recs = fulfillments.records(s, o)
        if len(recs) == 2:  # one unit of a line of two or more went in a second parcel
            (idx, qty), = recs[1].lines
            assert qty == 1 and o.lines[idx].fulfilled >= 2 and o.id % 5 == 0
        per_line = [0] * len(o.lines)
        for rec in recs:
            assert rec.location_id == s.id * 10 + 1  # the primary location
            for idx, qty in rec.lines:
                per_line[idx] += qty
        assert per_line == [ln.fulfilled for ln in o.lines]
    # Deterministic: the same seed gives the same shipments.
    again = create_app({})
    other = again.extensions["sandbox"]
    other.create_shop(SHOP)
    other.seed(SHOP, 400, 40, seed=3, end=store.clock.now())
    o2 = other.get_shop(SHOP).order_list
    assert [len(fulfillments.records(other.get_shop(SHOP), o)) for o in o2
            if any(ln.fulfilled for ln in o.lines)] == counts
    other.close()


def test_fulfilling_ships_what_remains_as_a_new_fulfillment(client, store, shop, clock):
    order = make_order(store, quantity=3, fulfill=False)
    order.lines[0].fulfilled = 1  # one unit shipped earlier
    clock.advance(3600)
    store.update_order(SHOP, order.id, fulfill=True)
    found = graphql_fulfillments(client, shop["token"], order)
    assert [f["name"] for f in found] == [f"#{order.number}.1", f"#{order.number}.2"]
    assert [f["fulfillmentLineItems"]["nodes"][0]["quantity"] for f in found] == [1, 2]
    assert found[1]["createdAt"] == "2026-01-01T01:00:00Z"
    assert found[1]["location"]["isPrimary"] is True
    ids = [f["fulfillmentLineItems"]["nodes"][0]["id"] for f in found]
    assert len(set(ids)) == 2 and all(i != f"gid://shopify/FulfillmentLineItem/{order.lines[0].id}"
                                      for i in ids)
    # Nothing left: fulfilling again adds nothing.
    store.update_order(SHOP, order.id, fulfill=True)
    assert len(graphql_fulfillments(client, shop["token"], order)) == 2
    assert order.lines[0].fulfilled == 3


def test_refunded_unshipped_units_are_not_shipped(store, shop):
    order = make_order(store, quantity=3, fulfill=False)
    store.update_order(SHOP, order.id, refund_line=0, refund_quantity=1, emit=False)
    store.update_order(SHOP, order.id, fulfill=True, emit=False)
    assert order.lines[0].fulfilled == 2


def test_graphql_fulfillments_match_the_webhook_body(client, store, shop):
    store.seed(SHOP, 200, 40, seed=5)
    s = store.get_shop(SHOP)
    split = next(o for o in s.order_list if len(fulfillments.records(s, o)) == 2)
    found = graphql_fulfillments(client, shop["token"], split)
    rest = order_payload(store, s, split)["fulfillments"]
    assert [f["admin_graphql_api_id"] for f in rest] == [f["id"] for f in found]
    for f, r in zip(found, rest, strict=True):
        assert [(n["lineItem"]["id"], n["quantity"]) for n in f["fulfillmentLineItems"]["nodes"]] \
            == [(f"gid://shopify/LineItem/{i['id']}", i["quantity"]) for i in r["line_items"]]
        assert r["location_id"] == int(f["location"]["id"].rsplit("/", 1)[1])
    # The fulfillment line item ids name their order, fulfillment and line.
    for f in found:
        for n in f["fulfillmentLineItems"]["nodes"]:
            order, rec, idx, qty = fulfillments.find_item(s, n["id"])
            assert order is split and n["quantity"] == qty
            assert n["lineItem"]["id"] == f"gid://shopify/LineItem/{split.lines[idx].id}"


def test_the_control_api_lists_fulfillment_line_items(client, store, shop):
    order = make_order(store, quantity=2)
    listed = client.get(f"/_sandbox/shops/{SHOP}/orders?limit=1").get_json()["orders"][0]
    (f,) = listed["fulfillments"]
    (item,) = f["line_items"]
    assert item["line_id"] == order.lines[0].id and item["quantity"] == 2
    assert item["gid"] == f"gid://shopify/FulfillmentLineItem/{item['fulfillment_line_item_id']}"


@pytest.mark.parametrize("suffix", [".pkl", ".json"])
def test_state_written_before_fulfillments_still_loads(tmp_path, store, shop, suffix):
    order = make_order(store, quantity=2)
    # As an older sandbox wrote it: no fulfillment records, no returns, no settings.
    order.fulfillments = None
    state = store.state
    path = str(tmp_path / f"old{suffix}")
    save_state(state, path)
    if suffix == ".pkl":
        with open(path, "rb") as fh:
            raw = pickle.load(fh)
        for o in raw["shops"][SHOP].orders.values():
            assert o.fulfillments is None
    loaded = load_state(path)
    s = loaded["shops"][SHOP]
    o = s.orders[order.id]
    recs = fulfillments.records(s, o)  # derived again from Line.fulfilled
    assert [rec.number for rec in recs] == list(range(1, len(recs) + 1))
    assert sum(q for rec in recs for _i, q in rec.lines) == 2


def test_old_pickled_orders_without_the_new_slots_load(store, shop):
    order = make_order(store, quantity=1)
    old = order.__getstate__()
    for name in ("fulfillments",):
        del old[name]
    restored = type(order).__new__(type(order))
    restored.__setstate__(old)
    assert restored.fulfillments is None and restored.lines[0].exchange is None


def test_a_delivered_parcel_shows_its_delivery_in_graphql_and_webhook_bodies(client, store, shop):
    """Fulfillment.deliveredAt and displayStatus DELIVERED; the REST body says shipment_status
    "delivered" (it has no delivery date), updated when that was recorded."""
    order = make_order(store)
    before = graphql_fulfillments(client, shop["token"], order)
    fulfillments.deliver_and_tell(store, SHOP, order.id, 1, when=order.created_at + 5 * 86400)
    status, body = gql(client, shop["token"], """query($id: ID!) { order(id: $id) {
        fulfillments { id deliveredAt estimatedDeliveryAt displayStatus } } }""",
                       {"id": f"gid://shopify/Order/{order.id}"})
    first = body["data"]["order"]["fulfillments"][0]
    assert first["id"] == before[0]["id"] and first["displayStatus"] == "DELIVERED"
    assert first["deliveredAt"] and first["estimatedDeliveryAt"]
    rest = order_payload(store, store.get_shop(SHOP), order)["fulfillments"][0]
    assert rest["shipment_status"] == "delivered" and "delivered_at" not in rest
    with pytest.raises(SandboxError):
        fulfillments.deliver_and_tell(store, SHOP, order.id, 9)

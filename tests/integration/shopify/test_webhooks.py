"""Webhooks end to end: the client subscribes, the sandbox delivers over HTTP to a receiver we
run, and the app's verification, header parsing and REST mapping agree with GraphQL.

The two mappers read different shapes of one order (webhook REST body vs GraphQL node); the
app stores whichever arrives first, so they must produce the same ``OrderData``. Two fields
are known to differ by design: ``product_tags`` and ``image_url`` (REST order bodies carry
neither; ``mapping._line_from_rest`` sets both to None).

Key-for-key, type-for-type compatibility of the sandbox's orders/create body with Shopify's
documented example is proven by the sandbox's own suite
(``tests/sandbox/test_webhooks.py::test_orders_create_body_has_every_documented_key_with_same_types``);
the body delivered here is that same payload serialised, so it is not repeated.
"""
from __future__ import annotations

import dataclasses
import json
import time

import pytest

from app.shopify import operations as ops
from app.shopify.mapping import order_from_rest
from app.shopify.webhooks import parse_webhook_headers, verify_webhook

from .conftest import CLIENT_SECRET, SHOP


def without_rest_blind_spots(order):
    """The order with the fields REST bodies cannot carry blanked on every line, and its parcels
    reduced to what both shapes carry (REST has no delivery estimate; GraphQL's order read gives
    the units of a parcel only when there are several: ``parcels``)."""
    return dataclasses.replace(order, lines=tuple(
        dataclasses.replace(line, product_tags=None, image_url=None) for line in order.lines),
        fulfillments=[(p["id"], p["created_at"], p["delivered_at"]) for p in order.fulfillments or ()])


def deliveries(receiver, control, topic: str) -> list[dict]:
    """Everything received for ``topic`` once the sandbox's queue is drained."""
    control.flush_webhooks()
    return [r for r in receiver.requests if r["headers"].get("X-Shopify-Topic") == topic]


@pytest.fixture
def subscribed(api_shop, receiver):
    """The app subscribed to orders/create and orders/updated at the receiver."""
    client = api_shop.client()
    for topic in ("orders/create", "orders/updated"):
        ops.create_webhook_subscription(client, topic, receiver.url)
    return client


def test_order_placed_is_delivered_signed_and_maps_like_graphql(api_shop, control, receiver,
                                                                 subscribed, sandbox):
    placed = control.place_order(email="Pat@Example.com", country="DE",
                                 discount_code="SPRING20", tags=["gift"])
    (delivery,) = deliveries(receiver, control, "orders/create")
    body, headers = delivery["body"], delivery["headers"]

    assert verify_webhook(body, headers["X-Shopify-Hmac-Sha256"], CLIENT_SECRET)
    assert not verify_webhook(body, headers["X-Shopify-Hmac-Sha256"], "shpss_other")
    assert not verify_webhook(body + b" ", headers["X-Shopify-Hmac-Sha256"], CLIENT_SECRET)
    # Key rotation: the old secret listed first still accepts.
    assert verify_webhook(body, headers["X-Shopify-Hmac-Sha256"], ["shpss_old", CLIENT_SECRET])

    meta = parse_webhook_headers(headers)
    assert (meta.topic, meta.shop_domain, meta.api_version) == (
        "orders/create", SHOP, subscribed.api_version)
    assert meta.event_id and meta.webhook_id and meta.event_id != meta.webhook_id
    assert meta.triggered_at.timestamp() == pytest.approx(time.time(), abs=5)  # Shopify's clock is ours

    from_webhook = order_from_rest(json.loads(body))
    from_graphql = ops.fetch_order(subscribed, placed["id"])
    assert from_webhook.shopify_order_id == placed["id"] and from_webhook.discount_codes
    assert without_rest_blind_spots(from_webhook) == without_rest_blind_spots(from_graphql)
    assert from_graphql.lines[0].product_tags is not None  # GraphQL does carry them


@pytest.mark.parametrize("seed", range(6))
def test_every_order_state_maps_the_same_from_webhook_and_graphql(api_shop, control, receiver,
                                                                  subscribed, seed):
    """Placed, then changed the ways a returns app sees: fulfilled, refunded (before or after
    shipping), cancelled, re-tagged — each orders/updated body against a GraphQL read."""
    changes = [{"fulfill": True}, {"refund_line": 0}, {"fulfill": True, "refund_line": 0},
               {"cancel": True}, {"tags": ["returned", "vip"]},
               {"fulfill": True, "refund_line": 0, "refund_quantity": 1, "tags": ["x"]}][seed]
    placed = control.place_order(seed=100 + seed, quantity=2,
                                 discount_code="SPRING20" if seed % 2 else "")
    control.update_order(placed["id"], **changes)

    (delivery,) = deliveries(receiver, control, "orders/updated")
    assert verify_webhook(delivery["body"], delivery["headers"]["X-Shopify-Hmac-Sha256"],
                          CLIENT_SECRET)
    from_webhook = order_from_rest(json.loads(delivery["body"]))
    from_graphql = ops.fetch_order(subscribed, placed["id"])
    assert without_rest_blind_spots(from_webhook) == without_rest_blind_spots(from_graphql)


def test_without_protected_data_the_webhook_body_hides_the_customer_too(api_shop, control, receiver,
                                                                        subscribed):
    control.patch_shop(protected_data=False)
    placed = control.place_order(email="pat@example.com")
    (delivery,) = deliveries(receiver, control, "orders/create")
    from_webhook = order_from_rest(json.loads(delivery["body"]))
    assert (from_webhook.email, from_webhook.customer_name, from_webhook.shipping_address) == (
        None, None, None)
    assert without_rest_blind_spots(from_webhook) == without_rest_blind_spots(
        ops.fetch_order(subscribed, placed["id"]))


def test_a_failing_receiver_gets_the_same_signed_body_again(api_shop, control, receiver, subscribed):
    receiver.fail_first = 2
    control.place_order()
    attempts = deliveries(receiver, control, "orders/create")  # retries are 0.05 s apart here
    assert len(attempts) == 3
    assert len({a["body"] for a in attempts}) == 1
    assert len({a["headers"]["X-Shopify-Event-Id"] for a in attempts}) == 1
    assert all(verify_webhook(a["body"], a["headers"]["X-Shopify-Hmac-Sha256"], CLIENT_SECRET)
               for a in attempts)
    (record,) = control.call("GET", f"/shops/{SHOP}/deliveries")["deliveries"]
    assert (record["status"], record["attempts"], record["last_code"]) == ("delivered", 3, 200)


def test_a_parcel_shipped_and_delivered_is_told_by_fulfillment_webhooks(api_shop, control, receiver, sandbox):
    """fulfillments/create when it ships, fulfillments/update with shipment_status "delivered"
    when it arrives (the REST body has no delivery date; GraphQL's deliveredAt has it)."""
    from app.shopify import parcels

    client = api_shop.client()
    for topic in ("fulfillments/create", "fulfillments/update"):
        ops.create_webhook_subscription(client, topic, receiver.url)
    placed = control.place_order(quantity=2)
    control.update_order(placed["id"], fulfill=True)
    (created,) = deliveries(receiver, control, "fulfillments/create")
    assert verify_webhook(created["body"], created["headers"]["X-Shopify-Hmac-Sha256"], CLIENT_SECRET)
    shipped = parcels.from_rest(json.loads(created["body"]))
    order = ops.fetch_order(client, placed["id"])
    (read,) = order.fulfillments
    assert (shipped["id"], shipped["created_at"], shipped["delivered_at"]) == (read["id"], read["created_at"], None)
    assert shipped["lines"] == {str(line.line_id): line.fulfilled_quantity for line in order.lines}

    sandbox.clock.advance(2 * 86400)
    control.call("POST", f"/shops/{SHOP}/orders/{placed['id']}/fulfillments/1/deliver")
    (updated,) = deliveries(receiver, control, "fulfillments/update")
    body = json.loads(updated["body"])
    assert body["shipment_status"] == "delivered" and "delivered_at" not in body
    (read,) = ops.fetch_order(client, placed["id"]).fulfillments
    assert parcels.from_rest(body)["delivered_at"] == read["delivered_at"] is not None

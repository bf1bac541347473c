"""Every Admin API operation of ``app.shopify`` against the sandbox over HTTP, checked against
the sandbox store's own records (not against what the client says of itself)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.shopify import bulk, errors as E, operations as ops
from app.shopify.mapping import order_from_graphql

from .conftest import ALL_SCOPES, SHOP


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


# --- shop ----------------------------------------------------------------------------------------

def test_shop_info_reports_name_plan_currency_and_granted_scopes(api_shop, control):
    info = ops.fetch_shop_info(api_shop.client())
    assert (info.name, info.myshopify_domain, info.currency_code) == ("Acme Outdoor", SHOP, "USD")
    assert (info.plan_display_name, info.shopify_plus) == ("Basic", False)
    assert info.scopes == frozenset(ALL_SCOPES)

    # A narrower token reports only what it was granted; plan and currency changes show at once.
    control.patch_shop(plan="plus", currency="EUR")
    narrow = control.admin_token(scopes=["read_orders"])
    info = ops.fetch_shop_info(api_shop.client(narrow))
    assert info.scopes == frozenset({"read_orders"})
    assert (info.plan_display_name, info.shopify_plus, info.currency_code) == (
        "Plus", True, "EUR")


# --- one order -----------------------------------------------------------------------------------

def test_one_order_by_numeric_id_and_by_gid(api_shop, control):
    control.seed(5, days=10, seed=2)
    placed = control.place_order(email="Pat@Example.com", country="CA", discount_code="SPRING20",
                                 tags=["vip", "wholesale"])
    client = api_shop.client()
    by_id = ops.fetch_order(client, placed["id"])
    assert ops.fetch_order(client, placed["gid"]) == by_id

    raw = api_shop.record.orders[placed["id"]]
    assert by_id.shopify_order_id == raw.id and by_id.name == placed["name"]
    assert by_id.email == "pat@example.com" and by_id.shipping_country_code == "CA"
    assert by_id.created_at == utc(int(raw.created_at))  # DateTime is whole seconds
    assert by_id.discount_codes == ("SPRING20",) and by_id.tags == ("vip", "wholesale")
    assert str(by_id.total_price) == placed["total"] and by_id.currency == "USD"
    assert [(ln.line_id, ln.variant_id, ln.quantity) for ln in by_id.lines] == [
        (ln.id, ln.variant_id, ln.quantity) for ln in raw.lines]
    assert all(ln.product_tags is not None for ln in by_id.lines)  # GraphQL carries them

    assert ops.fetch_order(client, 999_999_999) is None


def test_an_order_longer_than_one_page_of_line_items_comes_back_whole(api_shop, control):
    # 55 lines: more than fetch_order's first page (50) and iter_orders' (10), so both follow
    # order_line_items pages.
    variant_ids = sorted(api_shop.record.variants)[:55]
    placed = control.place_order(variant_ids=variant_ids, quantity=2)
    client = api_shop.client()
    fetched = ops.fetch_order(client, placed["id"])
    assert [ln.variant_id for ln in fetched.lines] == variant_ids
    assert [o for o in ops.iter_orders(client)] == [fetched]


# --- many orders ---------------------------------------------------------------------------------

def test_created_at_window_returns_every_order_in_it_exactly_once(api_shop, control):
    control.seed(120, days=30, seed=5)
    raw = api_shop.record.order_list
    low, high = raw[20].created_at, raw[97].created_at
    client = api_shop.client()

    found = list(ops.iter_orders(client, created_at_min=utc(low), created_at_max=utc(high)))

    # The search syntax is second-precise: compare with the store at the same precision.
    expected = [o.id for o in raw if int(low) <= int(o.created_at) < int(high)]
    ids = [o.shopify_order_id for o in found]
    assert len(ids) == len(set(ids)) and set(ids) == set(expected)
    assert ids == expected  # sorted by created_at, oldest first
    pages = -(-len(expected) // ops.ORDERS_PAGE_SIZE)
    assert pages > 10 and api_shop.sessions[0].attempts == pages  # one request per page, no more


def test_updated_at_window_returns_only_orders_changed_since(api_shop, control, sandbox):
    control.seed(60, days=20, seed=6)
    sandbox.clock.advance(3600)
    since = utc(sandbox.clock.now())
    changed = [o.id for o in api_shop.record.order_list[5:40:3]]
    for oid in changed:
        sandbox.clock.advance(7)
        control.update_order(oid, tags=["returned"])

    found = list(ops.iter_orders(api_shop.client(), updated_at_min=since))

    assert [o.shopify_order_id for o in found] == changed  # oldest change first, once each
    assert all(o.tags == ("returned",) and o.updated_at >= since for o in found)


def test_unfiltered_listing_is_the_whole_store(api_shop, control):
    control.seed(37, days=5, seed=7)
    ids = [o.shopify_order_id for o in ops.iter_orders(api_shop.client())]
    assert ids == [o.id for o in api_shop.record.order_list]


# --- products ------------------------------------------------------------------------------------

def test_product_variants_with_options_and_inventory(api_shop):
    product = max(api_shop.record.products.values(), key=lambda p: len(p.variants))
    variants = ops.fetch_product_variants(api_shop.client(), product.id)

    raw = [api_shop.record.variants[v] for v in product.variants]
    assert [v.variant_id for v in variants] == [v.id for v in raw]
    assert [v.title for v in variants] == [v.title for v in raw]
    assert [v.inventory_quantity for v in variants] == [v.inventory for v in raw]
    assert [tuple(value for _name, value in v.options) for v in variants] == [
        tuple(v.options) for v in raw]
    assert [name for name, _value in variants[0].options] == [n for n, _ in product.options]
    assert all(v.in_stock == (v.inventory_quantity > 0) for v in variants)
    # Each variant's picture comes from its media (the sandbox attaches the product's image).
    assert {v.image_url for v in variants} == {product.image_url}
    assert ops.fetch_product_variants(api_shop.client(), 12345) == ()


# --- webhook subscriptions -----------------------------------------------------------------------

def test_webhook_subscriptions_create_list_delete(api_shop, control):
    client = api_shop.client()
    made = ops.create_webhook_subscription(client, "orders/create", "https://app.example/hooks")
    ops.create_webhook_subscription(client, "ORDERS_UPDATED", "https://app.example/hooks")
    listed = ops.list_webhook_subscriptions(client)
    assert [(s.topic, s.uri, s.format) for s in listed] == [
        ("ORDERS_CREATE", "https://app.example/hooks", "JSON"),
        ("ORDERS_UPDATED", "https://app.example/hooks", "JSON")]
    assert listed[0].id == made.id
    # The sandbox agrees, and records the API version the client spoke.
    stored = control.call("GET", f"/shops/{SHOP}/webhooks")["subscriptions"]
    assert {(s["topic"], s["api_version"]) for s in stored} == {
        ("orders/create", client.api_version), ("orders/updated", client.api_version)}

    with pytest.raises(E.UserErrorsError, match="already been taken"):
        ops.create_webhook_subscription(client, "orders/create", "https://app.example/hooks")

    assert ops.delete_webhook_subscription(client, made.id) == made.id
    assert [s.topic for s in ops.list_webhook_subscriptions(client)] == ["ORDERS_UPDATED"]
    with pytest.raises(E.UserErrorsError, match="does not exist"):
        ops.delete_webhook_subscription(client, made.id)


# --- bulk export ---------------------------------------------------------------------------------

def test_bulk_export_run_poll_stream_reassembles_every_order(api_shop, control):
    control.seed(150, days=40, seed=8)
    big = control.place_order(variant_ids=sorted(api_shop.record.variants)[:12])  # 12 child lines
    client = api_shop.client()
    progress = []

    started = bulk.start_bulk_orders(client)
    assert bulk.latest_bulk_query(client).id == started.id  # found again while it runs
    done = bulk.wait_for_bulk_operation(client, started.id, on_progress=progress.append)
    exported = [order_from_graphql(node) for node in bulk.iter_bulk_orders(client, done)]

    assert progress[0].status in ("CREATED", "RUNNING") and done.status == "COMPLETED"
    raw = api_shop.record.order_list
    assert [o.shopify_order_id for o in exported] == [o.id for o in raw]
    assert done.object_count == len(raw) + sum(len(o.lines) for o in raw)
    # The JSONL path and the paginated path see the same orders, field for field.
    assert exported == list(ops.iter_orders(client))
    assert len(next(o for o in exported if o.shopify_order_id == big["id"]).lines) == 12
    # After a restart the app finds its export again: none running now, so the newest.
    assert bulk.latest_bulk_query(client) == done


def test_bulk_export_with_a_filter_and_an_empty_result(api_shop, control):
    control.seed(40, days=20, seed=9)
    raw = api_shop.record.order_list
    cut = raw[25].created_at
    client = api_shop.client()

    op = bulk.wait_for_bulk_operation(client, bulk.start_bulk_orders(
        client, created_at_min=utc(cut)).id)
    ids = [order_from_graphql(n).shopify_order_id for n in bulk.iter_bulk_orders(client, op)]
    assert ids == [o.id for o in raw if int(o.created_at) >= int(cut)]

    empty = bulk.wait_for_bulk_operation(client, bulk.start_bulk_orders(
        client, created_at_min=datetime(2030, 1, 1, tzinfo=timezone.utc)).id)
    assert empty.url is None and list(bulk.iter_bulk_orders(client, empty)) == []

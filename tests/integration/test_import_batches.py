"""The import's batch writes store exactly what one order at a time (`upsert_order`) stores."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import Account, Order
from app.services.orders import upsert_order
from app.shopify.operations import iter_orders
from tests.factories import make_account
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.connect import SEEDED, connected_account, make_shop, use_virtual_time
from tests.support.imports import run_now, snapshot


# --- the batch upsert agrees with upsert_order ------------------------------------------------------

def test_the_batch_upsert_stores_exactly_what_upsert_order_stores(app, shop):
    from app.services import imports as svc

    client = svc.store_client(connected_account(shop))
    data = list(iter_orders(client, created_at_min=datetime.now(timezone.utc) - timedelta(days=31)))
    assert len(data) == SEEDED
    one_by_one = make_account(shop_domain=None)
    batched = make_account(shop_domain=None)
    for item in data:
        upsert_order(one_by_one.id, item)
    counts = svc.upsert_orders(batched.id, data)
    db.session.commit()
    assert counts["created"] == SEEDED
    assert snapshot(batched.id) == snapshot(one_by_one.id)

    def full_rows(account_id):
        skip = {"id", "account_id", "stored_at", "order_id"}
        out = []
        for order in db.session.scalars(select(Order).where(Order.account_id == account_id)
                                        .order_by(Order.shopify_order_id)):
            row = {c.key: getattr(order, c.key) for c in Order.__table__.columns if c.key not in skip}
            row["lines"] = [{c.key: getattr(line, c.key) for c in line.__table__.columns if c.key not in skip}
                            for line in order.lines]
            out.append(row)
        return out

    db.session.expire_all()
    assert full_rows(batched.id) == full_rows(one_by_one.id)

    # Newest updatedAt wins in both; older data is stale; a duplicate in one batch counts once.
    from dataclasses import replace

    first = data[0]
    newer = replace(first, updated_at=first.updated_at + timedelta(minutes=5), tags=("vip",))
    older = replace(first, updated_at=first.updated_at - timedelta(minutes=5), tags=("old",))
    assert upsert_order(one_by_one.id, newer) == "updated"
    assert upsert_order(one_by_one.id, older) == "stale"
    counts = svc.upsert_orders(batched.id, [older, newer, data[1]])
    db.session.commit()
    assert counts["updated"] == 2 and counts["stale"] == 1
    assert svc.upsert_orders(batched.id, [older])["stale"] == 1
    db.session.commit()
    db.session.expire_all()
    assert full_rows(batched.id) == full_rows(one_by_one.id)


def test_a_batch_meeting_an_order_stored_meanwhile_falls_back_to_one_by_one(app, shop, monkeypatch):
    """A webhook stored one of the batch's orders after the batch looked: the batch's fast insert
    (COPY on PostgreSQL, multi-row INSERT on SQLite) hits the unique key, only that batch is rolled
    back, and the orders are stored one by one as ``upsert_order`` stores them."""
    from dataclasses import replace

    from app.services import imports as svc

    client = svc.store_client(connected_account(shop))
    data = list(iter_orders(client, created_at_min=datetime.now(timezone.utc) - timedelta(days=31)))
    batched, one_by_one = make_account(shop_domain=None), make_account(shop_domain=None)
    for account_id in (batched.id, one_by_one.id):
        assert upsert_order(account_id, data[3]) == "created"  # the webhook's copy
    db.session.commit()
    from app.services import order_batches

    monkeypatch.setattr(order_batches, "_stored", lambda account_id, ids: {})  # it came after the look-up
    newer = replace(data[3], updated_at=data[3].updated_at + timedelta(minutes=1), tags=("late",))
    batch = data[:3] + [newer] + data[4:]
    counts = svc.upsert_orders(batched.id, batch)
    db.session.commit()
    assert counts["created"] == SEEDED - 1 and counts["updated"] == 1
    for item in batch:
        upsert_order(one_by_one.id, item)
    db.session.commit()
    db.session.expire_all()
    assert snapshot(batched.id) == snapshot(one_by_one.id)
    assert len(snapshot(batched.id)) == SEEDED
    stored = db.session.scalar(select(Order).where(Order.account_id == batched.id,
                                                   Order.shopify_order_id == newer.shopify_order_id))
    assert stored.tags == ["late"]


def test_awkward_values_are_stored_alike_by_the_batch_and_by_upsert_order(app, shop):
    """Characters that need escaping on the way in (COPY's text format on PostgreSQL), blanks
    that become None, missing product tags, an address with nested values."""
    from dataclasses import replace

    from app.services import imports as svc

    client = svc.store_client(connected_account(shop))
    data = list(iter_orders(client, created_at_min=datetime.now(timezone.utc) - timedelta(days=31)))[:4]
    odd = 'tab\there, new\nline, back\\slash \\N "quoted" ünïcödé \u2603'
    line = replace(data[0].lines[0], title=odd, sku="", image_url="", product_tags=None,
                   variant_title=odd)
    data[0] = replace(data[0], email="  MiXed.Case@Example.COM ", customer_first_name=odd,
                      customer_last_name=None, tags=(odd, "b"), discount_codes=(odd,),
                      shipping_address={"address1": odd, "city": None, "zip": "\\N", "n": [1, {"a": odd}]},
                      lines=(line,) + tuple(data[0].lines[1:]))
    data[1] = replace(data[1], email=None, shipping_address=None, customer_first_name=None,
                      customer_last_name=None, cancelled_at=data[1].updated_at, lines=())
    one_by_one, batched = make_account(shop_domain=None), make_account(shop_domain=None)
    for item in data:
        upsert_order(one_by_one.id, item)
    assert svc.upsert_orders(batched.id, data)["created"] == len(data)
    db.session.commit()
    db.session.expire_all()
    skip = {"id", "account_id", "stored_at", "order_id"}

    def rows(account_id):
        return [({c.key: getattr(o, c.key) for c in Order.__table__.columns if c.key not in skip},
                 [{c.key: getattr(li, c.key) for c in li.__table__.columns if c.key not in skip}
                  for li in o.lines])
                for o in db.session.scalars(select(Order).where(Order.account_id == account_id)
                                            .order_by(Order.shopify_order_id))]

    assert rows(batched.id) == rows(one_by_one.id)
    first = rows(batched.id)[[d.shopify_order_id for d in sorted(data, key=lambda d: d.shopify_order_id)]
                             .index(data[0].shopify_order_id)]
    assert first[0]["email"] == "mixed.case@example.com" and first[0]["tags"] == [odd, "b"]
    assert first[1][0]["title"] == odd and first[1][0]["sku"] is None and first[1][0]["product_tags"] == []


def test_imported_orders_teach_whether_customer_data_is_readable(app, sandbox, monkeypatch):
    use_virtual_time(monkeypatch, sandbox)
    shop = make_shop(sandbox, protected_data=False)
    account = connected_account(shop, protected_data_readable=None)
    run_now(account)
    db.session.expire_all()
    assert db.session.get(Account, account.id).protected_data_readable is False


def _stored_rows(account_id):
    """An account's orders and lines, every column but the ids and stored_at."""
    skip = {"id", "account_id", "stored_at", "order_id"}
    return [({c.key: getattr(o, c.key) for c in Order.__table__.columns if c.key not in skip},
             [{c.key: getattr(li, c.key) for c in li.__table__.columns if c.key not in skip}
              for li in o.lines])
            for o in db.session.scalars(select(Order).where(Order.account_id == account_id)
                                        .order_by(Order.shopify_order_id))]


def test_bulk_nodes_read_ahead_are_stored_as_upsert_order_stores_them(app):
    """The import's own path (nodes mapped ahead into COPY text by the reader thread, ids drawn
    ahead) against ``upsert_order`` of the full mapping, with characters COPY must escape; then
    the same batches again, all stored already: the full way, from the nodes kept compact."""
    import copy

    from app.services.import_ahead import batches_ahead
    from app.services.order_batches import upsert_graphql_orders
    from app.shopify.bulk import iter_bulk_objects
    from app.shopify.mapping import order_from_graphql
    from tests.unit.shopify.test_bulk import jsonl_for, second_order
    from tests.unit.shopify.test_mapping import GRAPHQL_ORDER_1001

    odd = 'tab\there, new\nline, back\\slash \\N "quoted" ünïcödé \u2603'
    first = copy.deepcopy(GRAPHQL_ORDER_1001)
    first.update(name=odd, tags=[odd, "b"], discountCodes=[odd])
    first["shippingAddress"]["city"] = odd
    first["lineItems"]["nodes"][0].update(title=odd, sku="\\N", variantTitle="\r")
    nodes = list(iter_bulk_objects(jsonl_for([first, second_order()])))
    one_by_one, ahead = make_account(shop_domain=None), make_account(shop_domain=None)
    for node in nodes:
        upsert_order(one_by_one.id, order_from_graphql(copy.deepcopy(node)))
    lean = db.session.get_bind().dialect.name == "postgresql"
    for _ in range(2):
        with batches_ahead(iter(copy.deepcopy(nodes)), 1, ahead.id, lean=lean) as batches:
            for batch in batches:
                counts, unreadable = upsert_graphql_orders(ahead.id, batch)
                assert unreadable == 0 and sum(counts.values()) == 1
                db.session.commit()
        db.session.expire_all()
        assert _stored_rows(ahead.id) == _stored_rows(one_by_one.id)
    assert odd in [order["name"] for order, _ in _stored_rows(ahead.id)]

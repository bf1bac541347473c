"""Deliveries whose body the mapper does not expect: processed from the Admin API's copy with the
body's fault recorded, or dead after a stated number of attempts with the error recorded; never
a job that crashes on every retry with nothing written down."""
import copy
import json
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import Order, WebhookDelivery
from app.services import deliveries
from app.services.dead_deliveries import LAST_ERROR_CHARS, dead_deliveries, retry_dead
from app.services.deliveries import process_delivery
from app.services.orders import upsert_order
from app.shopify.errors import ShopifyDataError
from app.shopify.mapping import order_from_rest
from jobs.intake import sweep_unprocessed_deliveries_job
from sandbox.rest_payload import order_payload
from tests.support.connect import SHOP, connected_account, use_virtual_time
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.factories import is_processed, make_delivery, pending_row
from tests.support.queue import record_jobs

pytestmark = pytest.mark.shop(orders=0)  # the `shop` fixture: a sandbox shop without orders


def placed(shop, quantity=2):
    """An order placed in the sandbox shop, and the REST body Shopify sends for it."""
    order = shop.store.place_order(SHOP, seed=7, quantity=quantity)
    return order, order_payload(shop.store, shop.store.get_shop(SHOP), order)


def stored_delivery(account, body, topic="orders/create", raw: str | None = None) -> int:
    delivery = make_delivery(account, shop_domain=SHOP, topic=topic, event_id=str(uuid.uuid4()),
                             body=raw if raw is not None else json.dumps(body), received_at=datetime.now(timezone.utc))
    db.session.commit()
    return delivery.id


def with_two_lines(body):
    """The body with at least two lines (for the shapes that name a second one)."""
    if len(body["line_items"]) < 2:
        other = max(item["id"] for item in body["line_items"]) + 1000
        body["line_items"].append({**copy.deepcopy(line(body)), "id": other,
                                   "admin_graphql_api_id": f"gid://shopify/LineItem/{other}"})
    return body


def line(body, index=0):
    return body["line_items"][index]


def _drop_line_ids(body):
    line(body).pop("id"), line(body).pop("admin_graphql_api_id")


def _disagreeing_ids(body):
    # The gid names another line of the order: merging them would mix two lines' units.
    line(body)["admin_graphql_api_id"] = f"gid://shopify/LineItem/{line(body, 1)['id']}"


def _shared_ids(body):
    line(body, 1)["id"] = line(body)["id"]
    line(body, 1)["admin_graphql_api_id"] = line(body)["admin_graphql_api_id"]


# Each shape crashed the processing job before (TypeError, ValueError, AttributeError…), on every retry.
POISON = {
    "quantity not a number": lambda b: line(b).update(quantity="two"),
    "quantity in Unicode digits": lambda b: line(b).update(quantity="²"),
    "quantity a list": lambda b: line(b).update(quantity=[1]),
    "quantity out of range": lambda b: line(b).update(quantity=10 ** 30),
    "fulfillment not an object": lambda b: b.update(fulfillments=["shipped"]),
    "fulfillments a string": lambda b: b.update(fulfillments="shipped"),
    "fulfilled quantity not a number": lambda b: b.update(fulfillments=[
        {"status": "success", "line_items": [{"id": line(b)["id"], "quantity": "x"}]}]),
    "line without an id": _drop_line_ids,
    "line id out of range": lambda b: line(b).update(id=2 ** 64, admin_graphql_api_id=None),
    "line ids that disagree": _disagreeing_ids,
    "two lines known by one id": _shared_ids,
    "money out of range": lambda b: b.update(total_price="1" + "0" * 30, total_price_set=None),
    "created_at past the calendar": lambda b: b.update(created_at="0001-01-01T00:00:00+01:00"),
    "currency not a code": lambda b: b.update(currency="EURO"),
    "refund line id in Unicode digits": lambda b: b.update(refunds=[
        {"refund_line_items": [{"line_item_id": "١٢", "quantity": 1}]}]),

}


def test_each_poison_shape_is_refused_by_the_mapper_with_its_one_error(shop):
    body = with_two_lines(placed(shop)[1])
    order_from_rest(body)  # the unspoilt body maps
    for name, spoil in POISON.items():
        spoilt = copy.deepcopy(body)
        spoil(spoilt)
        with pytest.raises(ShopifyDataError):
            order_from_rest(spoilt)
            pytest.fail(name)


@pytest.mark.parametrize("name", list(POISON))
def test_a_poison_body_still_brings_the_order_from_the_admin_api_and_says_why(app, shop, name):
    account = connected_account(shop)
    order, body = placed(shop)
    POISON[name](with_two_lines(body))
    delivery_id = stored_delivery(account, body)

    assert process_delivery(delivery_id).endswith("api created")
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert is_processed(delivery_id)
    assert delivery.note.startswith("the order in the body was not stored: ShopifyDataError")
    assert len(delivery.note) <= LAST_ERROR_CHARS
    stored = db.session.scalar(select(Order).where(Order.account_id == account.id))
    assert stored.shopify_order_id == order.id and stored.name == body["name"]
    assert sorted(ln.quantity for ln in stored.lines) == sorted(ln.quantity for ln in order.lines)


def test_a_lone_surrogate_and_a_nul_in_the_body_are_stored_the_same_on_both_databases(app, shop, monkeypatch):
    account = connected_account(shop)
    _, body = placed(shop)
    line(body)["title"] = "Tent \ud83d half an emoji\x00"
    body["customer"]["first_name"] = "\udc00Jo"
    body["shipping_address"]["city"] = "Ber\x00lin \ud800"
    monkeypatch.setattr(deliveries, "client_for", lambda account: (_ for _ in ()).throw(
        deliveries.NotConnected("no API in this test")))
    # The body as intake stores it: JSON escapes for the surrogates, as Shopify would send them.
    delivery_id = stored_delivery(account, None, raw=json.dumps(body))
    assert process_delivery(delivery_id) == "body created; store not connected"
    db.session.expire_all()
    stored = db.session.scalar(select(Order).where(Order.account_id == account.id))
    assert stored.lines[0].title == "Tent \ufffd half an emoji"
    assert stored.customer_name.startswith("\ufffdJo")
    assert stored.shipping_address["city"] == "Berlin \ufffd"


def test_a_body_that_names_no_order_is_dead_at_once_with_its_error(app, shop):
    account = connected_account(shop)
    _, body = placed(shop)
    body.pop("id"), body.pop("admin_graphql_api_id")
    delivery_id = stored_delivery(account, body)
    assert process_delivery(delivery_id) == "dead"
    assert "lacks id" in pending_row(delivery_id).last_error
    assert [d.delivery_id for d in dead_deliveries(account.id)] == [delivery_id]


def test_a_store_race_that_finds_no_row_raises_the_one_error_the_job_records(app, shop):
    """An insert that breaks a constraint other than the order's own (two lines with one id, as
    only a caller that skips the mapper could give) is a data error, not an AttributeError on None."""
    account = connected_account(shop)
    order, body = placed(shop)
    data = order_from_rest(body)
    from dataclasses import replace

    twice = replace(data, lines=(data.lines[0], data.lines[0]))
    with pytest.raises(ShopifyDataError, match="could not be stored"):
        upsert_order(account.id, twice)
    db.session.rollback()


def test_a_failing_delivery_records_each_error_and_is_dead_after_the_stated_attempts(app, shop, monkeypatch):
    account = connected_account(shop)
    _, body = placed(shop)
    calls = []

    def broken(client, order_id):
        calls.append(order_id)
        raise RuntimeError("Shopify answered 500 " + "x" * 5000)

    monkeypatch.setattr(deliveries, "fetch_order", broken)
    delivery_id = stored_delivery(account, body)
    attempts = app.config["WEBHOOK_MAX_ATTEMPTS"]
    assert attempts == 5
    for attempt in range(1, attempts):
        with pytest.raises(RuntimeError):
            process_delivery(delivery_id)  # raised again: the job is retried
        pending = pending_row(delivery_id)
        assert pending.attempts == attempt and pending.last_error.startswith("RuntimeError: Shopify answered 500")
        assert len(pending.last_error) == LAST_ERROR_CHARS
        assert dead_deliveries(account.id) == []
    assert process_delivery(delivery_id) == "dead"  # the last attempt: nothing left to retry
    assert len(calls) == attempts
    assert [d.delivery_id for d in dead_deliveries(account.id)] == [delivery_id]
    # The sweeper leaves a dead delivery alone, however old.
    db.session.get(WebhookDelivery, delivery_id).received_at = datetime.now(timezone.utc) - timedelta(hours=2)
    db.session.commit()
    assert sweep_unprocessed_deliveries_job() == 0

    # Retried (the page's button): live again, and processed now that Shopify answers.
    monkeypatch.undo()
    use_virtual_time(monkeypatch, shop.sandbox)
    assert retry_dead(account.id) == 1
    pending = pending_row(delivery_id)
    if pending is not None:  # RQ: the job waits in the queue; run it as a worker would
        assert pending.attempts == 0
        process_delivery(delivery_id)
    assert is_processed(delivery_id) and db.session.get(WebhookDelivery, delivery_id).note is None
    assert dead_deliveries(account.id) == [] and retry_dead(account.id) == 0


def test_a_busy_database_never_makes_a_delivery_dead(app, shop, monkeypatch):
    """SQLite refuses a write while another writer holds the lock ("database is locked"): not the
    delivery's fault, so however often it happens the attempt is given back and the delivery
    stays live until it is processed."""
    account = connected_account(shop)
    _, body = placed(shop)

    def busy(client, order_id):
        raise OperationalError("UPDATE order_lines", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(deliveries, "fetch_order", busy)
    delivery_id = stored_delivery(account, body)
    for _ in range(app.config["WEBHOOK_MAX_ATTEMPTS"] * 2):
        with pytest.raises(OperationalError):
            process_delivery(delivery_id)  # raised again: the job is tried again
        pending = pending_row(delivery_id)
        assert pending.attempts == 0 and "database is locked" in pending.last_error
    assert dead_deliveries(account.id) == []
    monkeypatch.undo()
    use_virtual_time(monkeypatch, shop.sandbox)
    process_delivery(delivery_id)
    assert is_processed(delivery_id)


def test_the_stated_attempts_fit_in_30_minutes_whichever_way_they_come(app):
    """The job's own retries and the sweeper's re-queues both end a delivery's attempts well
    within 30 minutes of its arrival (while the workers run)."""
    from app.queue import SPECS

    retries = SPECS["jobs.intake.process_webhook_delivery_job"].retry_intervals
    assert len(retries) + 1 == app.config["WEBHOOK_MAX_ATTEMPTS"] == 5
    assert sum(retries) < 30 * 60  # the last retry runs about 21 minutes after the first try
    sweep_every = 120  # app/queue/schedule.py: */2 minutes
    assert app.config["WEBHOOK_SWEEP_AFTER_SECONDS"] + (5 - 1) * sweep_every < 30 * 60


def test_a_worker_killed_in_every_attempt_leaves_a_dead_delivery_the_sweeper_stops_queueing(app, shop, monkeypatch):
    account = connected_account(shop)
    _, body = placed(shop)
    delivery_id = stored_delivery(account, body)
    db.session.get(WebhookDelivery, delivery_id).received_at = datetime.now(timezone.utc) - timedelta(minutes=10)
    db.session.commit()

    def killed(delivery):
        raise SystemExit("the worker was killed")  # not an Exception: nothing is recorded

    monkeypatch.setattr(deliveries, "_do_work", killed)
    record_jobs(app, monkeypatch)  # what the sweeper queues is not run
    for _ in range(5):
        with pytest.raises(SystemExit):
            process_delivery(delivery_id)
        db.session.rollback()
    assert sweep_unprocessed_deliveries_job() == 0  # dead: no more attempts, listed instead
    (dead,) = dead_deliveries(account.id)
    assert dead.delivery_id == delivery_id and dead.attempts == 5 and dead.last_error is None

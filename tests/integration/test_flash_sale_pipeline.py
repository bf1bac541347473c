"""The order pipeline under bursts: intake only stores, dispatchers claim deliveries once and
queue them in batches, a batch stores each body's order at once (one bad body never fails it),
and a confirmer reads the orders back from the Admin API many per query, inside the bucket."""
import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, event, func, select

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Order, OrderConfirmation, PendingDelivery, WebhookDelivery
from app.services import dispatch
from app.services.delivery_batches import CONFIRM_JOB, process_batch
from app.services.order_confirm import CONFIRM_BATCH, ORDER_CONFIRM_COST, confirm_pending
from jobs.intake import sweep_unprocessed_deliveries_job
from sandbox.rest_payload import order_payload
from sandbox.throttle import Bucket
from tests.fixtures.app import make_test_app, rolled_back
from tests.factories import is_processed, make_account, make_delivery, pending_row
from tests.fixture_files import shopify_json
from tests.support.connect import SHOP, connected_account
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.support.queue import record_jobs
from tests.support.shopify_webhooks import SECRET, post_webhook

# The confirmation tests' `shop`: no orders; bucket waits in virtual time, with no memory of another test's.
pytestmark = pytest.mark.shop(orders=0, virtual_pacing=True)

DOCS_ORDER = shopify_json("webhook_orders_create_docs_2026-04.metadata.json")["response"]
HOSTILE_BODIES = [
    {**DOCS_ORDER, "id": 9001, "admin_graphql_api_id": None, "line_items": [{"id": 1, "quantity": "²"}]},
    {**DOCS_ORDER, "id": 9002, "admin_graphql_api_id": None, "name": "#\x00NUL"},
    {**DOCS_ORDER, "id": 9003, "admin_graphql_api_id": None,
     "customer": {"first_name": "\ud800", "last_name": "x" * 5000}},
    {**DOCS_ORDER, "id": None, "admin_graphql_api_id": None},
    {**DOCS_ORDER, "id": 9005, "admin_graphql_api_id": None, "total_price": "1e400",
     "created_at": "9999-12-31T23:59:59Z"},
    {**DOCS_ORDER, "id": 9006, "admin_graphql_api_id": None, "fulfillments": ["not an object"],
     "line_items": {"id": 1}},
    {**DOCS_ORDER, "id": 2**70, "admin_graphql_api_id": None},
]


def docs_order(order_id: int, name: str) -> dict:
    """Shopify's documented orders/create body as another order."""
    return {**DOCS_ORDER, "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": name}


def stored_delivery(account_id, body, topic="orders/create", event=None, shop=SHOP) -> int:
    """A committed delivery row, as intake leaves it."""
    text = body if isinstance(body, str) else json.dumps(body)
    delivery = make_delivery(account_id=account_id, shop_domain=shop, topic=topic, body=text,
                             event_id=event or f"evt-{next(_events)}", received_at=datetime.now(timezone.utc))
    db.session.commit()
    return delivery.id


_events = iter(range(1, 10**9))


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- intake -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def _rq_app(_session_app):
    # Redis on a port nobody listens on: any Redis call on the request path would show.
    return make_test_app(SQLALCHEMY_DATABASE_URI=_session_app.config["SQLALCHEMY_DATABASE_URI"],
                         JOBS_BACKEND="rq", REDIS_URL="redis://127.0.0.1:1/0")


def test_with_rq_intake_only_stores_the_row_and_never_calls_redis(_rq_app, monkeypatch):
    jobs = record_jobs(_rq_app, monkeypatch)  # stands in for RQ: any job queued would show here
    with rolled_back(_rq_app) as app:
        make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET))
        db.session.commit()
        response = post_webhook(app.test_client(), DOCS_ORDER, SHOP)
        assert response.status_code == 200 and response.json == {"status": "accepted"}
        delivery = db.session.scalar(select(WebhookDelivery))
        pending = pending_row(delivery.id)
        assert pending is not None and pending.attempts == 0 and pending.dispatched_at is None
        assert jobs.queued == []  # the row is the record; a dispatcher queues it


# --- dispatch ---------------------------------------------------------------------------------

def test_two_dispatchers_racing_claim_every_delivery_exactly_once(e2e_app):
    with e2e_app.app_context():
        account = make_account(shop_domain=SHOP)
        db.session.commit()
        now, body = datetime.now(timezone.utc), json.dumps(DOCS_ORDER)
        rows = [make_delivery(account, event_id=f"race-{n}", body=body, received_at=now) for n in range(600)]
        db.session.commit()
        ids = {row.id for row in rows}
        db.session.remove()
    start = threading.Barrier(2, timeout=10)
    claims, errors, sizes = [[], []], [], []

    def dispatcher(mine):
        try:
            with e2e_app.app_context():
                start.wait()
                # A claim may come back short (or empty) when the other took its rows meanwhile:
                # go on until nothing is left, as a dispatcher's next pass would.
                while count(PendingDelivery, PendingDelivery.dispatched_at.is_(None)):
                    db.session.rollback()  # a dispatcher's pass starts with no transaction open
                    claim = dispatch.claim_undispatched(limit=7)
                    mine.extend(delivery_id for delivery_id, _ in claim)
                    sizes.append(len(claim))
                    time.sleep(0.002)  # let the other one in, as two busy workers would
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=dispatcher, args=(claims[n],)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    first, second = claims
    print(f"claims: {len(first)} and {len(second)} deliveries")
    assert len(first) + len(second) == len(ids)  # nobody claimed a row twice…
    assert set(first) | set(second) == ids  # …and every row was claimed
    assert first and second  # both really took part
    assert max(sizes) <= 7  # and no claim took more than it asked for


def test_batches_hold_one_shop_each_in_arrival_order():
    claimed = [(1, 7), (2, 8), (3, 7), (4, 7), (5, 8), (6, None)]
    assert dispatch.batches(claimed, 2) == [[6], [1, 3], [4], [2, 5]]


def test_a_batch_redis_refuses_is_released_for_the_next_pass(app, monkeypatch):
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    delivery_id = stored_delivery(account.id, DOCS_ORDER)

    jobs = record_jobs(app, monkeypatch)
    jobs.refuse = ConnectionError("Redis is away")
    assert dispatch.dispatch_pending() == 0
    assert pending_row(delivery_id).dispatched_at is None
    jobs.refuse = None
    assert dispatch.dispatch_pending() == 1 and [args for _, args in jobs.queued] == [([delivery_id],)]
    assert dispatch.dispatch_pending() == 0  # claimed: never queued twice


def test_a_pass_claims_nothing_while_the_last_claim_is_being_processed(app, monkeypatch):
    """One claim at a time: the second delivery waits for the first claim's batch (a sale's
    batches then take one worker, not every core), then goes in the next pass."""
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    first = stored_delivery(account.id, docs_order(7100, "#L1"))
    jobs = record_jobs(app, monkeypatch)
    assert dispatch.dispatch_pending() == 1
    second = stored_delivery(account.id, docs_order(7101, "#L2"))
    assert dispatch.dispatch_pending() == 0 and pending_row(second).dispatched_at is None
    (batch,) = jobs.args_of(dispatch.BATCH_JOB)
    assert batch == ([first],)
    process_batch(*batch)
    jobs.queued.clear()  # the batch ran: nothing waits any more
    assert dispatch.dispatch_pending() == 1
    assert jobs.args_of(dispatch.BATCH_JOB) == [([second],)]


@pytest.mark.parametrize("left", ["past its lease", "failed once"])
def test_a_claim_whose_batch_died_or_failed_holds_the_next_one_back_no_longer(app, monkeypatch, left):
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    first = stored_delivery(account.id, docs_order(7200, "#D1"))
    jobs = record_jobs(app, monkeypatch)  # recorded, never run: as if its worker died
    assert dispatch.dispatch_pending() == 1
    jobs.queued.clear()  # taken from the queue by the worker that died
    row = db.session.get(PendingDelivery, first)
    if left == "past its lease":
        lease = app.config["DISPATCH_CLAIM_LEASE_SECONDS"]
        row.dispatched_at = datetime.now(timezone.utc) - timedelta(seconds=lease + 1)
    else:  # the retries and the sweeper own a delivery that failed
        row.attempts = 1
    db.session.commit()
    second = stored_delivery(account.id, docs_order(7201, "#D2"))
    assert dispatch.dispatch_pending() == 1
    assert jobs.args_of(dispatch.BATCH_JOB) == [([second],)]


def test_a_pass_claims_nothing_while_another_dispatcher_is_claiming(app, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's advisory lock; SQLite's claim takes the database's write lock")
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    delivery_id = stored_delivery(account.id, DOCS_ORDER)
    jobs = record_jobs(app, monkeypatch)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as other:  # another dispatcher, mid-claim
        other.execute(select(func.pg_advisory_lock(dispatch.CLAIM_LOCK_KEY)))
        try:
            assert dispatch.dispatch_pending() == 0 and pending_row(delivery_id).dispatched_at is None
        finally:
            other.execute(select(func.pg_advisory_unlock(dispatch.CLAIM_LOCK_KEY)))
    engine.dispose()
    assert dispatch.dispatch_pending() == 1 and jobs.args_of(dispatch.BATCH_JOB) == [([delivery_id],)]


def test_a_dead_delivery_is_left_for_an_admin_to_retry(app, monkeypatch):
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    dead = db.session.get(PendingDelivery, stored_delivery(account.id, DOCS_ORDER))
    dead.attempts = app.config["WEBHOOK_MAX_ATTEMPTS"]
    db.session.commit()
    jobs = record_jobs(app, monkeypatch)
    assert dispatch.dispatch_pending() == 0
    assert jobs.queued == []  # a dead delivery is never queued


def test_a_claimed_batch_that_never_ran_is_swept(app, monkeypatch):
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    delivery_id = stored_delivery(account.id, DOCS_ORDER)
    jobs = record_jobs(app, monkeypatch)  # recorded, never run: the job is lost
    assert dispatch.dispatch_pending() == 1
    delivery = db.session.get(WebhookDelivery, delivery_id)
    delivery.received_at = datetime.now(timezone.utc) - timedelta(minutes=10)
    db.session.commit()
    jobs.queued.clear()
    assert sweep_unprocessed_deliveries_job() == 1 and [args for _, args in jobs.queued] == [(delivery_id,)]


# --- batches ----------------------------------------------------------------------------------

def test_a_batch_stores_each_body_at_once_and_one_bad_body_never_fails_it(app, monkeypatch):
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    good = [stored_delivery(account.id, docs_order(5000 + n, f"#F{n}")) for n in range(3)]
    bad = [stored_delivery(account.id, body) for body in HOSTILE_BODIES]
    bad.append(stored_delivery(account.id, '{"id": 1, "line_items": [1, 2', topic="orders/updated"))
    jobs = record_jobs(app, monkeypatch)

    counts = process_batch(good[:2] + bad + good[2:])

    db.session.expire_all()
    assert counts["stored"] >= 3
    assert {o.shopify_order_id for o in db.session.scalars(select(Order))} >= {5000, 5001, 5002}
    assert all(is_processed(d) for d in good)
    listed = set(db.session.scalars(select(OrderConfirmation.shopify_order_id)))
    assert listed >= {5000, 5001, 5002}
    # In-process, one confirmer for the shop whatever the batch size; with RQ, the workers'
    # confirmer threads find the listed orders (no job holds a worker while the bucket refills).
    assert jobs.args_of(CONFIRM_JOB) == ([(account.id,)] if jobs.runs_in_process else [])


def test_dispatching_and_processing_never_rewrite_the_delivery_row(app, monkeypatch):
    """The claim and the "processed" mark are writes to the narrow pending row: the wide
    delivery row (its body, its four indexes) is written once, by intake, so a sale's processing
    adds no row versions or index entries where intake inserts."""
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    ids = [stored_delivery(account.id, docs_order(8000 + n, f"#W{n}")) for n in range(3)]
    ids.append(stored_delivery(account.id, {"id": 1}, topic="app/uninstalled"))  # the one-by-one path
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    jobs = record_jobs(app, monkeypatch)  # the batch is recorded, then run here
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert dispatch.dispatch_pending() == len(ids)
        (batch,) = jobs.args_of(dispatch.BATCH_JOB)
        process_batch(*batch)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert all(is_processed(d) for d in ids)
    written = {table for s in statements for table in re.findall(r"\b(?:UPDATE|INSERT INTO|DELETE FROM) (\w+)", s)}
    # (New orders may go by COPY on PostgreSQL, which these events do not see: counted instead.)
    assert "pending_deliveries" in written and "order_confirmations" in written and count(Order) == 3
    assert "webhook_deliveries" not in written, statements


def test_a_batch_run_twice_changes_nothing(app, monkeypatch):
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    ids = [stored_delivery(account.id, docs_order(7000 + n, f"#T{n}")) for n in range(3)]
    record_jobs(app, monkeypatch)  # the confirmer a batch queues is recorded, not run
    process_batch(ids)
    first = [(o.shopify_order_id, o.name, o.updated_at, len(o.lines))
             for o in db.session.scalars(select(Order).order_by(Order.shopify_order_id))]
    again = process_batch(ids)
    db.session.expire_all()
    assert again == {"stored": 0, "single": 0, "failed": 0}
    assert [(o.shopify_order_id, o.name, o.updated_at, len(o.lines))
            for o in db.session.scalars(select(Order).order_by(Order.shopify_order_id))] == first
    assert count(OrderConfirmation) == 3


def test_other_topics_in_a_batch_go_through_the_single_path(app, monkeypatch):
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    delivery_id = stored_delivery(account.id, {"id": 1}, topic="app/uninstalled")
    record_jobs(app, monkeypatch)  # the confirmer a batch queues is recorded, not run
    assert process_batch([delivery_id]) == {"stored": 0, "single": 1, "failed": 0}
    assert is_processed(delivery_id)


def test_a_batch_commits_without_waiting_for_the_disk_while_an_accepted_delivery_does(app, monkeypatch):
    """A batch's writes are done again when a crash loses them (app/services/intake.py,
    `redo_if_lost`), so on PostgreSQL they commit asynchronously; the delivery row intake stores
    before its 200 is never committed that way."""
    import app.services.delivery_batches as delivery_batches
    from app.services.intake import intake_engine

    postgres = db.engine.dialect.name == "postgresql"

    def setting(connection) -> str:
        return connection.exec_driver_sql("SHOW synchronous_commit").scalar() if postgres else "sqlite"

    seen = {}
    real_upsert = delivery_batches.upsert_orders

    def upsert(*args):
        seen["batch"] = setting(db.session.connection())
        return real_upsert(*args)

    monkeypatch.setattr(delivery_batches, "upsert_orders", upsert)
    account = make_account(shop_domain=SHOP)
    db.session.commit()
    record_jobs(app, monkeypatch)  # the confirmer a batch queues is recorded, not run
    delivery_id = stored_delivery(account.id, docs_order(7100, "#A1"))
    assert process_batch([delivery_id])["stored"] == 1
    if postgres:  # the autocommitted engine of intake's insert (SQLite stores through the session)
        with intake_engine(db.engine.engine).connect() as connection:
            seen["intake"] = setting(connection)
    else:
        seen["intake"] = "sqlite"
    assert seen == ({"batch": "off", "intake": "on"} if postgres else {"batch": "sqlite", "intake": "sqlite"})


# --- confirmation -----------------------------------------------------------------------------

def place_and_store(shop, account, orders: int, tamper=None) -> list[int]:
    """Orders placed in the sandbox, their orders/create bodies stored through a batch."""
    shopify_shop = shop.store.get_shop(SHOP)
    bodies = []
    for n in range(orders):
        placed = shop.store.place_order(SHOP, seed=100 + n, email=f"buyer{n}@example.com")
        bodies.append(order_payload(shop.store, shopify_shop, shopify_shop.orders[placed.id]))
    if tamper:
        tamper(bodies)
    ids = [stored_delivery(account.id, body) for body in bodies]
    process_batch(ids)
    return [body["id"] for body in bodies]


def bucket(shop):
    return next(b for (client, domain), b in shop.store.buckets.items() if domain == SHOP)


def test_the_sandbox_charges_nodes_by_the_ids_asked_for(shop):
    from app.services.shopify_access import client_for
    from app.shopify.documents import load_document

    account = connected_account(shop)
    client = client_for(account)
    ids = [f"gid://shopify/Order/{n}" for n in range(1, CONFIRM_BATCH + 1)]
    client.execute(load_document("orders_confirm"), {"ids": ids, "lineItemsFirst": 5})
    # What the offline estimator (checked against Shopify's schema) says, not one order's worth.
    assert client.last_cost["requestedQueryCost"] == CONFIRM_BATCH * ORDER_CONFIRM_COST


def test_confirmation_corrects_what_the_body_got_wrong_in_few_queries(shop, app, monkeypatch):
    record_jobs(app, monkeypatch)  # the confirmer a batch queues is recorded, not run
    account = connected_account(shop)

    def tamper(bodies):
        bodies[3]["email"] = "wrong@example.com"
        bodies[5]["total_price"] = bodies[5]["total_price_set"]["shop_money"]["amount"] = "0.01"

    order_ids = place_and_store(shop, account, 30, tamper)
    assert db.session.scalar(select(Order.email).where(Order.shopify_order_id == order_ids[3])) == "wrong@example.com"

    result = confirm_pending(account.id, "test")

    db.session.expire_all()
    assert (result.confirmed, result.corrected, result.missing, result.throttled) == (30, 2, 0, 0)
    assert result.queries <= 1 + -(-29 // CONFIRM_BATCH)
    assert db.session.scalar(select(Order.email).where(Order.shopify_order_id == order_ids[3])) == "buyer3@example.com"
    assert db.session.scalar(select(Order.total_price).where(Order.shopify_order_id == order_ids[5])) > 1
    assert count(OrderConfirmation) == 0
    assert confirm_pending(account.id, "test").queries == 0  # nothing left: no call


def test_a_small_bucket_is_never_overdrawn_and_the_pace_is_the_restore_rate(shop, app, monkeypatch):
    record_jobs(app, monkeypatch)  # the confirmer a batch queues is recorded, not run
    account = connected_account(shop)
    place_and_store(shop, account, 40)
    # A bucket of 300 points (4 orders' requested cost) restoring 100/s.
    key = next(iter(shop.store.buckets), None) or (shop.client_id, SHOP)
    shop.store.buckets[key] = small = Bucket(300, 100.0, shop.sandbox.clock.now())
    small.available = 0  # and empty to start with
    started = shop.sandbox.clock.now()

    result = confirm_pending(account.id, "test")

    elapsed = shop.sandbox.clock.now() - started
    assert small.refused == 0 and result.throttled == 0
    assert result.confirmed == 40 and count(OrderConfirmation) == 0
    assert elapsed <= result.points / 100.0 * 1.2 + ORDER_CONFIRM_COST / 100.0


def test_another_confirmer_of_the_shop_waits_its_turn(shop, app, monkeypatch):
    from app.services.order_confirm import take_lease

    record_jobs(app, monkeypatch)  # the confirmer a batch queues is recorded, not run
    account = connected_account(shop)
    place_and_store(shop, account, 2)
    assert take_lease(account.id, "first") is not None
    assert confirm_pending(account.id, "second") is None
    assert count(OrderConfirmation) == 2


def test_a_worker_starts_its_dispatcher_and_confirmer_and_gives_forked_jobs_fresh_connections(_rq_app, monkeypatch):
    import app.queue.worker
    import app.queue.worker_threads

    started, hooks, worked = [], [], []
    monkeypatch.setattr(app.queue.worker_threads.Dispatcher, "start", lambda self: started.append("dispatcher"))
    monkeypatch.setattr(app.queue.worker_threads.Confirmer, "start", lambda self: started.append("confirmer"))
    monkeypatch.setattr("os.register_at_fork", lambda **kw: hooks.append(kw))
    # No Redis here: the worker's own loop is RQ's, under its supervisor.
    monkeypatch.setattr(app.queue.worker, "run_worker", lambda app, names, burst=False: worked.append(list(names)))
    monkeypatch.setitem(_rq_app.config, "WORKER_NICE", 0)  # the command runs in this process: leave its priority
    result = _rq_app.test_cli_runner().invoke(args=["jobs", "worker"])
    assert result.exit_code == 0, result.output
    assert started == ["dispatcher", "confirmer"] and [list(h) for h in hooks] == [["after_in_child"]]
    assert "intake" in worked[0]
    # A worker without the intake queue leaves dispatching to the others.
    started.clear()
    assert _rq_app.test_cli_runner().invoke(args=["jobs", "worker", "actions"]).exit_code == 0
    assert started == [] and worked[-1] == ["actions"]


def test_the_worker_threads_outlive_a_failed_pass(app, monkeypatch):
    from app.queue.worker_threads import Confirmer, Dispatcher

    def away(*args, **kwargs):
        raise ConnectionError("the database is restarting")

    monkeypatch.setattr("app.queue.worker_threads.dispatch_pending", away)
    monkeypatch.setattr("app.queue.worker_threads.confirm_all_pending", away)
    assert Dispatcher(app).run_once() == 0 and Confirmer(app).run_once() == 0
    monkeypatch.setattr("app.queue.worker_threads.dispatch_pending", lambda: 3)
    assert Dispatcher(app).run_once() == 3

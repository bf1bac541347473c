"""Items in flight on the old method (refundCreate, giftCardCreate, $0 draft orders) when Shopify
returns arrived finish on it, against the sandbox over real HTTP: each option lands in Shopify
exactly once under each return action, whatever is run twice, dropped, lagging or crashed (DESIGN
§5). New items are issued through Shopify returns (tests/integration/returns/)."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail, ReturnItem
from app.services import legacy_issuing as issuing
from app.services import return_workflow as wf
from jobs import actions
from tests.support.issuing import connected_account, issued_in_sandbox, make_decided_return, shipped_order
from tests.support.issuing import queued  # noqa: F401  (fixtures)

STAFF = "staff@example.com"


@pytest.fixture
def manual_account(app, sandbox):
    """An account under the Manual action, connected to a sandbox shop."""
    app.config["SHOPIFY_CLOCK"] = sandbox.clock
    yield connected_account(sandbox, "manual")
    app.config.pop("SHOPIFY_CLOCK", None)


def test_a_refund_is_issued_once_with_shopifys_amount(app, sandbox, manual_account, queued):
    order = shipped_order(manual_account, sandbox)
    ret = make_decided_return(manual_account, order, "refund")
    wf.close_return(ret, STAFF)
    assert queued.run() == ["issued", "issued"]
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "ISSUED" and item.shopify_refund_id
    placed = sandbox.store.get_order(manual_account.shop_domain, order.shopify_order_id)
    assert [Decimal(r.amount) / 100 for r in placed.refunds] == [item.issued_amount]
    # Shopify's figure: what was paid for the line (its tax in), never less.
    assert item.issued_amount >= order.lines[0].discounted_unit_price
    assert issued_in_sandbox(sandbox, manual_account)["refunds"] == 1


def test_a_credit_note_is_one_gift_card_and_its_code_is_mailed(app, sandbox, manual_account, queued):
    order = shipped_order(manual_account, sandbox)
    ret = make_decided_return(manual_account, order, "credit")
    wf.close_return(ret, STAFF)
    queued.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    code = issuing.gift_card_code(item.idempotency_key)
    assert item.resolution == "ISSUED" and item.gift_card_last_characters == code[-4:]
    assert item.issued_amount > 0
    assert issued_in_sandbox(sandbox, manual_account)["gift_cards"] == 1
    mails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.return_id == ret.id)).all()
    assert [m.to_address for m in mails if code in m.text_body] == [order.email]


def test_an_exchange_is_one_completed_draft_order_that_takes_stock(app, sandbox, manual_account, queued):
    order = shipped_order(manual_account, sandbox)
    wanted = order.product.in_stock[0]
    stock_before = sandbox.store.get_shop(manual_account.shop_domain).variants[wanted.id].inventory
    ret = make_decided_return(manual_account, order, "exchange", variant=wanted)
    wf.close_return(ret, STAFF)
    queued.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "ISSUED" and item.exchange_order_name and item.shopify_draft_order_id
    counts = issued_in_sandbox(sandbox, manual_account)
    assert (counts["draft_orders"], counts["completed_draft_orders"]) == (1, 1)
    assert sandbox.store.get_shop(manual_account.shop_domain).variants[wanted.id].inventory == stock_before - 1


def test_an_exchange_for_a_sold_out_variant_fails_in_words_and_can_switch(app, sandbox, manual_account, queued):
    order = shipped_order(manual_account, sandbox)
    sold_out = order.product.sold_out[0]
    ret = make_decided_return(manual_account, order, "exchange", variant=sold_out)
    wf.close_return(ret, STAFF)
    queued.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "FAILED" and "out of stock" in item.failure_reason
    assert issued_in_sandbox(sandbox, manual_account)["draft_orders"] == 0
    wf.decide_item(item, "credit", STAFF)
    item = db.session.get(ReturnItem, item.id)
    # Its first attempt produced nothing: decided again, it moves to a Shopify return.
    assert (item.resolution, item.issuing_method) == ("DECIDED", "returns")
    assert ("jobs.shopify_returns.plan_shopify_returns_job", (ret.id,)) in queued.other
    assert queued.issue == []


def test_an_item_already_refunded_in_shopify_fails_with_the_reason(app, sandbox, manual_account, queued):
    order = shipped_order(manual_account, sandbox)
    sandbox.store.update_order(manual_account.shop_domain, order.shopify_order_id, refund_line=0, emit=False)
    ret = make_decided_return(manual_account, order, "refund")
    wf.close_return(ret, STAFF)
    queued.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "FAILED" and "refund" in item.failure_reason.lower()
    assert issued_in_sandbox(sandbox, manual_account)["refunds"] == 0


@pytest.mark.parametrize("action, step", [("processing", "process"), ("manual", "close")])
def test_each_staff_action_issues_at_its_moment(app, sandbox, queued, action, step):
    app.config["SHOPIFY_CLOCK"] = sandbox.clock
    account = connected_account(sandbox, action)
    ret = make_decided_return(account, shipped_order(account, sandbox), "refund")
    wf.mark_received(ret, STAFF)
    assert queued.issue == []
    (wf.process_return if step == "process" else wf.close_return)(ret, STAFF)
    queued.run()
    assert issued_in_sandbox(sandbox, account)["refunds"] == 1


def test_first_scan_refunds_without_restock_then_restocks_on_receipt(app, sandbox, queued):
    app.config["SHOPIFY_CLOCK"] = sandbox.clock
    account = connected_account(sandbox, "first_scan")
    order = shipped_order(account, sandbox)
    variant_id = order.lines[0].variant_id
    variants = sandbox.store.get_shop(account.shop_domain).variants
    stock = variants[variant_id].inventory
    ret = make_decided_return(account, order, "refund")
    wf.move_return(ret, "IN_TRANSIT", "tracking:generic")
    queued.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "ISSUED" and item.restock_state == "PENDING"
    assert variants[variant_id].inventory == stock            # still travelling
    wf.mark_received(ret, STAFF)
    queued.run()                                           # the restock job, twice
    item = db.session.get(ReturnItem, item.id)
    assert item.restock_state == "DONE" and variants[variant_id].inventory == stock + 1
    assert issued_in_sandbox(sandbox, account)["refunds"] == 1


def test_a_return_closed_straight_from_open_issues_under_first_scan(app, sandbox, queued):
    app.config["SHOPIFY_CLOCK"] = sandbox.clock
    account = connected_account(sandbox, "first_scan")
    ret = make_decided_return(account, shipped_order(account, sandbox), "refund")
    wf.close_return(ret, STAFF)
    queued.run()
    assert issued_in_sandbox(sandbox, account)["refunds"] == 1


def test_a_second_worker_leaves_an_item_being_issued_alone(app, sandbox, manual_account, queued):
    ret = make_decided_return(manual_account, shipped_order(manual_account, sandbox), "refund")
    wf.close_return(ret, STAFF)
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert issuing._claim(item.id, reconcile=False)              # worker A holds the lease
    assert issuing.issue_item(item.id) == "in progress"       # worker B does nothing
    assert issued_in_sandbox(sandbox, manual_account)["refunds"] == 0


@pytest.mark.parametrize("option", ["refund", "credit", "exchange"])
def test_a_lost_answer_is_found_not_repeated(app, sandbox, manual_account, queued, option):
    """"Apply the mutation, then drop the response", with search lagging behind writes: the
    retry after the lease finds the effect instead of making a second one."""
    order = shipped_order(manual_account, sandbox)
    variant = order.product.in_stock[0] if option == "exchange" else None
    ret = make_decided_return(manual_account, order, option, variant=variant)
    wf.close_return(ret, STAFF)
    item_id = queued.issue[0]
    sandbox.store.set_faults(manual_account.shop_domain, drop_response_after_mutation=1.0, search_lag_seconds=30)
    with pytest.raises(Exception):  # noqa: B017 - whatever the dropped answer raises; what follows is the test
        issuing.issue_item(item_id)
    db.session.expire_all()
    assert db.session.get(ReturnItem, item_id).resolution == "ISSUING"
    sandbox.store.set_faults(manual_account.shop_domain, drop_response_after_mutation=0.0)
    assert issuing.issue_item(item_id) == "in progress"       # inside the lease: hands off
    app.config["ISSUE_LEASE_SECONDS"] = 0
    sandbox.clock.advance(31)                                 # the lease outlasts search lag
    try:
        for _ in range(3):
            issuing.issue_item(item_id)
    finally:
        app.config["ISSUE_LEASE_SECONDS"] = 120
    db.session.expire_all()
    assert db.session.get(ReturnItem, item_id).resolution == "ISSUED"
    counts = issued_in_sandbox(sandbox, manual_account)
    assert {"refund": counts["refunds"], "credit": counts["gift_cards"],
            "exchange": counts["completed_draft_orders"]}[option] == 1
    assert counts["draft_orders"] == (1 if option == "exchange" else 0)


@pytest.mark.parametrize("option", ["refund", "credit", "exchange"])
def test_a_worker_killed_after_shopify_answered_is_reconciled(app, sandbox, manual_account, queued, monkeypatch,
                                                              option):
    order = shipped_order(manual_account, sandbox)
    variant = order.product.in_stock[0] if option == "exchange" else None
    ret = make_decided_return(manual_account, order, option, variant=variant)
    wf.close_return(ret, STAFF)
    item_id = queued.issue[0]

    def killed(*args, **kwargs):
        raise SystemExit("worker killed before the commit")

    with monkeypatch.context() as patched:
        patched.setattr(issuing, "_record", killed)
        with pytest.raises(SystemExit):
            issuing.issue_item(item_id)
    db.session.rollback()
    app.config["ISSUE_LEASE_SECONDS"] = 0
    sandbox.clock.advance(60)
    try:
        assert issuing.issue_item(item_id) == "issued"
        issuing.issue_item(item_id)
    finally:
        app.config["ISSUE_LEASE_SECONDS"] = 120
    counts = issued_in_sandbox(sandbox, manual_account)
    assert {"refund": counts["refunds"], "credit": counts["gift_cards"],
            "exchange": counts["completed_draft_orders"]}[option] == 1


def test_an_order_shopify_no_longer_shows_fails_in_words(app, sandbox, manual_account, queued):
    order = shipped_order(manual_account, sandbox)
    limited = sandbox.store.create_app(manual_account.shop_domain,
                                       scopes=["read_orders", "write_orders", "read_products"])
    from app.crypto import encrypt_secret

    manual_account.access_token_encrypted = encrypt_secret(
        sandbox.store.issue_admin_token(manual_account.shop_domain, limited.client_id).token)
    db.session.commit()
    sandbox.clock.advance(61 * 86400)                         # the order is now past 60 days
    ret = make_decided_return(manual_account, order, "refund")
    wf.close_return(ret, STAFF)
    queued.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "FAILED" and "read_all_orders" in item.failure_reason
    assert issued_in_sandbox(sandbox, manual_account)["refunds"] == 0


def test_the_sweeper_requeues_what_a_lost_enqueue_left(app, sandbox, manual_account, queued):
    from datetime import datetime, timedelta, timezone

    ret = make_decided_return(manual_account, shipped_order(manual_account, sandbox), "refund")
    wf.close_return(ret, STAFF)
    queued.issue.clear()                                   # the enqueue was lost
    assert actions.sweep_issuing_job() == 0                       # a fresh queue gets its time
    ret.action_triggered_at = datetime.now(timezone.utc) - timedelta(minutes=10)
    db.session.commit()
    assert actions.sweep_issuing_job() == 1
    queued.run()
    assert issued_in_sandbox(sandbox, manual_account)["refunds"] == 1
    assert actions.sweep_issuing_job() == 0


def test_a_signed_first_scan_delivered_five_times_refunds_once(app, sandbox, client, queued):
    from tests.support.tracking import connect, send_generic

    app.config["SHOPIFY_CLOCK"] = sandbox.clock
    account = connected_account(sandbox, "first_scan")
    ret = make_decided_return(account, shipped_order(account, sandbox), "refund")
    ret.tracking_number = "1Z999AA10123456784"
    db.session.commit()
    carrier = connect(account, "generic")
    for _ in range(5):
        assert send_generic(client, carrier, ret.tracking_number, "in_transit").status_code == 200
    assert len(queued.issue) == 1                          # the action fired once
    queued.run(times=5)
    db.session.expire_all()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "ISSUED" and item.return_.status == "IN_TRANSIT"
    assert issued_in_sandbox(sandbox, account)["refunds"] == 1


def test_two_workers_issuing_the_same_item_at_once_make_one_refund(e2e_app, sandbox):
    """Two threads, each with its own app context and database connection, race on one item."""
    import threading
    from datetime import datetime, timezone

    e2e_app.config["SHOPIFY_CLOCK"] = sandbox.clock
    try:
        with e2e_app.app_context():
            account = connected_account(sandbox, "manual")
            ret = make_decided_return(account, shipped_order(account, sandbox), "refund")
            ret.status, ret.action_triggered_at = "CLOSED", datetime.now(timezone.utc)
            db.session.commit()
            item_id, domain = ret.items[0].id, account.shop_domain
            db.session.remove()
        start, results = threading.Barrier(2), []

        def worker():
            with e2e_app.app_context():
                start.wait()
                results.append(issuing.issue_item(item_id))
                db.session.remove()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(results) in (["in progress", "issued"], ["issued", "issued"])
        assert issued_in_sandbox(sandbox, domain)["refunds"] == 1
        with e2e_app.app_context():
            assert db.session.get(ReturnItem, item_id).resolution == "ISSUED"
    finally:
        e2e_app.config.pop("SHOPIFY_CLOCK", None)


@pytest.mark.parametrize("option", ["refund", "exchange"])
def test_a_write_elsewhere_while_shopify_answers_does_not_fail_the_issue(e2e_app, sandbox, monkeypatch, option):
    """While the issuer waits on Shopify, another connection commits (a request, another job).
    On SQLite a transaction that began by reading cannot then write once another connection has
    committed; the issuer's writes after a Shopify call must not depend on that luck (they did:
    two workers racing on one item left it ISSUING, the winner's write refused)."""
    from datetime import datetime, timezone

    from sqlalchemy import text

    e2e_app.config["SHOPIFY_CLOCK"] = sandbox.clock
    try:
        with e2e_app.app_context():
            account = connected_account(sandbox, "manual")
            order = shipped_order(account, sandbox)
            ret = make_decided_return(account, order, option, variant=order.product.in_stock[0])
            ret.status, ret.action_triggered_at = "CLOSED", datetime.now(timezone.utc)
            db.session.commit()
            item_id, domain, account_id = ret.items[0].id, account.shop_domain, account.id
            db.session.remove()
        meddled = []

        def commit_elsewhere(original):
            def call(*args, **kwargs):
                with db.engine.begin() as other:  # its own connection, committed before Shopify answers
                    other.execute(text("UPDATE accounts SET name = :name WHERE id = :id"),
                                  {"name": f"Renamed {len(meddled)}", "id": account_id})
                meddled.append(original.__name__)
                return original(*args, **kwargs)
            return call

        for name in ("suggest_refund", "create_exchange_draft", "send_refund", "complete_draft_order"):
            monkeypatch.setattr(issuing.shopify, name, commit_elsewhere(getattr(issuing.shopify, name)))
        with e2e_app.app_context():
            assert issuing.issue_item(item_id) == "issued"
            db.session.remove()
        assert meddled
        kind = "refunds" if option == "refund" else "completed_draft_orders"
        assert issued_in_sandbox(sandbox, domain)[kind] == 1
        with e2e_app.app_context():
            assert db.session.get(ReturnItem, item_id).resolution == "ISSUED"
    finally:
        e2e_app.config.pop("SHOPIFY_CLOCK", None)

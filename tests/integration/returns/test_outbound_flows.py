"""Each outbound webhook topic from a real flow against the sandbox: a reviewed return submitted,
approved, closed and its item issued reaches a receiver on 127.0.0.1 as return.created,
return.status_changed (twice), return.closed and item.issued — signed, each with the return as it
was at that moment, money as exact decimal strings."""
import time
from decimal import Decimal

from app.extensions import db
from app.models import OutboundDelivery, Return
from app.services import outbound_webhooks as hooks
from app.services import return_review as review
from app.services import return_workflow as wf
from app.services.milestones import Milestone
from tests.support.outbound import outbound_clock, receiver, verify  # noqa: F401  (fixtures)
from tests.support.shopify_returns import placed_order, returns_account, submit

STAFF = "staff@example.com"


def test_each_topic_of_a_real_flow_reaches_the_receiver_signed_with_the_return_of_that_moment(
        app, sandbox, jobs, virtual_clock, receiver):
    account = returns_account(sandbox, "manual", review_mode="all")
    _, secret = hooks.create_endpoint(account, receiver.url, list(hooks.TOPICS))
    _, closed_only_secret = hooks.create_endpoint(account, receiver.url + "/closed", [Milestone.CLOSED])
    ret = submit(account, placed_order(account, sandbox), [(0, 1, "refund", None)])
    jobs.run()
    review.approve(account.id, ret.id, STAFF)
    jobs.run()
    wf.close_return(db.session.get(Return, ret.id), STAFF)
    jobs.run()
    got = [r for r in receiver.received if r.path == "/hooks"]
    assert [r.topic for r in got] == [Milestone.CREATED, Milestone.STATUS_CHANGED, Milestone.STATUS_CHANGED,
                                      Milestone.CLOSED, Milestone.ITEM_ISSUED]
    assert [r.topic for r in receiver.received if r.path == "/hooks/closed"] == [Milestone.CLOSED]
    assert all(verify(secret, r, now=time.time()) for r in got)
    assert all(not verify(closed_only_secret, r, now=time.time()) for r in got)
    created, approved, closing, closed, issued = (r.json for r in got)
    stored = db.session.get(Return, ret.id)
    item = stored.items[0]
    assert created["return"]["status"] == "REQUESTED" and created["return"]["rma"] == stored.rma_number
    assert created["return"]["order_name"] == stored.order_name
    assert created["return"]["shopify_order_id"] == stored.shopify_order_id
    assert created["shop"] == {"id": account.id, "name": account.name, "domain": account.shop_domain}
    assert (approved["previous_status"], approved["status"]) == ("REQUESTED", "OPEN")
    assert (closing["previous_status"], closing["status"]) == ("OPEN", "CLOSED")
    assert closed["return"]["status"] == "CLOSED"
    line = created["return"]["items"][0]
    assert line["issued_amount"] is None and line["option"] == "refund" and line["quantity"] == 1
    assert Decimal(line["value"]) == item.unit_value * item.quantity and isinstance(line["value"], str)
    assert issued["item"]["id"] == item.id and issued["item"]["option"] == "refund"
    assert issued["item"]["issued_amount"] == format(item.issued_amount, "f") and item.issued_amount > 0
    assert issued["return"]["currency"] == stored.currency
    assert len({r.headers["X-Boomerang-Event-Id"] for r in receiver.received}) == len(receiver.received)
    rows = db.session.query(OutboundDelivery).filter_by(account_id=account.id).all()
    assert {r.state for r in rows} == {"delivered"} and {r.attempts for r in rows} == {1}  # each job ran twice


def test_a_declined_return_is_a_status_change_and_a_disabled_endpoint_hears_nothing(app, sandbox, jobs,
                                                                                   virtual_clock, receiver):
    account = returns_account(sandbox, "manual", review_mode="all")
    endpoint, _ = hooks.create_endpoint(account, receiver.url, [Milestone.STATUS_CHANGED])
    off, _ = hooks.create_endpoint(account, receiver.url + "/off", list(hooks.TOPICS))
    hooks.set_enabled(off, False)
    ret = submit(account, placed_order(account, sandbox), [(0, 1, "refund", None)])
    review.decline(account.id, ret.id, STAFF, "OTHER", "Not bought here.")
    jobs.run()
    assert [(r.path, r.json["previous_status"], r.json["status"]) for r in receiver.received] == [
        ("/hooks", "REQUESTED", "DECLINED")]

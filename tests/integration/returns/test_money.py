"""Honest money: no refund is reported paid when no money can move; pending refunds are followed
until final; a failed refund goes to staff with Shopify's reason; refunds made outside Shopify
are recorded, never sent; guests and classic customer accounts get gift cards; Shopify's gift card
cap is a clear reason; the shopper is told once."""
from datetime import timedelta
from decimal import Decimal

import pytest
import requests

from app.extensions import db
from app.models import OutboxEmail, ReturnItem
from app.portal.status import item_outcome
from app.services import return_settlement, return_workflow as wf
from app.domain.returns import ReturnRefused
from tests.support.shopify_returns import now, placed_order, returns_account, sandbox_returns, set_shop, submit

STAFF = "staff@example.com"


def issue(account, sandbox, jobs, option="refund", **order_kwargs):
    order = placed_order(account, sandbox, **order_kwargs)
    ret = submit(account, order, [(0, 1, option, None)])
    jobs.run()
    wf.close_return(ret, STAFF)
    jobs.run()
    return order, ret, db.session.get(ReturnItem, ret.items[0].id)


@pytest.mark.parametrize("payment", ["manual", "cod", "authorized"])
def test_a_refund_with_no_payment_to_return_it_to_goes_to_staff(app, sandbox, jobs, virtual_clock, payment):
    account = returns_account(sandbox, "manual")
    _order, ret, item = issue(account, sandbox, jobs, payment=payment)
    assert item.resolution == "FAILED" and "no payment to refund" in item.failure_reason
    assert item.refund_state is None and item.issued_amount is None
    held = sandbox_returns(sandbox, account)
    assert held["summary"]["return_refunds"] == 0 and held["summary"]["units_processed"] == 0
    assert item_outcome(item, ret.currency) == "The shop is sorting this item out and will be in touch."


def test_staff_record_a_refund_made_outside_shopify_and_the_return_is_recorded_without_money(
        app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    _order, ret, item = issue(account, sandbox, jobs, payment="cod")
    return_settlement.record_outside_refund(item, amount="25.00", method="Cash in the shop",
                                            paid_on=now() - timedelta(days=1), actor=STAFF)
    wf.queue_issuing(ret)
    jobs.run()
    item = db.session.get(ReturnItem, item.id)
    assert (item.resolution, item.refund_state, item.issued_amount) == ("ISSUED", "OUTSIDE", Decimal("25.00"))
    held = sandbox_returns(sandbox, account)
    assert held["summary"]["units_processed"] == 1 and held["summary"]["return_refunds"] == 0
    assert held["returns"][0]["status"] == "CLOSED"
    assert item_outcome(item, ret.currency) == "Refunded 25.00 USD by the shop"


@pytest.mark.parametrize("amount, method", [("0", "Cash"), ("-5", "Cash"), ("1e9", "Cash"), ("abc", "Cash"),
                                            ("25.00", ""), ("25.00", "x" * 121), ("NaN", "Cash")])
def test_a_bad_outside_refund_is_refused_and_changes_nothing(app, sandbox, jobs, virtual_clock, amount, method):
    account = returns_account(sandbox, "manual")
    _order, _ret, item = issue(account, sandbox, jobs, payment="manual")
    with pytest.raises(ReturnRefused):
        return_settlement.record_outside_refund(item, amount=amount, method=method, paid_on=now(), actor=STAFF)
    db.session.expire_all()
    assert db.session.get(ReturnItem, item.id).resolution == "FAILED"


def test_staff_switch_a_refund_with_no_payment_to_store_credit(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    _order, _ret, item = issue(account, sandbox, jobs, payment="manual")
    wf.decide_item(item, "credit", STAFF)
    jobs.run()
    item = db.session.get(ReturnItem, item.id)
    assert (item.resolution, item.credit_method) == ("ISSUED", "store_credit")
    assert Decimal(sandbox_returns(sandbox, account)["summary"]["store_credit_issued"]) == item.issued_amount


def test_a_pending_refund_shows_pending_and_is_followed_until_paid(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    set_shop(sandbox, account, refund_outcome="pending")
    _order, ret, item = issue(account, sandbox, jobs)
    assert (item.resolution, item.refund_state) == ("ISSUED", "PENDING")
    assert "sent to your payment provider" in item_outcome(item, ret.currency)
    assert return_settlement.follow_refunds() == 0  # still pending: nothing changes
    requests.post(f"{sandbox.url}/_sandbox/shops/{account.shop_domain}/refunds/{item.shopify_refund_id}/settle",
                  json={"status": "success"}, timeout=5).raise_for_status()
    assert return_settlement.follow_refunds() == 1
    assert db.session.get(ReturnItem, item.id).refund_state == "PAID"


def test_a_refund_that_fails_goes_to_staff_with_shopifys_reason_and_is_never_sent_again(
        app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    set_shop(sandbox, account, refund_outcome="failure")
    _order, ret, item = issue(account, sandbox, jobs)
    assert (item.resolution, item.refund_state) == ("FAILED", "FAILED")
    assert "could not refund the payment" in item.failure_reason
    with pytest.raises(Exception, match="already recorded this return"):
        wf.retry_item(item, STAFF)  # the units are processed: only an outside refund remains
    return_settlement.record_outside_refund(item, amount=str(ret.items[0].unit_value), method="Bank transfer",
                                            paid_on=now(), actor=STAFF)
    jobs.run()
    assert db.session.get(ReturnItem, item.id).resolution == "ISSUED"
    assert sandbox_returns(sandbox, account)["summary"]["return_process_calls"] == 1


def test_a_pending_refund_that_then_fails_goes_to_staff(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    set_shop(sandbox, account, refund_outcome="pending")
    _order, _ret, item = issue(account, sandbox, jobs)
    requests.post(f"{sandbox.url}/_sandbox/shops/{account.shop_domain}/refunds/{item.shopify_refund_id}/settle",
                  json={"status": "failure"}, timeout=5).raise_for_status()
    assert return_settlement.follow_refunds() == 1
    item = db.session.get(ReturnItem, item.id)
    assert (item.resolution, item.refund_state) == ("FAILED", "FAILED")


def test_a_guest_order_gets_a_gift_card_and_the_code_by_our_email(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", customer_accounts="new")
    _order, ret, item = issue(account, sandbox, jobs, option="credit", guest=True)
    assert (item.resolution, item.credit_method) == ("ISSUED", "gift_card")
    cards = sandbox.store.get_shop(account.shop_domain).issuing["gift_cards"]
    assert [c.customer_id for c in cards.values()] == [None]
    mails = db.session.query(OutboxEmail).filter_by(return_id=ret.id).all()
    code_mails = [m for m in mails
                  if (item.gift_card_last_characters or "????") in m.text_body and "code" in m.text_body]
    assert len(code_mails) == 1 and sandbox_returns(sandbox, account)["summary"]["gift_card_notifications"] == 0


def test_a_credit_over_shopifys_gift_card_cap_goes_to_staff_with_the_reason(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", customer_accounts="classic")
    set_shop(sandbox, account, gift_card_limit="10.00")
    account.gift_card_issue_limit = Decimal("10.00")  # read by the connect check
    db.session.commit()
    _order, _ret, item = issue(account, sandbox, jobs, option="credit")
    assert item.resolution == "FAILED" and "caps gift cards" in item.failure_reason
    assert sandbox.store.get_shop(account.shop_domain).issuing["gift_cards"] == {}


def test_shopify_refusing_a_gift_card_over_its_cap_is_shown_to_staff(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", customer_accounts="classic")
    set_shop(sandbox, account, gift_card_limit="10.00")  # our copy of the cap is out of date
    _order, _ret, item = issue(account, sandbox, jobs, option="credit")
    assert item.resolution == "FAILED" and item.failure_reason.startswith("Shopify refused")


def test_with_our_emails_the_shopper_gets_one_email_per_issue(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", issued_notice="email")
    _order, ret, item = issue(account, sandbox, jobs)
    mails = [m for m in db.session.query(OutboxEmail).filter_by(return_id=ret.id) if "issued" in m.subject]
    assert len(mails) == 1 and f"{item.issued_amount:.2f}" in mails[0].text_body
    jobs.queued.append(("jobs.shopify_returns.advance_shopify_return_job", (item.shopify_return_ref_id,)))
    jobs.run()
    assert len([m for m in db.session.query(OutboxEmail).filter_by(return_id=ret.id) if "issued" in m.subject]) == 1

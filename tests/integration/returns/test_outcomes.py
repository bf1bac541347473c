"""Every outcome under every return action ends in Shopify as it should: each returned unit in
exactly one live Shopify return line, processed once, disposed of as the settings say, with the
money staff and shopper were shown — counted by the sandbox itself, stock included."""
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import OutboxEmail, ReturnItem, ShopifyReturn
from app.portal.status import item_outcome
from app.services import return_workflow as wf
from tests.support.shopify_returns import placed_order, returns_account, sandbox_returns, stock, submit

STAFF = "staff@example.com"
ACTIONS = ["first_scan", "processing", "manual"]


def walk(ret, action: str, jobs) -> None:
    """The parcel's way back under each action, jobs run (twice each) after every step."""
    if action == "first_scan":
        wf.move_return(ret, "IN_TRANSIT", "carrier")
        jobs.run()
        wf.mark_received(ret, STAFF)
        jobs.run()
    elif action == "processing":
        wf.mark_received(ret, STAFF)
        wf.process_return(ret, STAFF)
        jobs.run()
    wf.close_return(ret, STAFF)
    jobs.run()


def only_return(sandbox, account) -> dict:
    held = sandbox_returns(sandbox, account)
    live = [r for r in held["returns"] if r["status"] != "CANCELED"]
    assert len(live) == 1, held
    return {**live[0], "summary": held["summary"]}


def assert_units_once(shopify_return: dict, order, quantity: int) -> None:
    """Every returned unit of line 0 in exactly one line, processed once."""
    line_id = order.lines[0].shopify_line_id
    lines = [ln for ln in shopify_return["lines"] if ln["line_id"] == line_id]
    assert sum(ln["quantity"] for ln in lines) == quantity
    assert sum(ln["processed"] for ln in lines) == quantity
    assert shopify_return["summary"]["return_process_calls"] == 1
    assert shopify_return["status"] == "CLOSED"


@pytest.mark.parametrize("action", ACTIONS)
def test_a_refund_is_paid_once_and_the_unit_restocked(app, sandbox, jobs, virtual_clock, action):
    account = returns_account(sandbox, action)
    order = placed_order(account, sandbox, quantity=2)
    bought = order.products[0].bought.id
    before = stock(sandbox, account, bought)
    ret = submit(account, order, [(0, 2, "refund", None)])
    jobs.run()
    walk(ret, action, jobs)
    held = only_return(sandbox, account)
    assert_units_once(held, order, 2)
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert (item.resolution, item.refund_state) == ("ISSUED", "PAID")
    assert [Decimal(r["amount"]) for r in held["refunds"]] == [item.issued_amount]
    assert item.issued_amount == order.lines[0].discounted_unit_price * 2  # untaxed order: what was paid
    assert item_outcome(item, ret.currency).startswith(f"Refunded {item.issued_amount}")
    assert held["summary"]["dispositions"]["RESTOCKED"] == 2
    assert stock(sandbox, account, bought) == before + 2


def credit_note_returned(sandbox, jobs, action: str, customer_accounts: str):
    """One unit returned for a credit note and walked through ``action``: the account, the
    Shopify return as held, the item, and whether the unit went back to stock."""
    account = returns_account(sandbox, action, customer_accounts=customer_accounts)
    order = placed_order(account, sandbox)
    bought = order.products[0].bought.id
    before = stock(sandbox, account, bought)
    ret = submit(account, order, [(0, 1, "credit", None)])
    jobs.run()
    walk(ret, action, jobs)
    held = only_return(sandbox, account)
    assert_units_once(held, order, 1)
    restocked = stock(sandbox, account, bought) == before + 1
    return account, order, held, db.session.get(ReturnItem, ret.items[0].id), restocked


@pytest.mark.parametrize("action", ACTIONS)
def test_a_credit_note_is_store_credit_where_the_shop_has_new_customer_accounts(app, sandbox, jobs,
                                                                                 virtual_clock, action):
    account, order, held, item, restocked = credit_note_returned(sandbox, jobs, action, "new")
    assert (item.resolution, item.credit_method) == ("ISSUED", "store_credit")
    assert Decimal(held["summary"]["store_credit_issued"]) == item.issued_amount == order.lines[0].discounted_unit_price
    assert [r["transaction_status"] for r in held["refunds"]] == [None]  # no money to a card
    assert restocked
    assert sandbox_returns(sandbox, account)["summary"]["gift_card_notifications"] == 0


@pytest.mark.parametrize("action", ACTIONS)
def test_a_credit_note_is_a_gift_card_on_classic_customer_accounts(app, sandbox, jobs, virtual_clock, action):
    account, order, held, item, restocked = credit_note_returned(sandbox, jobs, action, "classic")
    assert (item.resolution, item.credit_method) == ("ISSUED", "gift_card")
    issued = sandbox.store.get_shop(account.shop_domain).issuing["gift_cards"]
    assert [Decimal(c.initial) / 100 for c in issued.values()] == [item.issued_amount]
    assert held["refunds"] == [] and held["summary"]["store_credit_issued"] == "0.00"
    # Shopify tells the customer of a card that is theirs; one message, never ours as well.
    assert held["summary"]["gift_card_notifications"] == 1
    assert db.session.query(OutboxEmail).filter(OutboxEmail.subject.contains("issued")).count() == 0
    assert restocked


@pytest.mark.parametrize("action", ACTIONS)
def test_an_exchange_is_a_shopify_exchange_that_nets_to_zero(app, sandbox, jobs, virtual_clock, action):
    account = returns_account(sandbox, action)
    order = placed_order(account, sandbox)
    product = order.products[0]
    wanted = product.in_stock[0]
    bought_before, wanted_before = stock(sandbox, account, product.bought.id), stock(sandbox, account, wanted.id)
    ret = submit(account, order, [(0, 1, "exchange", wanted)])
    jobs.run()
    walk(ret, action, jobs)
    held = only_return(sandbox, account)
    assert_units_once(held, order, 1)
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "ISSUED" and item.exchange_order_name == order.name
    assert [(x["variant_id"], x["quantity"], x["processed"], x["held"]) for x in held["exchanges"]] == [
        (wanted.id, 1, 1, False)]   # an even exchange is not held for payment
    assert held["refunds"] == []    # it costs the shopper nothing and pays nothing back
    assert stock(sandbox, account, product.bought.id) == bought_before + 1
    assert stock(sandbox, account, wanted.id) == wanted_before - 1


def test_units_are_not_restocked_when_the_retailer_says_so(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", restock_returned_units=False)
    order = placed_order(account, sandbox)
    bought = order.products[0].bought.id
    before = stock(sandbox, account, bought)
    ret = submit(account, order, [(0, 1, "credit", None)])
    jobs.run()
    walk(ret, "manual", jobs)
    held = only_return(sandbox, account)
    assert held["summary"]["dispositions"] == {"RESTOCKED": 0, "NOT_RESTOCKED": 1, "MISSING": 0,
                                               "PROCESSING_REQUIRED": 0}
    assert stock(sandbox, account, bought) == before


def test_first_scan_moves_money_while_the_parcel_travels_and_restocks_at_receipt(app, sandbox, jobs,
                                                                                  virtual_clock):
    account = returns_account(sandbox, "first_scan")
    order = placed_order(account, sandbox)
    bought = order.products[0].bought.id
    before = stock(sandbox, account, bought)
    ret = submit(account, order, [(0, 1, "refund", None)])
    jobs.run()
    wf.move_return(ret, "IN_TRANSIT", "carrier")
    jobs.run()
    held = only_return(sandbox, account)
    assert held["lines"][0]["processed"] == 1 and held["lines"][0]["dispositions"] == []
    assert len(held["refunds"]) == 1 and stock(sandbox, account, bought) == before
    assert db.session.get(ReturnItem, ret.items[0].id).restock_state == "PENDING"
    wf.mark_received(ret, STAFF)
    jobs.run()
    held = only_return(sandbox, account)
    assert held["lines"][0]["dispositions"][0]["type"] == "RESTOCKED" and stock(sandbox, account, bought) == before + 1
    assert held["status"] == "OPEN"  # closed only when Boomerang closes the return
    assert db.session.get(ReturnItem, ret.items[0].id).restock_state == "DONE"


def test_three_items_of_one_return_are_one_shopify_return_processed_in_one_call(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox, lines=3)
    ret = submit(account, order, [(0, 1, "refund", None), (1, 1, "credit", None),
                                  (2, 1, "exchange", order.products[2].in_stock[0])])
    jobs.run()
    walk(ret, "manual", jobs)
    held = only_return(sandbox, account)
    assert len(held["lines"]) == 3 and all(ln["processed"] == 1 for ln in held["lines"])
    assert held["summary"]["return_process_calls"] == 1
    assert [i.resolution for i in db.session.query(ReturnItem).filter_by(return_id=ret.id)] == ["ISSUED"] * 3
    assert db.session.query(ShopifyReturn).filter_by(return_id=ret.id).count() == 1


def test_a_refund_and_a_store_credit_in_one_round_are_each_their_items_value(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", customer_accounts="new")
    order = placed_order(account, sandbox, lines=2)
    ret = submit(account, order, [(0, 1, "refund", None), (1, 1, "credit", None)])
    jobs.run()
    walk(ret, "manual", jobs)
    held = only_return(sandbox, account)
    refund_item, credit_item = sorted(db.session.query(ReturnItem).filter_by(return_id=ret.id), key=lambda i: i.id)
    paid = {line.id: line.discounted_unit_price for line in order.lines}
    assert refund_item.issued_amount == paid[refund_item.order_line_id]
    assert credit_item.issued_amount == paid[credit_item.order_line_id]
    (refund,) = held["refunds"]  # one Shopify refund: part to the card, part as store credit
    assert Decimal(refund["store_credit"]) == credit_item.issued_amount
    assert Decimal(refund["amount"]) == refund_item.issued_amount + credit_item.issued_amount
    assert held["summary"]["return_process_calls"] == 1

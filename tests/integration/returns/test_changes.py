"""Returns that change under way: an exchange decided after the Shopify return exists, a failed
exchange switched to a refund, a unit the merchant returned in Shopify first, cancellations before
and after any work. Each ends with every unit in exactly one live Shopify return line."""
import pytest
import requests

from app.extensions import db
from app.models import Order, ReturnItem, ShopifyReturn
from app.services import return_workflow as wf
from app.services import shopify_returns
from app.domain.returns import ReturnRefused, TransitionRefused
from tests.support.shopify_returns import (placed_order, returns_account, sandbox_returns, stock, submit)

STAFF = "staff@example.com"


def live_lines(sandbox, account) -> list[dict]:
    held = sandbox_returns(sandbox, account)
    return [ln for r in held["returns"] if r["status"] != "CANCELED" for ln in r["lines"] if ln["quantity"]]


def test_an_exchange_decided_after_creation_moves_to_a_new_shopify_return(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", option_mode="rules")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, None, None)])
    jobs.run()  # no rule matched: the unit sits in Shopify return R1, undecided
    assert [r["name"] for r in sandbox_returns(sandbox, account)["returns"]] == [f"{order.name}-R1"]
    wanted = order.products[0].in_stock[0]
    bought = order.products[0].bought.id
    before, bought_before = stock(sandbox, account, wanted.id), stock(sandbox, account, bought)
    wf.decide_item(ret.items[0], "exchange", STAFF, variant_id=wanted.id, variant_title=wanted.title)
    jobs.run()
    held = sandbox_returns(sandbox, account)
    first, second = held["returns"]
    assert first["lines"] == [] or all(ln["quantity"] == 0 for ln in first["lines"])  # the unit left R1
    assert [(ln["quantity"], ln["processed"]) for ln in second["lines"]] == [(1, 0)]
    assert [(x["variant_id"], x["quantity"]) for x in second["exchanges"]] == [(wanted.id, 1)]
    wf.close_return(ret, STAFF)
    jobs.run()
    assert len(live_lines(sandbox, account)) == 1
    assert sandbox_returns(sandbox, account)["summary"]["exchange_units_processed"] == 1
    assert stock(sandbox, account, wanted.id) == before - 1
    assert stock(sandbox, account, bought) == bought_before + 1
    assert db.session.get(ReturnItem, ret.items[0].id).resolution == "ISSUED"


def test_a_failed_exchange_switched_to_a_refund_drops_its_exchange_line_first(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    wanted = order.products[0].in_stock[0]
    bought = order.products[0].bought.id
    bought_before = stock(sandbox, account, bought)
    ret = submit(account, order, [(0, 1, "exchange", wanted)])
    jobs.run()
    sandbox.store.get_shop(account.shop_domain).variants[wanted.id].inventory = 0  # sold out meanwhile
    wf.close_return(ret, STAFF)
    jobs.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "FAILED" and "out of stock" in item.failure_reason
    assert sandbox_returns(sandbox, account)["summary"]["return_process_calls"] == 0  # nothing moved
    wf.decide_item(item, "refund", STAFF)
    jobs.run()
    held = sandbox_returns(sandbox, account)
    assert held["returns"][0]["exchanges"] == [] or all(x["quantity"] == 0 for x in held["returns"][0]["exchanges"])
    assert held["summary"]["return_refunds"] == 1 and held["summary"]["exchange_units_processed"] == 0
    assert db.session.get(ReturnItem, item.id).resolution == "ISSUED"
    assert stock(sandbox, account, wanted.id) == 0 and stock(sandbox, account, bought) == bought_before + 1


def test_a_unit_the_merchant_returned_in_shopify_first_cannot_be_returned_again(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    line = order.lines[0]
    made = requests.post(f"{sandbox.url}/_sandbox/shops/{account.shop_domain}/orders/{order.shopify_order_id}/returns",
                         json={"lines": [{"line_id": line.shopify_line_id, "quantity": 1}]}, timeout=5)
    assert made.status_code in (200, 201), made.text
    # The portal reads Shopify's returnable units fresh at submission: nothing is left.
    assert shopify_returns.refresh_returnable_now(account, db.session.get(Order, order.id)) is True
    with pytest.raises(ReturnRefused, match="already"):
        submit(account, order, [(0, 1, "refund", None)])
    assert sandbox_returns(sandbox, account)["summary"]["returns_created"] == 1  # the merchant's only


def test_a_merchant_return_made_after_submission_sends_the_item_to_staff(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])  # queued, not yet in Shopify
    requests.post(f"{sandbox.url}/_sandbox/shops/{account.shop_domain}/orders/{order.shopify_order_id}/returns",
                  json={"lines": [{"line_id": order.lines[0].shopify_line_id, "quantity": 1}]},
                  timeout=5).raise_for_status()
    jobs.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "FAILED" and "returnable" in item.failure_reason
    assert sandbox_returns(sandbox, account)["summary"]["returns_created"] == 1


def test_a_return_made_in_shopify_is_stored_from_its_webhook(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    requests.post(f"{sandbox.url}/_sandbox/shops/{account.shop_domain}/orders/{order.shopify_order_id}/returns",
                  json={"lines": [{"line_id": order.lines[0].shopify_line_id, "quantity": 1}]},
                  timeout=5).raise_for_status()
    assert shopify_returns.refresh_order_returns(account, order.shopify_order_id) == 1
    stored = db.session.query(ShopifyReturn).filter_by(made_in_shopify=True).one()
    assert stored.name == f"{order.name}-R1" and stored.lines[0]["quantity"] == 1
    assert db.session.get(Order, order.id).lines[0].returnable_quantity == 0


def test_cancelling_before_any_work_cancels_the_shopify_return_and_frees_the_units(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])
    jobs.run()
    wf.cancel_return(ret, STAFF)
    jobs.run()
    held = sandbox_returns(sandbox, account)
    assert held["summary"]["returns_canceled"] == 1 and live_lines(sandbox, account) == []
    assert db.session.query(ShopifyReturn).filter_by(return_id=ret.id).one().status == "CANCELED"
    again = submit(account, db.session.get(Order, order.id), [(0, 1, "refund", None)])  # returnable again
    jobs.run()
    assert len(live_lines(sandbox, account)) == 1 and again.id != ret.id


def test_a_return_processed_in_shopify_cannot_be_cancelled(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "first_scan")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])
    jobs.run()
    wf.move_return(ret, "IN_TRANSIT", "carrier")
    jobs.run()
    with pytest.raises(TransitionRefused):
        wf.cancel_return(ret, STAFF)
    assert sandbox_returns(sandbox, account)["summary"]["returns_canceled"] == 0


def test_a_long_customer_note_is_cut_to_shopifys_255_characters_with_the_rma_first(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual")
    order = placed_order(account, sandbox)
    ret = submit(account, order, [(0, 1, "refund", None)])
    db.session.get(ReturnItem, ret.items[0].id).note = "Ü" * 500
    db.session.commit()
    jobs.run()
    note = sandbox_returns(sandbox, account)["returns"][0]["lines"][0]["note"]
    assert len(note) <= 255 and note.startswith(ret.rma_number + " ")

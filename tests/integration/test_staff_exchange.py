"""Staff decide an exchange by hand: the variants are the product's other in-stock ones, read
live from Shopify (the sandbox); anything else posted is refused and nothing changes."""
import re

import pytest

from app.extensions import db
from app.models import Account, ReturnItem
from tests.factories import make_user
from tests.fixtures.auth import log_in
from tests.support.confirm import confirmed
from tests.support.issuing import connected_account, make_decided_return, shipped_order
from tests.support.shopify_returns import record_jobs, sandbox_returns

HX = {"HX-Request": "true"}


@pytest.fixture
def undecided(app, client, sandbox):
    """A return whose one item nothing automated, in a store connected to the sandbox, with
    staff logged in."""
    app.config["SHOPIFY_CLOCK"] = sandbox.clock
    account = connected_account(sandbox, "manual")
    make_user(account, role="staff", email="staff@example.com")
    order = shipped_order(account, sandbox)
    ret = make_decided_return(account, order, option=None)
    ret.items[0].resolution = "NO_ACTION"
    db.session.commit()
    log_in(client, "staff@example.com")
    yield ret, order.product
    app.config.pop("SHOPIFY_CLOCK", None)


def picker_url(ret):
    return f"/dashboard/returns/{ret.id}/items/{ret.items[0].id}/exchange"


def decide_url(ret):
    return f"/dashboard/returns/{ret.id}/items/{ret.items[0].id}/decide"


def item_of(ret) -> ReturnItem:
    db.session.expire_all()
    return db.session.get(ReturnItem, ret.items[0].id)


def test_the_picker_lists_only_other_variants_in_stock(client, undecided):
    ret, product = undecided
    page = client.get(f"/dashboard/returns/{ret.id}")
    assert b"Exchange\xe2\x80\xa6" in page.data                 # offered on the return page
    fragment = client.get(picker_url(ret), headers=HX).get_data(as_text=True)
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"', fragment)}
    assert offered == {v.id for v in product.in_stock}
    assert product.bought.id not in offered and not offered & {v.id for v in product.sold_out}
    assert 'label for="exchange-variant-' in fragment
    full_page = client.get(picker_url(ret)).get_data(as_text=True)  # without JavaScript
    assert "<h1>Exchange" in full_page and 'name="variant_id"' in full_page


def test_deciding_an_exchange_stores_the_variant(client, undecided):
    ret, product = undecided
    wanted = product.in_stock[0]
    response = client.post(decide_url(ret), data={"option": "exchange", "variant_id": wanted.id})
    assert response.status_code == 303
    item = item_of(ret)
    assert (item.option, item.resolution, item.exchange_variant_id) == ("exchange", "DECIDED", wanted.id)
    assert item.exchange_variant_title


@pytest.mark.parametrize("posted", ["sold_out", "bought", "unknown", "missing", "text"])
def test_a_variant_not_offered_is_refused(client, undecided, posted):
    ret, product = undecided
    value = {"sold_out": product.sold_out[0].id, "bought": product.bought.id, "unknown": 123456789,
             "missing": "", "text": "large"}[posted]
    response = client.post(decide_url(ret), data={"option": "exchange", "variant_id": value})
    assert response.status_code == 422
    assert (item_of(ret).resolution, item_of(ret).option) == ("NO_ACTION", None)


def test_no_exchange_when_the_shop_switched_them_off(client, undecided):
    ret, product = undecided
    db.session.get(Account, ret.account_id).exchange_enabled = False
    db.session.commit()
    assert "switched off" in client.get(picker_url(ret), headers=HX).get_data(as_text=True)
    response = client.post(decide_url(ret), data={"option": "exchange", "variant_id": product.in_stock[0].id})
    assert response.status_code == 422 and item_of(ret).resolution == "NO_ACTION"


def test_shopify_down_is_said_plainly(client, undecided, sandbox):
    ret, product = undecided
    sandbox.store.set_faults(db.session.get(Account, ret.account_id).shop_domain, error_rate=1.0)
    fragment = client.get(picker_url(ret), headers=HX)
    assert fragment.status_code == 200 and "did not answer" in fragment.get_data(as_text=True)
    response = client.post(decide_url(ret), data={"option": "exchange", "variant_id": product.in_stock[0].id})
    assert response.status_code == 422 and item_of(ret).resolution == "NO_ACTION"


def test_an_exchange_decided_after_the_action_is_issued_at_once(app, client, undecided, sandbox, monkeypatch):
    ret, product = undecided
    jobs = record_jobs(app, monkeypatch)
    assert confirmed(client, f"/dashboard/returns/{ret.id}/close").status_code == 303
    wanted = product.in_stock[0]
    client.post(decide_url(ret), data={"option": "exchange", "variant_id": wanted.id})
    assert "plan_shopify_returns_job" in jobs.names()
    jobs.run()
    item = item_of(ret)
    assert (item.resolution, item.issuing_method, item.exchange_order_name) == ("ISSUED", "returns", ret.order_name)
    held = sandbox_returns(sandbox, db.session.get(Account, ret.account_id))
    assert [(x["variant_id"], x["processed"]) for x in held["returns"][0]["exchanges"]] == [(wanted.id, 1)]

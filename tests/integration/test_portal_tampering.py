"""Server-side truth: tampered submissions get a clear error and write nothing (one test per rule),
and two concurrent posts of one form make one return (a live server, JavaScript off)."""
import re
import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEmail, Return, ReturnItem
from tests.factories import make_account
from tests.support.portal import (exchangeable_product, line_for_variant, make_line,
                                   make_portal_order)


pytestmark = pytest.mark.account(name="Acme Outdoor", excluded_product_tags=["final-sale"], in_sandbox=True)


@pytest.fixture
def product(account, sandbox):
    return exchangeable_product(sandbox, account.shop_domain)


@pytest.fixture
def order(account, product, client):
    order = make_portal_order(account, [line_for_variant(product, quantity=2, fulfilled_quantity=2),
                                     make_line(title="Sale Scarf", product_tags=["final-sale"])],
                              email="pat@example.com")
    db.session.commit()
    assert client.post(f"/r/{account.slug}", data={"order_number": order.name, "email": order.email}).status_code == 303
    return order


def form(order, line=None, token="tok-0123456789abcdef", **fields):
    line = line or order.lines[0]
    values = {"return": "1", "quantity": "1", "reason": "Faulty", "option": "refund", **fields}
    data = {f"line-{line.id}-{key}": value for key, value in values.items() if value is not None}
    return {"order_id": str(order.id), "submission_token": token, **data}


def refused(client, account, data, message):
    response = client.post(f"/r/{account.slug}/submit", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body
    assert message in body, body
    assert "Nothing was sent" in body
    assert db.session.scalar(select(func.count()).select_from(Return)) == 0
    assert db.session.scalar(select(func.count()).select_from(ReturnItem)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_an_untampered_form_is_accepted(account, order, client):
    assert client.post(f"/r/{account.slug}/submit", data=form(order)).status_code == 303


@pytest.mark.parametrize("quantity", ["3", "0", "-1", "99999999999999999999"])
def test_quantity_beyond_what_is_returnable(account, order, client, quantity):
    message = "you can return between 1 and 2" if quantity == "3" else "Choose how many to return."
    refused(client, account, form(order, quantity=quantity), message)


def test_a_line_excluded_by_tag(account, order, client):
    refused(client, account, form(order, line=order.lines[1]), "final sale")


def test_a_reason_not_on_the_shops_list(account, order, client):
    refused(client, account, form(order, reason="Free stuff please"), "choose a reason from the list")


def test_an_option_the_shop_does_not_offer(account, order, client):
    refused(client, account, form(order, option="cash-in-hand"), "choose one of Refund, Credit note, Exchange")


def test_exchange_when_the_shop_switched_it_off(account, order, client, product):
    account.exchange_enabled = False
    db.session.commit()
    refused(client, account, form(order, option="exchange", variant=str(product.in_stock[0].id)),
            "choose one of Refund, Credit note.")


def test_an_option_in_rules_mode(account, order, client):
    account.option_mode = "rules"
    db.session.commit()
    refused(client, account, form(order, option="credit"), "decides the return option itself")


def test_an_exchange_variant_of_another_product(account, order, client, sandbox):
    other = next(p for p in sandbox.store.get_shop(account.shop_domain).products.values()
                 if p.id != order.lines[0].product_id)
    refused(client, account, form(order, option="exchange", variant=str(other.variants[0])),
            "not one of this product")


def test_an_exchange_for_the_variant_already_bought(account, order, client, product):
    refused(client, account, form(order, option="exchange", variant=str(product.bought.id)), "not one of this product")


def test_an_exchange_variant_sold_out_at_submit(account, order, client, product, sandbox):
    wanted = product.in_stock[0]
    sandbox.store.get_shop(account.shop_domain).variants[wanted.id].inventory = 0  # sold while reviewing
    refused(client, account, form(order, option="exchange", variant=str(wanted.id)), "has just sold out")


def test_a_line_of_another_shops_order(account, order, client):
    other = make_account()
    foreign = make_portal_order(other, [make_line()], email=order.email)
    db.session.commit()
    refused(client, account, form(order, line=foreign.lines[0]), "not part of this order")


def test_an_order_id_other_than_the_sessions(account, order, client):
    second = make_portal_order(account, [make_line()], email=order.email)
    db.session.commit()
    refused(client, account, {**form(order), "order_id": str(second.id)}, "does not belong to this session")


def test_the_window_closed_since_the_lookup(account, order, client):
    order.created_at -= timedelta(days=account.return_window_days + 1)
    db.session.commit()
    refused(client, account, form(order), "The return window for this order has closed.")


def test_no_portal_session(account, order, client, app):
    fresh = app.test_client()
    response = fresh.post(f"/r/{account.slug}/submit", data=form(order))
    assert response.status_code == 422 and "find your order again" in response.get_data(as_text=True)


def test_the_session_of_another_shop(account, order, client):
    other = make_account()
    db.session.commit()
    response = client.post(f"/r/{other.slug}/submit", data=form(order))
    assert response.status_code == 422 and "find your order again" in response.get_data(as_text=True)


def test_a_missing_submission_token(account, order, client):
    refused(client, account, form(order, token=""), "This form has expired")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def test_two_concurrent_posts_of_one_form_make_one_return(e2e_app, live_server):
    with e2e_app.app_context():
        account = make_account(slug="concurrent")
        order = make_portal_order(account, [make_line(title="Tee")], email="pat@example.com")
        line_id, order_name = order.lines[0].id, order.name
        db.session.commit()
        db.session.remove()
    browser = requests.Session()  # a browser with JavaScript off: plain form posts
    page = browser.get(live_server.url("/r/concurrent")).text
    browser.post(live_server.url("/r/concurrent"), data={
        "csrf_token": _csrf(page), "order_number": order_name, "email": "pat@example.com"})
    items = browser.get(live_server.url("/r/concurrent/items")).text
    review = browser.post(live_server.url("/r/concurrent/items"), data={
        "csrf_token": _csrf(items), f"line-{line_id}-return": "1", f"line-{line_id}-quantity": "1",
        f"line-{line_id}-reason": "Faulty", f"line-{line_id}-option": "refund"}).text
    submit_form = review.split('class="submit-form"')[1].split("</form>")[0]
    data = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', submit_form))
    barrier = threading.Barrier(2)
    answers = []

    def post():
        session = requests.Session()
        session.cookies.update(browser.cookies)
        barrier.wait()
        answers.append(session.post(live_server.url("/r/concurrent/submit"), data=data, allow_redirects=False))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    with e2e_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Return)) == 1
        assert db.session.scalar(select(func.count()).select_from(ReturnItem)) == 1
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 1
        db.session.remove()

"""The customer portal through the test client: find the order, choose, review, submit, follow.

Exchanges read the product's variants live from the sandbox (fake Shopify) over HTTP."""
import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEmail, Return, ReturnEvent
from tests.factories import make_account
from tests.fixtures.auth import look_up_order
from tests.support.portal import (exchangeable_product, line_for_variant, make_line,
                                   make_portal_order)

NOT_FOUND = "We could not find that order"


pytestmark = pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty", "Too small", "Changed my mind"],
                                 in_sandbox=True)


@pytest.fixture
def product(account, sandbox):
    return exchangeable_product(sandbox, account.shop_domain)


def count_returns() -> int:
    return db.session.scalar(select(func.count()).select_from(Return))


@pytest.mark.parametrize("typed_number, typed_email", [
    ("#1234", "pat@example.com"), ("1234", "pat@example.com"), (" # 1234 ", "  PAT@Example.COM "),
])
def test_lookup_accepts_the_number_with_or_without_hash_and_any_email_case(account, client, typed_number, typed_email):
    make_portal_order(account, [make_line()], name="#1234", email="pat@example.com")
    db.session.commit()
    response = look_up_order(client, account, typed_number, typed_email)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/r/{account.slug}/items"
    assert "#1234" in client.get(f"/r/{account.slug}/items").get_data(as_text=True)


def test_a_wrong_number_email_or_shop_all_say_the_same(account, client):
    other = make_account()
    make_portal_order(account, [make_line()], name="#1234", email="pat@example.com")
    make_portal_order(other, [make_line()], name="#7777", email="pat@example.com")
    db.session.commit()
    bodies = []
    for number, email in [("#9999", "pat@example.com"), ("#1234", "someone@example.com"), ("#7777", "pat@example.com")]:
        response = look_up_order(client, account, number, email)
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert NOT_FOUND in body
        bodies.append(re.sub(r'nonce="[^"]*"|name="csrf_token"[^>]*>|content="[^"]*"', "", body)
                      .replace(number, "").replace(email, ""))
    # Nothing tells which part was wrong.
    assert bodies[0] == bodies[1] == bodies[2]
    assert client.get(f"/r/{account.slug}/items").status_code == 303  # no portal session was opened


def test_an_unknown_shop_is_a_404(client, app):
    assert client.get("/r/no-such-shop").status_code == 404


def test_each_unreturnable_line_says_why(account, client):
    account.excluded_product_tags = ["final-sale"]
    order = make_portal_order(account, [
        make_line(title="Sale Scarf", product_tags=["Final-Sale"]),
        make_line(title="Backorder Boots", fulfilled_quantity=0),
        make_line(title="Refunded Tee", refunded_quantity=1),
        make_line(title="Good Socks", quantity=3, fulfilled_quantity=3, refunded_quantity=1),
    ], email="pat@example.com")
    old = make_portal_order(account, [make_line(title="Old Jacket")], email="pat@example.com", days_ago=45)
    db.session.commit()
    look_up_order(client, account, order.name, "pat@example.com")
    body = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert "This item is final sale and cannot be returned." in body
    assert "This item has not been shipped yet." in body
    assert "This item has already been returned or refunded." in body
    assert "You can return 2 of 3." in body
    look_up_order(client, account, old.name, "pat@example.com")
    body = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert "The return window for this order has closed." in body
    assert "Review my return" not in body


def choose(line, quantity=1, reason="Faulty", option=None, variant=None, note=None):
    data = {f"line-{line.id}-return": "1", f"line-{line.id}-quantity": str(quantity), f"line-{line.id}-reason": reason}
    if option:
        data[f"line-{line.id}-option"] = option
    if variant:
        data[f"line-{line.id}-variant"] = str(variant)
    if note:
        data[f"line-{line.id}-note"] = note
    return data


def review(client, account, data):
    response = client.post(f"/r/{account.slug}/items", data=data)
    body = response.get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                             body.split('class="edit-form"')[0]))
    return response, body, hidden


@pytest.mark.parametrize("accounts, customer, offered", [
    ("NEW_CUSTOMER_ACCOUNTS", 5551, "Store credit worth 40.50 USD per item, to spend at Acme Outdoor"),
    ("NEW_CUSTOMER_ACCOUNTS", None, "A gift card worth 40.50 USD per item"),   # a guest order: no one to credit
    ("CLASSIC", 5551, "A gift card worth 40.50 USD per item"),
    (None, 5551, "A gift card worth 40.50 USD per item"),
])
def test_the_credit_note_is_offered_as_what_it_will_be(account, client, accounts, customer, offered):
    """Store credit where Shopify allows it (new customer accounts, a customer on the order), a gift
    card otherwise: the words under "Credit note" say which before the shopper chooses."""
    account.customer_accounts_version = accounts
    order = make_portal_order(account, [make_line(discounted_unit_price=Decimal("40.50"))], email="pat@example.com",
                              customer_shopify_id=customer)
    db.session.commit()
    look_up_order(client, account, order.name, "pat@example.com")
    page = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    described = re.search(r"<strong>Credit note</strong>\s*(<span.*?</span>)</span>", page, re.S).group(1)
    assert html.unescape(re.sub(r"<[^>]+>", "", described)).strip() == offered


def test_customer_choice_journey_with_an_exchange(app, account, product, client, drain_jobs):
    wanted = product.in_stock[0]
    order = make_portal_order(account, [line_for_variant(product, quantity=2, fulfilled_quantity=2,
                                                      discounted_unit_price=Decimal("40.50")),
                                     make_line(title="Wool Socks", discounted_unit_price=Decimal("9.60"))],
                              email="pat@example.com")
    exchange_line, socks = order.lines
    db.session.commit()
    look_up_order(client, account, order.name, "PAT@example.com")
    page = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert "Refund" in page and "Credit note" in page and "Exchange" in page
    assert "40.50 USD" in page
    picker = client.get(f"/r/{account.slug}/items/{exchange_line.id}/variants",
                        headers={"HX-Request": "true"}).get_data(as_text=True)
    assert wanted.options[0] in picker and "Size: " in picker
    for sold_out in product.sold_out:
        assert f'value="{sold_out.id}"' not in picker
    assert f'value="{product.bought.id}"' not in picker

    data = {**choose(exchange_line, 2, "Too small", "exchange", wanted.id, note="Runs small"),
            **choose(socks, 1, "Changed my mind", "credit")}
    response, body, hidden = review(client, account, data)
    assert response.status_code == 200, body
    assert "81.00 USD" in body and "9.60 USD" in body and "90.60 USD" in body
    assert "Exchange for Size:" in body
    submitted = client.post(f"/r/{account.slug}/submit", data=hidden)
    assert submitted.status_code == 303
    confirmation = client.get(submitted.headers["Location"]).get_data(as_text=True)
    ret = db.session.scalar(select(Return))
    assert ret.rma_number == "R-1001" and ret.rma_number in confirmation  # the store's first return
    assert "tracking number" in confirmation.lower()
    assert [(i.quantity, i.reason, i.option, i.note) for i in ret.items] == [
        (2, "Too small", "exchange", "Runs small"), (1, "Changed my mind", "credit", None)]
    assert ret.items[0].exchange_variant_id == wanted.id
    assert ret.items[0].exchange_variant_title.startswith("Size: ")
    assert ret.items[0].unit_value == Decimal("40.50")
    assert ret.option_source == "customer"

    # Sending the same form again (back button, double click) finds the same return.
    again = client.post(f"/r/{account.slug}/submit", data=hidden)
    assert again.status_code == 303 and again.headers["Location"] == submitted.headers["Location"]
    assert count_returns() == 1

    email = db.session.scalar(select(OutboxEmail))
    assert email.to_address == "pat@example.com" and ret.rma_number in email.subject
    link = re.search(r"http://localhost(/r/\S+)", email.text_body).group(1)
    # The email's link works without any portal session (a fresh browser).
    status_page = app.test_client().get(link).get_data(as_text=True)
    assert ret.rma_number in status_page and "Return started" in status_page

    # The returned units are no longer returnable: they are in the return, which is linked.
    body = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert body.count(f">{ret.rma_number}</a>.</p>") == 2
    assert "already been returned or refunded" not in body


def test_rules_mode_asks_no_option_and_enqueues_rule_matching(account, client, drain_jobs):
    account.option_mode = "rules"
    order = make_portal_order(account, [make_line(title="Tee")], email="pat@example.com")
    db.session.commit()
    look_up_order(client, account, order.name, "pat@example.com")
    page = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert "Acme Outdoor&#39;s staff decide what each item gets." in page and "exchange" not in page.lower()
    assert "-option" not in page
    response, body, hidden = review(client, account, choose(order.lines[0]))
    assert "Decided by Acme Outdoor" in body
    submitted = client.post(f"/r/{account.slug}/submit", data=hidden)
    assert submitted.status_code == 303
    drain_jobs()
    status_page = client.get(submitted.headers["Location"].rsplit("/confirmed", 1)[0]).get_data(as_text=True)
    assert "rules will decide the option for each item" in status_page
    ret = db.session.scalar(select(Return))
    assert ret.option_source == "rules" and ret.items[0].option is None
    kinds = db.session.scalars(select(ReturnEvent.kind).where(ReturnEvent.return_id == ret.id)).all()
    assert "rules_pending" in kinds


def test_exchange_without_javascript_asks_for_the_variant_on_the_next_page(account, product, client):
    order = make_portal_order(account, [line_for_variant(product)], email="pat@example.com")
    db.session.commit()
    look_up_order(client, account, order.name, "pat@example.com")
    response = client.post(f"/r/{account.slug}/items", data=choose(order.lines[0], option="exchange"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose the size or colour you want instead." in body
    assert f'value="{product.in_stock[0].id}"' in body


def test_shopify_down_gives_a_clear_message(account, product, client, sandbox):
    order = make_portal_order(account, [line_for_variant(product)], email="pat@example.com")
    db.session.commit()
    look_up_order(client, account, order.name, "pat@example.com")
    sandbox.store.set_faults(account.shop_domain, error_rate=1.0)
    picker = client.get(f"/r/{account.slug}/items/{order.lines[0].id}/variants").get_data(as_text=True)
    assert "We could not reach the shop" in picker
    response = client.post(f"/r/{account.slug}/items",
                           data=choose(order.lines[0], option="exchange", variant=product.in_stock[0].id))
    assert response.status_code == 422
    assert "We could not reach the shop" in response.get_data(as_text=True)


def _submit_one(client, account, order, **choice):
    look_up_order(client, account, order.name, order.email)
    _, _, hidden = review(client, account, choose(order.lines[0], **choice))
    location = client.post(f"/r/{account.slug}/submit", data=hidden).headers["Location"]
    return location.rsplit("/confirmed", 1)[0]


def test_tracking_number_can_be_added_and_corrected_while_open_then_cancelled(account, client):
    order = make_portal_order(account, [make_line()], email="pat@example.com")
    db.session.commit()
    status_url = _submit_one(client, account, order, option="refund")
    assert client.post(status_url + "/tracking", data={"tracking_number": "1z 999 aa1"}).status_code == 303
    assert client.post(status_url + "/tracking", data={"tracking_number": "?"}).status_code == 422
    assert client.post(status_url + "/tracking", data={"tracking_number": "1Z999AA10123456784"}).status_code == 303
    ret = db.session.scalar(select(Return))
    assert ret.tracking_number == "1Z999AA10123456784"
    assert "1Z999AA10123456784" in client.get(status_url).get_data(as_text=True)
    asked = client.post(status_url + "/cancel")  # without JavaScript: a page that asks first
    assert asked.status_code == 200
    assert f"Cancel return {ret.rma_number}? This cannot be undone." in re.sub(
        r"<[^>]+>", "", asked.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Return, ret.id).status == "OPEN"
    assert client.post(status_url + "/cancel", data={"confirmed": "yes"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Return, ret.id).status == "CANCELLED"
    page = client.get(status_url).get_data(as_text=True)
    assert "Cancelled" in page and "Cancel this return" not in page
    assert client.post(status_url + "/tracking", data={"tracking_number": "NEW12345"}).status_code == 422
    # Cancelled units can be returned again.
    look_up_order(client, account, order.name, order.email)
    assert "Return this item" in client.get(f"/r/{account.slug}/items").get_data(as_text=True)


def test_a_forged_or_other_shops_status_link_is_a_404(account, client):
    other = make_account()
    order = make_portal_order(account, [make_line()], email="pat@example.com")
    db.session.commit()
    status_url = _submit_one(client, account, order, option="refund")
    token = status_url.rsplit("/", 1)[1]
    assert client.get(status_url + "x").status_code == 404
    assert client.get(f"/r/{other.slug}/returns/{token}").status_code == 404
    assert client.post(f"/r/{other.slug}/returns/{token}/cancel").status_code == 404


def test_the_portal_session_expires(account, client, app):
    order = make_portal_order(account, [make_line()], email="pat@example.com")
    db.session.commit()
    look_up_order(client, account, order.name, order.email)
    with client.session_transaction() as session:
        session["portal"] = {**session["portal"], "t": session["portal"]["t"] - 3 * 3600}
    assert client.get(f"/r/{account.slug}/items").status_code == 303


def test_an_order_older_than_storage_says_so(account, client):
    order = make_portal_order(account, [make_line()], email="pat@example.com", days_ago=100)
    db.session.commit()
    look_up_order(client, account, order.name, order.email)
    items = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert "This order is too old to be returned online." in items

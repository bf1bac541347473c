"""Coming back to the portal: the lookup (order number and email) shows that order's returns and
nothing else, and a status link that names no return of the shop gets the shop's own 404 page."""
import re

import pytest

from app.extensions import db
from app.portal.session import status_token
from app.services.return_workflow import cancel_return
from app.services.return_submission import Selection, create_return
from tests.factories import make_account
from tests.fixtures.auth import look_up_order
from tests.support.portal import make_line, make_portal_order


def returned(account, order, line_index=0, quantity=1, token=None):
    ret, _ = create_return(account, order.id,
                           [Selection(order.lines[line_index].id, quantity, "Faulty", None, "refund")],
                           token or f"t-{order.id}-{line_index}")
    db.session.commit()
    return ret


pytestmark = pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty"], exchange_enabled=False)


def test_the_lookup_shows_this_orders_returns_only(account, client):
    order = make_portal_order(account, [make_line(title="Tee"), make_line(title="Cap")], name="#1001",
                              email="pat@example.com")
    other_order = make_portal_order(account, [make_line(title="Coat")], name="#1002", email="pat@example.com")
    other_shop = make_account()
    elsewhere = make_portal_order(other_shop, [make_line(title="Boots")], name="#1001", email="pat@example.com")
    db.session.commit()
    mine = returned(account, order)
    cancelled = returned(account, order, line_index=1)
    cancel_return(cancelled, "pat@example.com", by_customer=True)
    db.session.commit()
    not_mine = returned(account, other_order)
    foreign = returned(other_shop, elsewhere)

    assert look_up_order(client, account, "1001").headers["Location"] == f"/r/{account.slug}/items"
    body = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert "Your returns for this order" in body
    assert f"See return {mine.rma_number}" in body and status_token(mine) in body
    assert status_token(cancelled) not in body    # cancelled: the Cap can be returned again
    assert status_token(not_mine) not in body and status_token(foreign) not in body
    assert "This item is in your return" in body and "Return this item" in body


def test_a_line_partly_in_a_return_says_so(account, client):
    order = make_portal_order(account, [make_line(title="Socks", quantity=3, fulfilled_quantity=3)], name="#1001",
                              email="pat@example.com")
    db.session.commit()
    ret = returned(account, order, quantity=2)
    look_up_order(client, account, "1001")
    body = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert f"You can return 1 of 3. Some are already in your return {ret.rma_number}." in body


def test_nothing_left_and_one_return_leads_straight_to_it(account, client):
    order = make_portal_order(account, [make_line(title="Tee", quantity=2, fulfilled_quantity=2)], name="#1001",
                              email="pat@example.com")
    db.session.commit()
    ret = returned(account, order, quantity=2)
    response = look_up_order(client, account, "#1001", "PAT@example.com")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/r/{account.slug}/returns/{status_token(ret)}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Everything you can return from order #1001 is in this return." in page
    # A browser without this order's session reads the status, not the way to the order.
    assert "See order #1001" not in client.application.test_client().get(response.headers["Location"]).get_data(
        as_text=True)


@pytest.mark.parametrize("token", [
    "garbage", "WzEsMV0.forged", "%00", "%ED%A0%80", "x" * 5000, "٣", "WzEsOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTld"])
@pytest.mark.parametrize("method, suffix", [("get", ""), ("get", "/confirmed"), ("post", "/tracking"),
                                            ("post", "/cancel")])
def test_a_link_to_no_return_gets_the_shops_page_with_the_way_back(account, client, token, method, suffix):
    response = getattr(client, method)(f"/r/{account.slug}/returns/{token}{suffix}")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "We could not find this return" in body and "Acme Outdoor" in body
    assert re.search(rf'href="/r/{account.slug}"[^>]*>Find your order<', body)


def test_another_shops_link_is_not_found_here(account, client):
    other = make_account(name="Other Shop")
    order = make_portal_order(other, [make_line()], name="#1001", email="pat@example.com")
    db.session.commit()
    ret = returned(other, order)
    response = client.get(f"/r/{account.slug}/returns/{status_token(ret)}")
    assert response.status_code == 404 and "Acme Outdoor" in response.get_data(as_text=True)

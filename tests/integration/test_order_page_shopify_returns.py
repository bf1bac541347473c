"""The order page lists the returns made in Shopify itself (its admin, its self-serve returns) for
that order: name, status and the units of each line — and only this account's, for this order."""
import html
import re

import pytest

from app.extensions import db
from app.models import ShopifyReturn
from tests.factories import make_account, make_order

pytestmark = pytest.mark.account(name="Acme Outdoor", users=["staff"], logged_in="staff")


def made(account, order_id, name, status, lines, **fields) -> ShopifyReturn:
    """A return made in Shopify for that order (flushed)."""
    row = ShopifyReturn(account_id=account.id, shopify_order_id=order_id, seq=0, shopify_return_id=hash(name) % 10**9,
                        name=name, status=status, made_in_shopify=True, lines=lines, **fields)
    db.session.add(row)
    db.session.flush()
    return row


def card(client, order) -> str:
    """The words of the order page's "Returns made in Shopify" card."""
    response = client.get(f"/dashboard/orders/{order.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True).split('id="made-in-shopify"', 1)[1].split(">", 1)[1]
    body = body.split("</section>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_returns_made_in_shopify_are_listed_with_their_units(account, client):
    order = make_order(account)
    line = order.lines[0]
    made(account, order.shopify_order_id, f"{order.name}-R1", "OPEN",
         [{"line_item_id": line.shopify_line_id, "quantity": 1, "processed": 0},
          {"line_item_id": 42, "quantity": 2, "processed": 2}])
    made(account, order.shopify_order_id, f"{order.name}-R2", "CANCELED", [])
    # Not listed: a Boomerang return's Shopify return, another order's, another account's.
    db.session.add(ShopifyReturn(account_id=account.id, shopify_order_id=order.shopify_order_id, seq=1,
                                 name=f"{order.name}-R9", status="OPEN"))
    made(account, order.shopify_order_id + 1, "#OTHER-R1", "OPEN", [])
    other = make_account()
    made(other, order.shopify_order_id, "#THEIRS-R1", "OPEN", [])
    db.session.commit()
    text = card(client, order)
    assert (f"{order.name}-R1 Status Open Units 1 × Trail Runner (42 / Grey) (0 processed) 2 × Line 42 (2 processed)"
            in text)
    assert f"{order.name}-R2 Status Cancelled Units none read" in text
    for absent in (f"{order.name}-R9", "#OTHER-R1", "#THEIRS-R1"):
        assert absent not in text


def test_an_order_with_none_says_so(account, client):
    order = make_order(account)
    db.session.commit()
    assert card(client, order) == "Returns made in Shopify No returns made in Shopify for this order."


def test_malformed_stored_lines_do_not_break_the_page(account, client):
    order = make_order(account)
    made(account, order.shopify_order_id, f"{order.name}-R1", "CLOSED",
         ["junk", {"quantity": None}, {"line_item_id": 7, "quantity": "3", "processed": -1}])
    db.session.commit()
    assert (f"{order.name}-R1 Status Closed Units 0 × A line Shopify did not name (0 processed) "
            "0 × Line 7 (0 processed)") in card(client, order)

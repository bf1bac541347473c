"""``app.shopify.issuing`` against the sandbox over real HTTP, checked against the store's own
records: suggested refunds, keyed refunds (also through a lost response), gift cards, exchange
draft orders, stock and restocking."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.shopify import errors as E
from app.shopify import issuing as I
from tests.fixture_files import shopify_json

from .conftest import ALL_SCOPES, SHOP, Shop

ISSUING_SCOPES = ALL_SCOPES + ["write_gift_cards", "write_draft_orders", "write_inventory",
                               "read_locations"]


@pytest.fixture
def issuing_shop(sandbox, control):
    """The package's ``api_shop`` with the scopes issuing needs too (gift cards, draft orders,
    inventory, locations)."""
    control.create_shop()
    control.create_app(scopes=ISSUING_SCOPES)
    return Shop(domain=SHOP, token=control.admin_token(), server=sandbox, control=control)


@pytest.fixture
def order(issuing_shop, control):
    """A shipped USD order of 3 units at 20.00 (6.00 discount, 3.00 tax) with 5.00 shipping."""
    variant = next(v for v in sorted(issuing_shop.record.variants.values(), key=lambda v: v.id)
                   if v.inventory > 0)
    placed = control.place_order(variant_ids=[variant.id], quantity=3)
    raw = issuing_shop.record.orders[placed["id"]]
    raw.currency, raw.rate, raw.shipping, raw.financial = "USD", 1.0, 500, "PAID"
    ln = raw.lines[0]
    ln.price, ln.discount, ln.tax, ln.fulfilled = 2000, 600, 300, 3
    return raw


def test_refund_fixture_shapes_match_what_the_client_reads():
    # Shopify's REST calculate answer: the suggested transaction points at its parent and
    # carries the gateway, like SuggestedOrderTransaction does in GraphQL.
    calc = shopify_json("refund_calculate_rest_response.json")
    tx = calc["refund"]["transactions"][0]
    assert tx["kind"] == "suggested_refund" and {"parent_id", "amount", "gateway"} <= set(tx)
    refund = shopify_json("refund_rest_response.json")["refund"]
    assert {"note", "refund_line_items", "transactions"} <= set(refund)


def test_suggest_then_refund_then_find(issuing_shop, order):
    client = issuing_shop.client()
    line = order.lines[0].id
    s = I.suggest_refund(client, order.id, line, 1)
    assert s == I.SuggestedRefund(amount=Decimal("19.00"), currency="USD", transactions=(
        I.RefundTransaction(parent_id=order.id * 8 + 1, gateway=order.gateway,
                            amount=Decimal("19.00"), currency="USD"),), presentment_currency="USD")
    result = I.create_refund(client, order_id=order.id, line_item_id=line, quantity=1,
                             transactions=s.transactions, restock=False, location_id=None,
                             note="Boomerang RMA-1001 item 7", key="key-item-7")
    assert (result.amount, result.currency) == (Decimal("19.00"), "USD")
    (raw,) = order.refunds
    assert raw.id == result.refund_id and raw.lines == [(0, 1, "NO_RESTOCK")] and raw.amount == 1900

    # The same key again (a retry after a crash) gives back the same refund, nothing new.
    again = I.create_refund(client, order_id=order.id, line_item_id=line, quantity=1,
                            transactions=s.transactions, restock=False, location_id=None,
                            note="Boomerang RMA-1001 item 7", key="key-item-7")
    assert again == result and len(order.refunds) == 1
    assert I.find_refund(client, order.id, "item 7") == result
    assert I.find_refund(client, order.id, "item 8") is None

    # What is left: 2 units; asking for 3 is refused by Shopify's rules.
    with pytest.raises(E.UserErrorsError) as refused:
        I.create_refund(client, order_id=order.id, line_item_id=line, quantity=3,
                        transactions=s.transactions, restock=False, location_id=None,
                        note="x", key="key-over")
    assert refused.value.items[0].field == ("refundLineItems", "0", "quantity")


def test_refund_in_a_foreign_presentment_currency_names_it(issuing_shop, order):
    order.currency, order.rate = "EUR", 0.92
    client = issuing_shop.client()
    s = I.suggest_refund(client, order.id, order.lines[0].id, 1)
    assert s.amount == Decimal("19.00") and s.currency == "USD"
    assert s.presentment_currency == "EUR" and s.transactions[0].amount == Decimal("17.48")
    # A caller passing the suggestion's (shop) currency still refunds in the transactions' own.
    result = I.create_refund(client, order_id=order.id, line_item_id=order.lines[0].id,
                             quantity=1, transactions=s.transactions, restock=False,
                             location_id=None, note="fx", key="fx-1", currency=s.currency)
    assert result.amount == Decimal("19.00") and order.refunds[0].amount == 1900
    # Transactions without a currency: the order's presentment currency is looked up.
    bare = tuple(I.RefundTransaction(t.parent_id, t.gateway, t.amount) for t in s.transactions)
    I.create_refund(client, order_id=order.id, line_item_id=order.lines[0].id, quantity=1,
                    transactions=bare, restock=False, location_id=None, note="fx2", key="fx-2")
    assert len(order.refunds) == 2


def test_a_lost_refund_response_is_retried_with_its_key_and_refunds_once(issuing_shop, order, control):
    control.set_faults(drop_response_after_mutation=1.0)
    client = issuing_shop.client(max_retries=2)
    s = I.suggest_refund(client, order.id, order.lines[0].id, 1)
    with pytest.raises(E.ShopifyServerError):
        I.create_refund(client, order_id=order.id, line_item_id=order.lines[0].id, quantity=1,
                        transactions=s.transactions, restock=False, location_id=None,
                        note="lost RMA-9", key="lost-9")
    session = issuing_shop.sessions[-1]
    assert session.count(status=502) == 3  # the first try and two keyed retries
    assert len(order.refunds) == 1  # every attempt after the first returned the original
    control.set_faults(drop_response_after_mutation=0.0)
    found = I.find_refund(client, order.id, "RMA-9")
    assert found is not None and found.refund_id == order.refunds[0].id
    assert control.call("GET", f"/shops/{SHOP}/issued")["refunds"] == 1


def test_refund_with_restock_returns_units_to_the_location(issuing_shop, order):
    client = issuing_shop.client()
    locations = I.list_locations(client)
    assert [loc.name for loc in locations] == ["Main warehouse", "Returns centre"]
    variant = issuing_shop.record.variants[order.lines[0].variant_id]
    before = variant.inventory
    s = I.suggest_refund(client, order.id, order.lines[0].id, 2)
    I.create_refund(client, order_id=order.id, line_item_id=order.lines[0].id, quantity=2,
                    transactions=s.transactions, restock=True,
                    location_id=locations[1].location_id, note="restock", key="rs-1")
    assert I.variant_available(client, variant.id) == before + 2 == variant.inventory


def test_order_outside_the_window_has_no_suggestion(issuing_shop, control, sandbox):
    narrow = control.admin_token(scopes=["read_orders", "write_orders"])
    placed = control.place_order()
    issuing_shop.record.orders[placed["id"]].created_at -= 61 * 86400
    client = issuing_shop.client(narrow)
    assert I.suggest_refund(client, placed["id"], placed["lines"][0]["id"], 1) is None


def test_gift_card_create_taken_and_find(issuing_shop, control):
    client = issuing_shop.client()
    card = I.create_gift_card(client, amount=Decimal("19.00"), code="BMRG7Q2X9K4L",
                              note="Credit note RMA-1001")
    assert (card.last_characters, card.amount, card.currency) == ("9K4L", Decimal("19.00"), "USD")
    with pytest.raises(I.GiftCardCodeTaken) as taken:
        I.create_gift_card(client, amount=Decimal("19.00"), code="BMRG7Q2X9K4L", note="again")
    assert isinstance(taken.value, E.UserErrorsError)
    assert I.find_gift_card(client, "BMRG7Q2X9K4L") == card
    assert I.find_gift_card(client, "BMRGNOTEXIST") is None
    with pytest.raises(E.UserErrorsError) as bad:
        I.create_gift_card(client, amount=Decimal("0"), code="BMRGZERO0000", note="zero")
    assert not isinstance(bad.value, I.GiftCardCodeTaken)
    issued = control.call("GET", f"/shops/{SHOP}/issued")
    assert issued["gift_cards"] == 1 and issued["gift_card_list"][0]["last_characters"] == "9K4L"


def test_find_gift_card_waits_for_the_search_index(issuing_shop, control, sandbox):
    control.set_faults(search_lag_seconds=20)
    client = issuing_shop.client()
    card = I.create_gift_card(client, amount=Decimal("5"), code="BMRGLAGGED01", note="lag")
    assert I.find_gift_card(client, "BMRGLAGGED01") is None
    sandbox.clock.advance(21)
    assert I.find_gift_card(client, "BMRGLAGGED01") == card


def test_exchange_draft_completed_into_an_order(issuing_shop, control, sandbox):
    client = issuing_shop.client()
    variant = next(v for v in issuing_shop.record.variants.values() if v.inventory >= 1)
    before = variant.inventory
    address = {"first_name": "Pat", "last_name": "Lee", "company": None, "address1": "1 Main St",
               "address2": None, "city": "Ottawa", "province": "Ontario", "province_code": "ON",
               "country": "Canada", "country_code": "ca", "zip": "K2H 7A8", "phone": None}
    control.set_faults(search_lag_seconds=10)
    draft = I.create_exchange_draft(client, variant_id=variant.id, quantity=1,
                                    email="pat@example.com", shipping_address=address,
                                    tag="boomerang-ex-42", note="Exchange for RMA-1001")
    assert (draft.status, draft.order_id) == ("OPEN", None)
    assert I.find_draft_orders(client, "boomerang-ex-42") == []  # not indexed yet
    assert I.fetch_draft_order(client, draft.draft_order_id) == draft  # a direct read: no lag
    assert I.fetch_draft_order(client, 999_999_999) is None
    sandbox.clock.advance(11)
    assert I.find_draft_orders(client, "boomerang-ex-42") == [draft]

    done = I.complete_draft_order(client, draft.draft_order_id)
    raw = issuing_shop.record.orders[done.order_id]
    assert done.status == "COMPLETED" and done.order_name == f"#{raw.number}"
    assert raw.ship_to.country_code == "CA" and raw.ship_to.city == "Ottawa"
    assert raw.email == "pat@example.com" and "boomerang-ex-42" in raw.tags
    assert variant.inventory == before - 1
    assert I.variant_available(client, variant.id) == before - 1
    with pytest.raises(E.UserErrorsError):
        I.complete_draft_order(client, draft.draft_order_id)
    sandbox.clock.advance(11)
    (found,) = I.find_draft_orders(client, "boomerang-ex-42")
    assert found == done


def test_restock_is_keyed_and_changes_from_the_level_it_read(issuing_shop):
    client = issuing_shop.client()
    variant = next(v for v in issuing_shop.record.variants.values() if v.inventory > 0)
    before = variant.inventory
    main = I.list_locations(client)[0].location_id
    variables = I.restock_variables(client, variant_id=variant.id, location_id=main, quantity=3, key="rk-1")
    assert variables["input"]["changes"][0]["changeFromQuantity"] == before  # required from 2026-04
    I.send_restock(client, variables)
    I.send_restock(client, variables)  # the same key and variables: applied once
    assert variant.inventory == before + 3
    stale = I.restock_variables(client, variant_id=variant.id, location_id=main, quantity=1, key="rk-2")
    variant.inventory -= 1  # sold meanwhile
    with pytest.raises(E.UserErrorsError) as refused:
        I.send_restock(client, stale)
    assert [i.code for i in refused.value.items] == ["CHANGE_FROM_QUANTITY_STALE"]
    assert I.variant_available(client, 999_999_999) is None
    with pytest.raises(E.UserErrorsError):
        I.restock_variables(client, variant_id=999_999_999, location_id=main, quantity=1, key="rk-3")


def test_issuing_mutations_are_charged_ten_points(issuing_shop):
    client = issuing_shop.client()
    I.create_gift_card(client, amount=Decimal("1"), code="BMRGCOST0001", note="cost")
    assert client.last_cost["requestedQueryCost"] == 10
    assert client.last_cost["actualQueryCost"] == 10

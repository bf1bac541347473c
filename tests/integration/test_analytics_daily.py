"""The analytics page's daily figures follow every kind of write to the returns, their items and
the units sold (ORM changes, bulk UPDATE and DELETE statements, deletes in cascade), checked
against the figures computed here from the rows as they then stand; and a range that cuts months
ranks products and variants as one that does not."""
import math
import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update

from app.domain.analytics import DateRange, bucket_upper, preset_range
from app.extensions import db
from app.models import Return, ReturnItem
from app.services.analytics import compute
from tests.factories import make_return
from tests.integration.test_analytics import NOW, TODAY, _expected, _generate, _nearest_rank
from tests.support.staff_returns import STAFF_ACCOUNT

pytestmark = STAFF_ACCOUNT
# A preset, and a range that starts and ends inside a month (the ranking then reads whole months
# from the monthly rows and the days at either end from the daily ones).
SPANS = (preset_range(30, TODAY), DateRange(TODAY - timedelta(days=70), TODAY - timedelta(days=3)))


def _returns(account) -> list[Return]:
    db.session.expire_all()
    return list(db.session.scalars(select(Return).where(Return.account_id == account.id)))


def _check(account, orders) -> None:
    """Every figure of both spans (and their previous ranges) equals the one computed from the
    returns as stored now."""
    returns = _returns(account)
    for span in SPANS:
        got = compute(account.id, span)
        for window, side in ((span, got.current), (span.previous(), got.before)):
            want = _expected(orders, returns, window)
            assert (side.sold_units, side.returned_units, side.returned_value) == (
                want["sold"], want["returned"], want["value"]), window
            assert side.split == {k: tuple(v) for k, v in want["split"].items() if v[0] or v[1]}, window
            assert side.kept_share == want["kept"]
            assert (side.failed_returns, side.failed_items) == (
                len(want["failed"]), sum(1 for r in returns if span_has(window, r) for i in r.items
                                         if i.resolution == "FAILED"))
            assert sum(side.durations.values()) == len(want["hours"])
            for q, bucket in ((0.5, side.median), (0.9, side.p90)):
                if want["hours"]:
                    exact = _nearest_rank(want["hours"], q)
                    assert bucket <= exact < (bucket_upper(bucket) or math.inf), (q, exact, bucket)
        want = _expected(orders, returns, span)
        assert [(reason, units) for reason, units, _ in got.reasons] == sorted(
            ((k, v) for k, v in want["reasons"].items() if v), key=lambda kv: (-kv[1], kv[0]))
        for ranked, returned, sold in ((got.products, want["products"], want["product_sold"]),
                                       (got.variants, want["variants"], want["variant_sold"])):
            top = sorted(((k, v) for k, v in returned.items() if k is not None), key=lambda kv: (-kv[1], kv[0]))[:10]
            assert [(row.key, row.returned, row.sold) for row in ranked] == [(k, v, sold[k]) for k, v in top], span
        assert sum(got.returned) == want["returned"] and sum(got.sold) == want["sold"]
        for index, period in enumerate(got.periods):
            want = _expected(orders, returns, period)
            assert got.returned[index] == want["returned"], period
            items, median, p90 = got.durations[index]
            assert items == len(want["hours"]), period
            for q, bucket in ((0.5, median), (0.9, p90)):
                if want["hours"]:
                    exact = _nearest_rank(want["hours"], q)
                    assert bucket <= exact < (bucket_upper(bucket) or math.inf), (period, q, exact, bucket)
                else:
                    assert bucket is None


def span_has(window: DateRange, ret: Return) -> bool:
    """Whether the return was started in the window (UTC day)."""
    return window.start <= ret.created_at.date() <= window.end


def test_figures_follow_every_kind_of_write(account):
    orders, _ = _generate(account, random.Random(30))
    _check(account, orders)
    returns = sorted(_returns(account), key=lambda r: r.id)
    ids = [r.id for r in returns]

    # Through the ORM: each column the figures read, on items and on returns.
    returns[0].items[0].quantity += 2
    returns[1].items[0].option = "credit" if returns[1].items[0].option != "credit" else "exchange"
    returns[2].items[0].reason = "Arrived late"
    returns[3].items[0].resolution = "FAILED"
    returns[4].status = "CANCELLED"
    returns[5].status = "DECLINED" if returns[5].status != "DECLINED" else "OPEN"
    returns[6].created_at = returns[6].created_at - timedelta(days=25)
    returns[7].items[0].option, returns[7].items[0].issued_at = "refund", returns[7].created_at + timedelta(hours=3)
    returns[8].items[0].product_id, returns[8].items[0].variant_id = 1003, 31
    returns[8].items[0].title, returns[8].items[0].variant_title = "Wool Socks", None
    returns[9].items[0].product_id = returns[9].items[0].variant_id = None
    returns[10].items[0].unit_value = Decimal("123.4567")
    returns[11].items[0].option = None
    db.session.commit()
    _check(account, orders)

    # Bulk statements, including one that changes nothing the figures read.
    db.session.execute(update(ReturnItem).where(ReturnItem.return_id.in_(ids[12:20])).values(resolution="FAILED"))
    db.session.execute(update(Return).where(Return.id.in_(ids[20:28])).values(status="DECLINED"))
    db.session.execute(update(Return).where(Return.id.in_(ids[28:32])).values(created_at=NOW - timedelta(days=45)))
    db.session.execute(update(ReturnItem).where(ReturnItem.return_id.in_(ids[32:36]))
                       .values(issued_at=NOW - timedelta(hours=1), option="credit"))
    db.session.execute(update(ReturnItem).values(note="checked"))
    db.session.execute(update(Return).where(Return.account_id == account.id).values(tracking_number=None))
    db.session.commit()
    _check(account, orders)

    # Deletes: an item, a return through the ORM, returns by statement (their items in cascade).
    returns = sorted(_returns(account), key=lambda r: r.id)
    db.session.delete(returns[40].items[0])
    db.session.delete(returns[41])
    db.session.execute(delete(ReturnItem).where(ReturnItem.return_id == ids[42]))
    db.session.execute(delete(Return).where(Return.id.in_(ids[43:47])))
    db.session.commit()
    _check(account, orders)

    # New returns, one of them failed and cancelled (still a failure to see).
    make_return(account, items=[("refund", "ISSUED"), (None, "UNDECIDED")], days_ago=2)
    make_return(account, status="CANCELLED", items=[("credit", "FAILED")], days_ago=40)
    db.session.commit()
    _check(account, orders)


def test_a_shop_redacted_leaves_no_returned_figures(account, client):
    from app.services.privacy import redact_shop

    orders, _ = _generate(account, random.Random(5))
    assert compute(account.id, SPANS[0]).current.returned_units > 0
    redact_shop(account)
    db.session.commit()
    for span in SPANS:
        got = compute(account.id, span)
        for side in (got.current, got.before):
            assert (side.returned_units, side.returned_value, side.split, side.failed_returns, side.sold_units) == (
                0, 0, {}, 0, 0)
            assert not side.durations
        assert (got.products, got.variants, got.reasons) == ([], [], [])
    html = client.get("/dashboard/analytics").get_data(as_text=True)
    assert 'data-figure="returned">0<' in html

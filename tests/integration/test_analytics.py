"""The analytics page: its figures against a computation of their own over generated orders and
returns, the units sold surviving the order purge and replayed webhooks, drill-down links that
list the returns behind a figure, and range parameters nobody could mean refused in words."""
import math
import random
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.domain.analytics import DateRange, bucket_upper, preset_range
from app.domain.order_data import OrderData, OrderLineData
from app.extensions import db
from app.models import Order, UnitsSoldDaily
from app.services import units_sold
from app.services.analytics import figures
from app.services.order_batches import upsert_orders
from app.services.orders import upsert_order
from app.services.retention import purge_expired_orders
from tests.factories import make_return
from tests.support.staff_returns import STAFF_ACCOUNT, listed

pytestmark = STAFF_ACCOUNT
PAGE = "/dashboard/analytics"
NOW = datetime.now(timezone.utc)
TODAY = NOW.date()
PRODUCTS = {1001: ("Trail Runner", [11, 12, 13]), 1002: ("Rain Shell", [21, 22]), 1003: ("Wool Socks", [31])}
REASONS = ["Too small", "Too big", "Faulty", "Not as pictured"]


def _line(n: int, product: int, variant: int, quantity: int) -> OrderLineData:
    price = Decimal("40.00")
    return OrderLineData(line_id=n, product_id=product, variant_id=variant, title=PRODUCTS[product][0],
                         variant_title=f"V{variant}", sku=None, quantity=quantity, unit_price=price,
                         discounted_total=price * quantity, discounted_unit_value=price)


def _order(n: int, created: datetime, lines, cancelled: bool = False, updated: datetime | None = None) -> OrderData:
    return OrderData(shopify_order_id=900_000 + n, name=f"#{n}", email=f"b{n}@example.com", created_at=created,
                     updated_at=updated or created, currency="USD", total_price=Decimal("1"),
                     subtotal_price=Decimal("1"), total_discounts=Decimal("0"),
                     cancelled_at=created if cancelled else None, lines=tuple(lines))


def _generate(account, rng: random.Random, days: int = 80):
    """Orders (some cancelled; half written one by one, half in a batch) and returns over the
    last `days` days; returns the plain records the expected figures are computed from."""
    orders, batch = [], []
    for n in range(120):
        created = NOW - timedelta(days=rng.uniform(0, days))
        lines = []
        for k in range(rng.choice((1, 1, 2, 3))):
            product = rng.choice(list(PRODUCTS))
            lines.append(_line(n * 10 + k, product, rng.choice(PRODUCTS[product][1]), rng.randint(1, 4)))
        data = _order(n, created, lines, cancelled=rng.random() < 0.1)
        orders.append(data)
        (batch.append(data) if n % 2 else upsert_order(account.id, data))
    upsert_orders(account.id, batch)
    returns = []
    for n in range(90):
        created = NOW - timedelta(days=rng.uniform(0, days), seconds=n)
        status = rng.choice(["OPEN", "RECEIVED", "CLOSED", "CLOSED", "CANCELLED", "DECLINED"])
        items = [(rng.choice(["refund", "credit", "exchange", None]), rng.choice(["ISSUED", "DECIDED", "FAILED"]))
                 for _ in range(rng.randint(1, 3))]
        ret = make_return(account, status=status, items=items, created_at=created)
        for item in ret.items:
            product = rng.choice(list(PRODUCTS))
            item.product_id, item.variant_id = product, rng.choice(PRODUCTS[product][1])
            item.title, item.variant_title = PRODUCTS[product][0], f"V{item.variant_id}"
            item.quantity, item.reason = rng.randint(1, 3), rng.choice(REASONS)
            item.unit_value = Decimal(rng.choice(["19.99", "40.00", "7.5"]))
            if item.resolution == "ISSUED":
                item.issued_at = created + timedelta(hours=rng.uniform(0, 200))
        returns.append(ret)
    db.session.commit()
    return orders, returns


def _in(day: date, span: DateRange) -> bool:
    return span.start <= day <= span.end


def _expected(orders, returns, span: DateRange) -> dict:
    """The figures, computed here from the generated records."""
    sold = sum(line.quantity for o in orders if not o.cancelled_at and _in(o.created_at.date(), span)
               for line in o.lines)
    items = [(r, i) for r in returns if r.status not in ("CANCELLED", "DECLINED") and _in(r.created_at.date(), span)
             for i in r.items]
    split = defaultdict(lambda: [0, Decimal("0")])
    for _, i in items:
        split[i.option][0] += i.quantity
        split[i.option][1] += i.quantity * i.unit_value
    returned = sum(i.quantity for _, i in items)
    value = sum((i.quantity * i.unit_value for _, i in items), Decimal("0"))
    hours = sorted((i.issued_at - r.created_at).total_seconds() / 3600 for r, i in items
                   if i.issued_at and i.option in ("refund", "credit"))
    reasons = Counter()
    for _, i in items:
        reasons[i.reason] += i.quantity
    failed = {r.id for r in returns if _in(r.created_at.date(), span) for i in r.items if i.resolution == "FAILED"}
    products, variants = Counter(), Counter()
    for _, i in items:
        products[i.product_id] += i.quantity
        variants[i.variant_id] += i.quantity
    product_sold, variant_sold = Counter(), Counter()
    for o in orders:
        if not o.cancelled_at and _in(o.created_at.date(), span):
            for line in o.lines:
                product_sold[line.product_id] += line.quantity
                variant_sold[line.variant_id] += line.quantity
    return {"sold": sold, "returned": returned, "value": value, "split": dict(split), "hours": hours,
            "reasons": reasons, "failed": failed, "products": products, "product_sold": product_sold,
            "variants": variants, "variant_sold": variant_sold,
            "kept": (split["credit"][1] + split["exchange"][1]) / value if value else None}


def _nearest_rank(values: list[float], q: float) -> float:
    return values[max(1, math.ceil(q * len(values))) - 1]


def test_figures_match_a_computation_of_their_own(account, client):
    orders, returns = _generate(account, random.Random(18))
    span = preset_range(30, TODAY)
    for window in (span, span.previous()):
        want = _expected(orders, returns, window)
        got = figures(account.id, span)
        side = got.current if window == span else got.before
        assert (side.sold_units, side.returned_units, side.returned_value) == (want["sold"], want["returned"],
                                                                                 want["value"])
        assert {k: (u, v) for k, (u, v) in side.split.items()} == {k: tuple(v) for k, v in want["split"].items()}
        assert side.kept_share == want["kept"]
        assert side.failed_returns == len(want["failed"])
        for q, bucket in ((0.5, side.median), (0.9, side.p90)):
            exact = _nearest_rank(want["hours"], q)
            assert bucket <= exact < (bucket_upper(bucket) or math.inf), (q, exact, bucket)
    want = _expected(orders, returns, span)
    assert [(reason, units) for reason, units, _ in got.reasons] == sorted(
        want["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))
    assert {(p.key, p.returned, p.sold) for p in got.products} == {
        (key, units, want["product_sold"][key]) for key, units in want["products"].items()}
    top = sorted(want["variants"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(v.key, v.returned, v.sold) for v in got.variants] == [
        (key, units, want["variant_sold"][key]) for key, units in top]
    assert sum(got.returned) == want["returned"] and sum(got.sold) == want["sold"]
    for index, period in enumerate(got.periods):  # 30 days: one column per day
        day_span = DateRange(period.start, period.end)
        assert (got.returned[index], got.sold[index]) == (_expected(orders, returns, day_span)["returned"],
                                                          _expected(orders, returns, day_span)["sold"])
    page = client.get(PAGE, query_string={"range": "30"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rate = (Decimal(want["returned"]) / want["sold"] * 100).quantize(Decimal("0.1"))
    assert f'data-figure="rate">{rate}%<' in html
    assert f'data-figure="failed">{len(want["failed"])}<' in html
    assert html.count('<svg class="chart') >= 5 and "<title id=\"rate-chart-title\">" in html


def test_each_drill_down_lists_the_returns_behind_its_figure(account, client):
    _orders, returns = _generate(account, random.Random(7))
    span = preset_range(90, TODAY)
    html = client.get(PAGE).get_data(as_text=True)
    counted = [r for r in returns if _in(r.created_at.date(), span)]
    for link, wanted in (
            (("issue", "FAILED"), {r.rma_number for r in counted if any(i.resolution == "FAILED" for i in r.items)}),
            (("reason", "Faulty"), {r.rma_number for r in counted if any(i.reason == "Faulty" for i in r.items)}),
            (("product", "1002"), {r.rma_number for r in counted if any(i.product_id == 1002 for i in r.items)}),
            (("variant", "11"), {r.rma_number for r in counted if any(i.variant_id == 11 for i in r.items)})):
        href = re.search(r'href="(/dashboard/returns\?[^"]*{}={}[^"]*)"'.format(*link), html).group(1)
        args = dict(pair.split("=", 1) for pair in href.split("?", 1)[1].replace("&amp;", "&").split("&"))
        args = {k: v.replace("+", " ") for k, v in args.items()}
        assert args["date_from"] == span.start.isoformat() and args["date_to"] == span.end.isoformat()
        assert set(listed(client, **args, per_page="100")) == wanted, link


def test_units_sold_survive_the_purge_and_replayed_webhooks(account, monkeypatch):
    rng = random.Random(3)
    orders = [_order(n, NOW - timedelta(days=rng.uniform(1, 60)),
                     [_line(n * 10, 1001, 11, rng.randint(1, 5))]) for n in range(40)]
    for data in orders:
        upsert_order(account.id, data)
    db.session.commit()
    sold = sum(o.lines[0].quantity for o in orders)
    span = preset_range(90, TODAY)
    assert figures(account.id, span).current.sold_units == sold
    # Replayed as they were, and one order edited twice: each counts once, as last edited.
    edited = orders[0]
    for extra in (2, 3):
        later = _order(0, edited.created_at, [_line(0, 1001, 11, edited.lines[0].quantity + extra)],
                       updated=edited.updated_at + timedelta(minutes=extra))
        upsert_order(account.id, later)
    upsert_orders(account.id, orders[1:])
    db.session.commit()
    sold += 3
    assert figures(account.id, span).current.sold_units == sold
    # Cancelling takes the order's units off.
    upsert_order(account.id, _order(1, orders[1].created_at, orders[1].lines, cancelled=True,
                                    updated=orders[1].updated_at + timedelta(hours=1)))
    db.session.commit()
    sold -= orders[1].lines[0].quantity
    assert figures(account.id, span).current.sold_units == sold
    # A year on, the orders are purged: the figure stays.
    later = NOW + timedelta(days=365)
    assert purge_expired_orders(account.id, now=later, sleep=lambda _: None) == len(orders)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert figures(account.id, span).current.sold_units == sold
    # A late webhook brings an old order back: it is stored, but not counted a second time.
    monkeypatch.setattr(units_sold, "_now", lambda: later)
    upsert_order(account.id, _order(5, orders[5].created_at, orders[5].lines,
                                    updated=orders[5].updated_at + timedelta(days=200)))
    upsert_orders(account.id, orders[6:9])
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 4
    assert figures(account.id, span).current.sold_units == sold
    assert db.session.scalar(select(func.sum(UnitsSoldDaily.units))) == sold


def test_a_shop_redacted_takes_its_units_sold_along(account):
    from app.services.privacy import redact_shop

    upsert_order(account.id, _order(1, NOW - timedelta(days=2), [_line(1, 1001, 11, 5)]))
    db.session.commit()
    redact_shop(account)
    db.session.commit()
    # Reconnected, the store's orders are imported again: counted once, not on top of the old count.
    upsert_order(account.id, _order(1, NOW - timedelta(days=2), [_line(1, 1001, 11, 5)]))
    db.session.commit()
    assert figures(account.id, preset_range(30, TODAY)).current.sold_units == 5


def test_the_rate_counts_only_this_account(account, client):
    from tests.factories import make_account
    other = make_account()
    upsert_order(other.id, _order(1, NOW - timedelta(days=2), [_line(1, 1001, 11, 50)]))
    make_return(other, items=[("refund", "ISSUED")], days_ago=1)
    upsert_order(account.id, _order(2, NOW - timedelta(days=2), [_line(2, 1001, 11, 4)]))
    make_return(account, items=[("refund", "ISSUED")], days_ago=1)
    db.session.commit()
    html = client.get(PAGE, query_string={"range": "30"}).get_data(as_text=True)
    assert 'data-figure="rate">25.0%<' in html and 'data-figure="returned">1<' in html


def test_a_long_range_is_drawn_per_week(account, client):
    make_return(account, items=[("refund", "ISSUED")], days_ago=100)
    db.session.commit()
    html = client.get(PAGE, query_string={"range": "365"}).get_data(as_text=True)
    assert "Return rate per week" in html
    assert 50 <= html.count('<tr><td><a href="/dashboard/returns?date_from=') // 2 <= 54


@pytest.mark.parametrize("args, message", [
    ({"date_from": "9999-12-31"}, "Enter a date between 2000 and 2999."),
    ({"date_to": "0001-01-01"}, "Enter a date between 2000 and 2999."),
    ({"date_from": "2026-01-01\x00"}, "Enter a date like 2026-03-31."),
    ({"date_from": "２026-01-01"}, "Enter a date like 2026-03-31."),
    ({"date_from": "2026-0²-01"}, "Enter a date like 2026-03-31."),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "Choose a date on or after the first one."),
    ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "Choose at most 400 days."),
    ({"date_from": "2026-01-01" * 50}, "Enter a date like 2026-03-31."),
    ({"range": "7"}, "Choose 30, 90 or 365 days."),
    ("range=%ED%A0%80", "Choose 30, 90 or 365 days."),  # a lone surrogate, as a browser could send its bytes
    ("date_from=%FF%FE", "Enter a date like 2026-03-31."),
])
def test_a_range_nobody_could_mean_is_refused_in_words(account, client, args, message):
    response = client.get(PAGE, query_string=args)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "<svg class=\"chart" not in html


def test_kept_figures_give_way_to_any_change(account, app, client, monkeypatch):
    from sqlalchemy import update

    from app.models import Return, ReturnItem
    from app.services import analytics_cache

    monkeypatch.setitem(app.config, "ANALYTICS_CACHE_SECONDS", 600)
    monkeypatch.setattr(analytics_cache, "_figures", analytics_cache.OrderedDict())

    def shown() -> tuple[str, str]:
        html = client.get(PAGE).get_data(as_text=True)
        return (re.search(r'data-figure="returned">(\d+)<', html).group(1),
                re.search(r'data-figure="rate">([^<]+)<', html).group(1))

    upsert_order(account.id, _order(1, NOW - timedelta(days=1), [_line(1, 1001, 11, 10)]))
    ret = make_return(account, items=[("refund", "ISSUED")], days_ago=1)
    db.session.commit()
    assert shown() == ("1", "10.0%")
    assert len(analytics_cache._figures) == 1
    assert shown() == ("1", "10.0%")  # the second read is the kept one
    # Changes to what the figures do not read keep them: a carrier's state, a tracking number.
    ret.tracking_state = "IN_TRANSIT"
    db.session.commit()
    db.session.execute(update(Return).where(Return.id == ret.id).values(tracking_number="1Z999"))
    db.session.commit()
    assert shown() == ("1", "10.0%") and len(analytics_cache._figures) == 1
    make_return(account, items=[("credit", "DECIDED")], days_ago=2)
    db.session.commit()
    assert shown() == ("2", "20.0%")
    ret.items[0].quantity = 3  # an ORM change
    db.session.commit()
    assert shown() == ("4", "40.0%")
    db.session.execute(update(ReturnItem).where(ReturnItem.return_id == ret.id).values(quantity=2))  # a statement
    db.session.commit()
    assert shown() == ("3", "30.0%")
    upsert_order(account.id, _order(2, NOW - timedelta(days=1), [_line(2, 1001, 11, 5)]))  # more sold
    db.session.commit()
    assert shown() == ("3", "20.0%")


@pytest.mark.parametrize("args, message", [
    ({"product": "²"}, "That product link is not valid."),
    ({"variant": "9" * 20}, "That variant link is not valid."),
    ({"product": "12\x00"}, "That product link is not valid."),
    ({"reason": "x" * 121}, "Use at most 120 characters."),
])
def test_the_lists_new_filters_refuse_what_no_link_sends(account, client, args, message):
    make_return(account, items=[("refund", "ISSUED")], days_ago=1)
    db.session.commit()
    response = client.get("/dashboard/returns", query_string=args)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert 'class="order-link"' not in response.get_data(as_text=True)

"""Analytics page benchmark: N returns (1–3 items each) over the last 12 months, with a year of
units sold per day for 600 variants, in PostgreSQL and in SQLite (the embedded configuration),
measured through the real view (Flask test client, logged in as staff) beside the unfiltered
returns list page in the same run.

Prints p50/p95 of the analytics page read afresh (the figures' cache off,
ANALYTICS_CACHE_SECONDS=0: what every read costs in a store whose returns change every few
seconds) for the default range (90 days) and for a year (365 days, weekly periods), of the
returns list's first page, and each analytics page's ratio to the list page; then the analytics
pages again as served with the cache on (a repeated read of unchanged figures). The load average
and the CPU steal of each database's run are printed beside them (the machine is shared).
Requirement (full size, 100,000 returns): the analytics page's p95 read afresh under 200 ms on
both databases, for both ranges.
"""
import io
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import make_url

from bench import RequirementNotMet

ROOT = Path(__file__).resolve().parent.parent
_BASE = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/boomerang_bench"))
PG_URL = _BASE.set(database=f"{_BASE.database}_analytics").render_as_string(hide_password=False)
SQLITE_PATH = ROOT / "instance" / "bench_analytics.sqlite3"
REDIS_URL = os.environ.get("BENCH_ANALYTICS_REDIS_URL", "redis://127.0.0.1:6379/12")
EMAIL, PASSWORD = "staff@bench.example.com", "bench staff password"
BASELINE = "returns list, unfiltered (baseline)"
PAGES = {BASELINE: ("/dashboard/returns", {}),
         "analytics, 90 days (default)": ("/dashboard/analytics", {}),
         "analytics, 365 days": ("/dashboard/analytics", {"range": "365"})}
CACHED = " [cached]"
LIMIT_MS = 200
STATUSES = ["OPEN"] * 25 + ["IN_TRANSIT"] * 15 + ["RECEIVED"] * 10 + ["PROCESSED"] * 10 + ["CLOSED"] * 33 + \
    ["CANCELLED"] * 5 + ["DECLINED"] * 2
ITEM_STATES = [("refund", "UNDECIDED")] * 15 + [("credit", "DECIDED")] * 10 + [("refund", "ISSUED")] * 35 + \
    [("credit", "ISSUED")] * 15 + [("exchange", "ISSUED")] * 12 + [(None, "NO_ACTION")] * 8 + \
    [("exchange", "FAILED")] * 2 + [("refund", "FAILED")] * 3
REASONS = ["Too small", "Too big", "Not as pictured", "Faulty", "Changed my mind", "Arrived late"]
PRODUCTS, VARIANTS = 200, 3
ACCOUNT_SCRIPT = ("from app import create_app; from app.extensions import db; from app.models import Account, User;"
                  "from app.services.accounts import hash_password; from flask_migrate import upgrade;"
                  "app = create_app(); ctx = app.app_context(); ctx.push(); upgrade();"
                  "a = Account(name='Bench', slug='bench', shop_domain='bench-analytics.myshopify.com');"
                  "db.session.add(a);"
                  "db.session.add(Account(name='Other', slug='other', shop_domain='other-analytics.myshopify.com'));"
                  "db.session.flush();"
                  f"db.session.add(User(account_id=a.id, email='{EMAIL}', password_hash=hash_password('{PASSWORD}'),"
                  " role='staff')); db.session.commit()")


def _env(backend: str) -> dict:
    from bench.intake import _env as intake_env

    if backend == "postgresql":
        return {**intake_env(), "DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL}
    # The embedded configuration: SQLite, jobs in process (no Redis).
    return {**intake_env(), "DATABASE_URL": f"sqlite:///{SQLITE_PATH}", "REDIS_URL": ""}


def rows(returns: int, now: datetime):
    """The returns, their items and the units sold, as plain tuples (the same for both databases):
    the measured account (id 1) has `returns`, the other (id 2) a fifth as many."""
    rng = random.Random(42)
    total = returns + returns // 5
    start = now - timedelta(days=365)
    rets, items, item_id = [], [], 0
    for n in range(1, total + 1):
        account = 1 if n % 6 else 2
        created = start + timedelta(seconds=n * 31_536_000 // total)
        rets.append((n, account, f"R-{100_000 + n}", rng.choice(STATUSES), 5_000_000_000_000 + n, f"#{1000 + n}",
                     f"shopper{n}@example.com", f"Shopper {n}", "USD", created, created))
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            item_id += 1
            option, resolution = rng.choice(ITEM_STATES)
            product = rng.randrange(PRODUCTS)
            variant = product * VARIANTS + rng.randrange(VARIANTS)
            issued = created + timedelta(hours=rng.expovariate(1 / 60)) if resolution == "ISSUED" else None
            items.append((item_id, n, 7_000_000_000_000 + item_id, f"Product {product}", f"Size {variant % 3}",
                          10_000 + product, 20_000 + variant, "24.50", rng.choice((1, 1, 1, 2)),
                          rng.choice(REASONS), option, resolution, issued))
    sold = []
    for day in range(366):
        on = (start + timedelta(days=day)).date()
        for variant in range(PRODUCTS * VARIANTS):
            sold.append((1, on, 10_000 + variant // VARIANTS, 20_000 + variant, rng.randint(1, 12)))
    return rets, items, sold


RET_COLS = ("id, account_id, rma_number, status, shopify_order_id, order_name, customer_email, customer_name, "
            "currency, created_at, updated_at")
ITEM_COLS = ("id, return_id, shopify_line_id, title, variant_title, product_id, variant_id, unit_value, quantity, "
             "reason, option, resolution, issued_at")
SOLD_COLS = "account_id, day, product_id, variant_id, units"


def _copy_text(records) -> str:
    out = io.StringIO()
    for record in records:
        out.write("\t".join("\\N" if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v))
                            for v in record) + "\n")
    return out.getvalue()


def prepare_postgresql(data) -> None:
    """Fresh migrated PostgreSQL database, the rows COPYed in, statistics gathered."""
    import psycopg

    from bench.intake import recreate_database

    recreate_database(PG_URL)
    subprocess.run([sys.executable, "-c", ACCOUNT_SCRIPT], env=_env("postgresql"), cwd=ROOT, check=True,
                   capture_output=True)
    rets, items, sold = data
    with psycopg.connect(PG_URL) as conn:
        for table, cols, records in (("returns", RET_COLS, rets), ("return_items", ITEM_COLS, items),
                                     ("units_sold_daily", SOLD_COLS, sold)):
            with conn.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write(_copy_text(records))
        conn.execute("SELECT setval(pg_get_serial_sequence('returns', 'id'), %s)", (len(rets),))
        conn.execute("SELECT setval(pg_get_serial_sequence('return_items', 'id'), %s)", (len(items),))
        conn.commit()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for table in ("returns", "return_items", "units_sold_daily"):
            conn.execute(f"VACUUM ANALYZE {table}")


def prepare_sqlite(data) -> None:
    """Fresh migrated SQLite file, the rows inserted as the app stores them (naive UTC text,
    money in ten-thousandths), statistics gathered."""
    SQLITE_PATH.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    subprocess.run([sys.executable, "-c", ACCOUNT_SCRIPT], env=_env("sqlite"), cwd=ROOT, check=True,
                   capture_output=True)

    def stamp(value):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ") if value else None

    rets, items, sold = data
    conn = sqlite3.connect(SQLITE_PATH)
    conn.executemany(f"INSERT INTO returns ({RET_COLS}) VALUES ({', '.join('?' * 11)})",
                     [(*r[:9], stamp(r[9]), stamp(r[10])) for r in rets])
    conn.executemany(f"INSERT INTO return_items ({ITEM_COLS}) VALUES ({', '.join('?' * 13)})",
                     [(*i[:7], 245_000, *i[8:12], stamp(i[12])) for i in items])
    conn.executemany(f"INSERT INTO units_sold_daily ({SOLD_COLS}) VALUES (?, ?, ?, ?, ?)",
                     [(a, d.isoformat(), p, v, u) for a, d, p, v, u in sold])
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


MEASURE = r"""
import json, re, sys, time
from app import create_app
pages, repeats, email, password = json.loads(sys.argv[1])
app = create_app()
client = app.test_client()
login = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
assert client.post("/login", data={"csrf_token": token, "email": email, "password": password}).status_code in (302, 303)
figures = {}
for name, (path, args) in pages.items():
    def get():
        response = client.get(path, query_string=args)
        assert response.status_code == 200, (name, response.status_code)
        return response.get_data(as_text=True)
    html = get(); get()  # warm: templates, pools, plans
    if "analytics" in path:
        assert html.count('<svg class="chart') >= 5, name
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        get()
        out.append((time.perf_counter() - started) * 1000)
    figures[name] = sorted(out)
print(json.dumps(figures))
"""


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def measure(backend: str, smoke: bool) -> dict:
    """Rounds of the pages on one database (fresh processes each); medians of the rounds' p50/p95.
    Each round reads the list and the analytics pages with the figures' cache off (the
    requirement), then the analytics pages with it on."""
    from bench.loadgen import cpu_times, format_share, steal_share

    rounds = []
    cached = {f"{name}{CACHED}": spec for name, spec in PAGES.items() if "analytics" in spec[0]}
    load, steal_before = os.getloadavg()[0], cpu_times()
    for _ in range(1 if smoke else 3):
        figures = {}
        for pages, cache in ((PAGES, {"ANALYTICS_CACHE_SECONDS": "0"}), (cached, {})):
            out = subprocess.run([sys.executable, "-c", MEASURE,
                                  json.dumps([pages, 10 if smoke else 60, EMAIL, PASSWORD])],
                                 env={**_env(backend), **cache}, cwd=ROOT, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(f"measuring on {backend} failed: {out.stderr.strip().splitlines()[-3:]}")
            figures.update(json.loads(out.stdout.strip().splitlines()[-1]))
        rounds.append(figures)
    load = max(load, os.getloadavg()[0])
    print(f"  {backend}: load average (1 min, highest of start and end) {load:.2f} on {os.cpu_count()} CPUs, "
          f"CPU steal {format_share(steal_share(steal_before, cpu_times()))}", flush=True)
    summary = {}
    for name in rounds[0]:
        summary[name] = {"p50": statistics.median(_pct(r[name], .5) for r in rounds),
                         "p95": statistics.median(_pct(r[name], .95) for r in rounds),
                         "ratio_p95": statistics.median(_pct(r[name], .95) / _pct(r[BASELINE], .95) for r in rounds)}
        print(f"  {backend:10s} {name:38s} p50 {summary[name]['p50']:7.1f} ms   p95 {summary[name]['p95']:7.1f} ms"
              f"   p95 ratio vs list {summary[name]['ratio_p95']:5.2f}", flush=True)
    summary["load_average"] = load
    return summary


def run(smoke: bool = False) -> dict:
    """Build the data once, load it into both databases, measure; fails past LIMIT_MS at full size."""
    returns = 3_000 if smoke else 100_000
    started = time.perf_counter()
    data = rows(returns, datetime.now(timezone.utc))
    print(f"analytics: {returns:,} returns (+{returns // 5:,} of another account), {len(data[1]):,} items, "
          f"{len(data[2]):,} days × variants of units sold, built in {time.perf_counter() - started:.1f} s", flush=True)
    results = {}
    for backend, prepare in (("postgresql", prepare_postgresql), ("sqlite", prepare_sqlite)):
        started = time.perf_counter()
        prepare(data)
        print(f"  {backend}: loaded in {time.perf_counter() - started:.1f} s", flush=True)
        results[backend] = measure(backend, smoke)
    slow = [f"{backend} {name}: p95 {figures['p95']:.1f} ms" for backend, pages in results.items()
            for name, figures in pages.items() if name.startswith("analytics") and not name.endswith(CACHED)
            and figures["p95"] >= LIMIT_MS]
    print(f"requirement: analytics p95 read afresh (no cache) under {LIMIT_MS} ms on both databases (median of "
          f"{1 if smoke else 3} rounds): {'not met: ' + '; '.join(slow) if slow else 'met'}")
    if slow and not smoke:
        raise RequirementNotMet("; ".join(slow), results)
    return results


if __name__ == "__main__":
    run(smoke="--smoke" in sys.argv)

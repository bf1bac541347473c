"""Returns list exports benchmark: the whole of an account of N returns (1–3 items each) downloaded
as CSV through the real view (Flask test client, production-configured app, logged in as an
admin) on PostgreSQL, the response consumed a chunk at a time as a WSGI server would send it.

Prints, for "Returns (CSV)" and "Returned items (CSV)": rows, MB written, rows/s, and the growth of
the process's resident memory over the export (the peak of /proc/self/statm's RSS sampled after
every chunk, minus the RSS before the request; the peak RSS from getrusage beside it). Baselines
measured in the same run: the same rows as a plain `COPY (SELECT …) TO STDOUT (FORMAT csv)` on
psycopg (what PostgreSQL alone takes to write them: the ratio export time ÷ COPY time), and the
unfiltered first page of the returns list (what a page costs beside a whole export).
Requirement (full size, 100,000 returns): memory grows by at most 20 MB over each export.
"""
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import make_url

from bench import RequirementNotMet, load_returns

ROOT = Path(__file__).resolve().parent.parent
_BASE = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/boomerang_bench"))
PG_URL = _BASE.set(database=f"{_BASE.database}_exports").render_as_string(hide_password=False)
REDIS_URL = os.environ.get("BENCH_EXPORTS_REDIS_URL", "redis://127.0.0.1:6379/11")
EMAIL, PASSWORD = "admin@bench.example.com", "bench admin password"
LIMIT_MB = 20
STATUSES = ["OPEN"] * 30 + ["IN_TRANSIT"] * 20 + ["RECEIVED"] * 15 + ["PROCESSED"] * 10 + ["CLOSED"] * 20 + \
    ["CANCELLED"] * 5
ITEM_STATES = [("refund", "UNDECIDED")] * 25 + [("credit", "DECIDED")] * 20 + [("refund", "ISSUED")] * 25 + \
    [("exchange", "ISSUED")] * 10 + [(None, "NO_ACTION")] * 15 + [("refund", "FAILED")] * 5


def _env() -> dict:
    from bench.intake import _env as intake_env

    return {**intake_env(), "DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL}


def prepare(env: dict, returns: int) -> None:
    """Fresh migrated database: the measured account (with an admin login) and a second account
    holding a fifth as many returns, so every query has to scope. Issued items carry an amount and
    a refund id; names and reasons are of a realistic length."""
    import psycopg

    from bench.intake import recreate_database

    recreate_database(PG_URL)
    script = ("from app import create_app; from app.extensions import db; from app.models import Account, User;"
              "from app.services.accounts import hash_password; from flask_migrate import upgrade;"
              "app = create_app(); ctx = app.app_context(); ctx.push(); upgrade();"
              "a = Account(name='Bench', slug='bench', shop_domain='bench-exports.myshopify.com'); db.session.add(a);"
              "db.session.add(Account(name='Other', slug='other', shop_domain='other-exports.myshopify.com'));"
              "db.session.flush();"
              f"db.session.add(User(account_id=a.id, email='{EMAIL}', password_hash=hash_password('{PASSWORD}'),"
              " role='admin')); db.session.commit()")
    subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True, capture_output=True)
    rng = random.Random(42)
    with psycopg.connect(PG_URL) as conn:
        accounts = [row[0] for row in conn.execute("SELECT id FROM accounts ORDER BY id")]
        ret_cols = ("id, account_id, rma_number, status, shopify_order_id, order_name, customer_email, "
                    "customer_name, currency, tracking_number, tracking_state, created_at, updated_at")
        item_cols = ("id, return_id, shopify_line_id, product_id, variant_id, sku, title, variant_title, unit_value, "
                     "quantity, reason, option, resolution, issued_amount, shopify_refund_id")
        total = returns + returns // 5
        rets, items, item_id = io.StringIO(), io.StringIO(), 0
        for n in range(1, total + 1):
            account = accounts[0] if n % 6 else accounts[1]
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(1_767_225_600 + n * 31_536_000 // total))
            rets.write(f"{n}\t{account}\tR-{100_000 + n}\t{rng.choice(STATUSES)}\t{5_000_000_000_000 + n}\t"
                       f"#{1000 + n}\tshopper{n}@example.com\tShopper Number {n}\tUSD\t1Z{n:016d}\tIN_TRANSIT\t"
                       f"{stamp}+00\t{stamp}+00\n")
            for k in range(rng.choice((1, 1, 1, 2, 2, 3))):
                item_id += 1
                option, resolution = rng.choice(ITEM_STATES)
                price = f"{rng.randint(500, 25_000) / 100:.2f}"
                issued = (price, str(8_000_000_000_000 + item_id)) if resolution == "ISSUED" else (r"\N", r"\N")
                items.write(f"{item_id}\t{n}\t{7_000_000_000_000 + item_id}\t{9_000_000 + k}\t{9_100_000 + k}\t"
                            f"SKU-{k}-{n % 97}\tTrail Runner Item {k}\t42 / Grey\t{price}\t1\tChanged my mind\t"
                            f"{option or chr(92) + 'N'}\t{resolution}\t{issued[0]}\t{issued[1]}\n")
        load_returns(PG_URL, conn, ret_cols, rets.getvalue(), item_cols, items.getvalue())


MEASURE = r"""
import json, os, re, resource, sys, time
import psycopg
from app import create_app
from app.extensions import db
from app.models import Account
pg_url, email, password = json.loads(sys.argv[1])
PAGE = os.sysconf("SC_PAGE_SIZE")

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE

app = create_app()
client = app.test_client()
login = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
assert client.post("/login", data={"csrf_token": token, "email": email, "password": password}).status_code in (302, 303)
with app.app_context():
    account_id = db.session.query(Account.id).filter_by(slug="bench").scalar()

def export(url, query=None):
    before, peak, size, chunks = rss(), 0, 0, 0
    started = time.perf_counter()
    response = client.get(url, query_string=query or {}, buffered=False)
    assert response.status_code == 200, response.status_code
    lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\r\n")
        chunks += 1
        peak = max(peak, rss())
    response.close()
    return {"seconds": time.perf_counter() - started, "rows": lines - 1, "bytes": size, "chunks": chunks,
            "growth": max(peak - before, 0), "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}

figures = {}
# Warm: code paths, pools, statement caches (a small filtered export of each kind).
for kind in ("returns", "items"):
    export(f"/dashboard/returns/export/{kind}.csv", {"q": "R-100001"})
started = time.perf_counter()
for _ in range(20):
    assert client.get("/dashboard/returns").status_code == 200
figures["list_page_ms"] = (time.perf_counter() - started) / 20 * 1000
for kind in ("returns", "items"):
    figures[kind] = export(f"/dashboard/returns/export/{kind}.csv")
copies = {
    "returns": "COPY (SELECT r.*, (SELECT sum(i.unit_value * i.quantity) FROM return_items i "
               "WHERE i.return_id = r.id) FROM returns r WHERE r.account_id = {a} "
               "ORDER BY r.created_at DESC, r.id DESC) TO STDOUT (FORMAT csv)",
    "items": "COPY (SELECT r.rma_number, r.status, r.created_at, r.order_name, r.shopify_order_id, r.customer_name, "
             "r.customer_email, r.currency, i.* FROM returns r JOIN return_items i ON i.return_id = r.id "
             "WHERE r.account_id = {a} ORDER BY r.created_at DESC, r.id DESC, i.id) TO STDOUT (FORMAT csv)",
}
with psycopg.connect(pg_url) as conn:
    for kind, sql in copies.items():
        started, size, lines = time.perf_counter(), 0, 0
        with conn.cursor().copy(sql.format(a=int(account_id))) as copy:
            for block in copy:
                size += len(block)
                lines += bytes(block).count(b"\n")
        figures[kind]["copy_seconds"] = time.perf_counter() - started
        figures[kind]["copy_rows"] = lines
print(json.dumps(figures))
"""


def run(smoke: bool = False) -> dict:
    """Build the data, export each CSV once in a fresh process, print the figures; returns them."""
    returns = 5_000 if smoke else 100_000
    env = _env()
    started = time.perf_counter()
    prepare(env, returns)
    print(f"exports: {returns:,} returns (+{returns // 5:,} of another account) COPYed in "
          f"{time.perf_counter() - started:.1f} s")
    out = subprocess.run([sys.executable, "-c", MEASURE, json.dumps([PG_URL, EMAIL, PASSWORD])],
                         env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"measuring failed: {out.stderr.strip().splitlines()[-3:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  unfiltered returns list page (baseline): {figures['list_page_ms']:.1f} ms")
    over = []
    for kind in ("returns", "items"):
        f = figures[kind]
        growth_mb = f["growth"] / 2**20
        rate = f["rows"] / f["seconds"]
        print(f"  {kind:8s} {f['rows']:>8,} rows  {f['bytes'] / 2**20:6.1f} MB in {f['chunks']} chunks  "
              f"{f['seconds']:6.2f} s  {rate:>9,.0f} rows/s  RSS growth {growth_mb:5.1f} MB "
              f"(peak RSS {f['maxrss_kb'] / 1024:.0f} MB)")
        print(f"           raw COPY of the same rows: {f['copy_rows']:,} rows in {f['copy_seconds']:.2f} s; "
              f"export ÷ COPY {f['seconds'] / f['copy_seconds']:.1f}×; "
              f"export ÷ one list page {f['seconds'] * 1000 / figures['list_page_ms']:.0f}×")
        if growth_mb > LIMIT_MB:
            over.append(f"{kind}: memory grew {growth_mb:.1f} MB > {LIMIT_MB} MB")
    if over and not smoke:
        raise RequirementNotMet("; ".join(over), figures)
    return figures


if __name__ == "__main__":
    run(smoke="--smoke" in sys.argv)

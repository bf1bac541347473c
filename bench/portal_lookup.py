"""Portal lookup benchmark: N orders in PostgreSQL (COPY), the lookup page over HTTP (gunicorn).

Prints the latency of a successful lookup POST (order number + email → 303 to the items page,
with CSRF, the rate limiter on Redis and the portal session) — requirement: p95 under 20 ms — and
the lookup query as the app issues it (`app.portal.session.find_order_id`, through SQLAlchemy)
against the same indexed lookup as raw SQL on a plain psycopg connection, timed in the same run:
the app's query may cost at most 3× the raw one. EXPLAIN shows both use ix_orders_portal_lookup.
"""
import http.client
import io
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import RequirementNotMet
from bench.intake import _env, _free_port, prepare_database
from bench.loadgen import open_loop

RATE = 100  # lookups per second, on a fixed schedule (a busy shop's portal sees far fewer)

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/boomerang_bench")
SLUG = "bench"


def prepare(env: dict, orders: int) -> int:
    """Fresh, migrated database with one account and `orders` orders (one line each), COPYed."""
    import psycopg

    prepare_database(env)  # fresh, migrated, one account with slug "bench"
    with psycopg.connect(PG_URL) as conn:
        account_id = conn.execute("SELECT id FROM accounts WHERE slug = %s", (SLUG,)).fetchone()[0]
        columns = ("id, account_id, shopify_order_id, name, email, currency, total_price, subtotal_price, "
                   "total_discounts, discount_codes, tags, created_at, updated_at, stored_at")
        with conn.cursor().copy(f"COPY orders ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for n in range(1, orders + 1):
                buffer.write(f"{n}\t{account_id}\t{5_000_000_000_000 + n}\t#{1000 + n}\tshopper{n}@example.com\t"
                             "USD\t96.00\t96.00\t0\t[]\t[]\t2026-11-01 12:00:00+00\t2026-11-01 12:00:00+00\t"
                             "2026-11-01 12:00:00+00\n")
                if n % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        conn.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), %s)", (orders,))
        conn.commit()
        conn.execute("ANALYZE orders")
    return account_id


def start_gunicorn(env: dict):
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "bench.portal_wsgi:app", "-b", f"127.0.0.1:{port}",
                                "-w", "2", "--threads", "4", "--log-level", "warning"], env=env, cwd=ROOT)
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health")
            break
        except OSError:
            time.sleep(0.1)
    return process, port


def lookup_latencies(port: int, orders: int, requests: int, clients: int = 4) -> tuple[list[float], int]:
    """Each client: a browser session (cookie + CSRF token), then successful lookups back to back."""
    latencies, bad = [], [0]
    lock = threading.Lock()

    def client(index: int):
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", f"/r/{SLUG}")
        page = conn.getresponse()
        body = page.read().decode()
        cookie = next(c.split(";", 1)[0] for c in page.headers.get_all("Set-Cookie") if c.startswith("session="))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
        for _ in range(requests // clients):
            n = rng.randint(1, orders)
            form = urlencode({"csrf_token": token, "order_number": str(1000 + n),
                              "email": f" Shopper{n}@Example.com"})
            started = time.perf_counter()
            conn.request("POST", f"/r/{SLUG}", body=form, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                })
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status != 303:
                    bad[0] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(latencies), bad[0]


class LookupRequest:
    """Picklable request factory for the open-loop run: one browser session's cookie and CSRF
    token, a random existing order per request (so every answer is a 303 to the items page)."""

    def __init__(self, cookie: str, token: str, orders: int):
        self.cookie, self.token, self.orders = cookie, token, orders

    def __call__(self, client, n):
        k = random.Random(client * 1_000_003 + n).randint(1, self.orders)
        form = urlencode({"csrf_token": self.token, "order_number": str(1000 + k), "email": f" Shopper{k}@Example.com"})
        return ("POST", f"/r/{SLUG}", form.encode(), {"Content-Type": "application/x-www-form-urlencoded",
                                                      "Cookie": self.cookie})


def browser_session(port: int) -> tuple[str, str]:
    """The session cookie and CSRF token a browser gets from the lookup page."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"/r/{SLUG}")
    page = conn.getresponse()
    body = page.read().decode()
    cookie = next(c.split(";", 1)[0] for c in page.headers.get_all("Set-Cookie") if c.startswith("session="))
    return cookie, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)


def query_costs(env: dict, account_id: int, orders: int, repeats: int) -> dict:
    """Median µs per lookup: the app's query (SQLAlchemy, in an app context) vs raw psycopg SQL."""
    script = f"""
import json, random, statistics, time, psycopg
from app import create_app
from app.portal.session import find_order_id
app = create_app()
rng = random.Random(7)
keys = [rng.randint(1, {orders}) for _ in range({repeats})]
raw_sql = ("SELECT id FROM orders WHERE account_id = %s AND name = ANY(%s) AND email = %s "
           "ORDER BY created_at DESC LIMIT 1")
def timed(fn):
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for n in keys:
            assert fn(n) == n
        rounds.append((time.perf_counter() - started) / len(keys) * 1e6)
    return statistics.median(rounds)
with app.app_context():
    app_us = timed(lambda n: find_order_id({account_id}, str(1000 + n), f"Shopper{{n}}@example.com"))
with psycopg.connect("{PG_URL}", autocommit=True, prepare_threshold=0) as conn:
    raw_us = timed(lambda n: conn.execute(raw_sql, ({account_id}, [f"#{{1000 + n}}", str(1000 + n)],
                                                    f"shopper{{n}}@example.com")).fetchone()[0])
    plan = "\\n".join(r[0] for r in conn.execute("EXPLAIN " + raw_sql, ({account_id}, ["#1001", "1001"], "x")))
print(json.dumps({{"app_us": app_us, "raw_us": raw_us, "plan": plan}}))
"""
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def run(smoke: bool = False) -> dict:
    """Measure and print; returns the figures."""
    orders = 20_000 if smoke else 1_000_000
    env = {**_env(), "DATABASE_URL": PG_URL}
    started = time.perf_counter()
    account_id = prepare(env, orders)
    print(f"portal_lookup: {orders:,} orders COPYed in {time.perf_counter() - started:.1f} s")
    process, port = start_gunicorn(env)
    try:
        # One shopper after another: every lookup must find its order (a 303 to the items page).
        serial, bad = lookup_latencies(port, orders, 200 if smoke else 1000, clients=1)
        factory = LookupRequest(*browser_session(port), orders)
        rounds = [open_loop(f"http://127.0.0.1:{port}", factory, rate=RATE, seconds=3 if smoke else 10)
                  for _ in range(1 if smoke else 3)]
    finally:
        process.terminate()
        process.wait(10)
    p95s = [r["p95"] for r in rounds]
    p50s = [r["p50"] for r in rounds]
    costs = query_costs(env, account_id, orders, 500 if smoke else 3000)
    ratio = costs["app_us"] / costs["raw_us"]
    figures = {"orders": orders, "p50_ms": statistics.median(p50s), "p95_ms": statistics.median(p95s),
               "serial_p50_ms": statistics.median(serial), "serial_p95_ms": serial[int(0.95 * len(serial)) - 1],
               "non_303": bad, "app_query_us": costs["app_us"], "raw_query_us": costs["raw_us"], "ratio": ratio}
    print(f"lookup page, one shopper at a time: p50 {figures['serial_p50_ms']:.1f} ms, "
          f"p95 {figures['serial_p95_ms']:.1f} ms, lookups not finding their order: {bad}")
    print(f"lookup page at {RATE} lookups/s (gunicorn 2×4, open loop, medians of {len(rounds)}): "
          f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms (need < 20 ms)")
    print(f"lookup query: app {costs['app_us']:.0f} µs vs raw SQL {costs['raw_us']:.0f} µs "
          f"-> ratio {ratio:.2f} (need <= 3)")
    print("plan: " + costs["plan"].replace("\n", " | "))
    missed = []
    # Timings are requirements at full size only: a smoke run on a busy CI machine checks that
    # the benchmark works and that lookups are right and indexed, not how fast they are.
    if figures["p95_ms"] >= 20 and not smoke:
        missed.append(f"p95 {figures['p95_ms']:.1f} ms >= 20 ms")
    if ratio > 3 and not smoke:
        missed.append(f"query ratio {ratio:.2f} > 3")
    if bad:
        missed.append(f"{bad} lookups did not find their order")
    if "ix_orders_portal_lookup" not in costs["plan"]:
        missed.append("the lookup does not use ix_orders_portal_lookup")
    if missed:
        raise RequirementNotMet("; ".join(missed), figures)
    return figures


if __name__ == "__main__":
    run(smoke="--smoke" in sys.argv)

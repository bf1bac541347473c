"""Retention benchmark: purge N expired orders (with their lines) while signed webhook
deliveries arrive at 200 requests/second; intake p99 must stay under 50 ms.

Prints intake latency while the purge runs beside the same figure with no purge running (the
baseline, same server, same run), and the purge's own rate.
"""
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from bench import RequirementNotMet
from bench.intake import PG_URL, ROOT, SignedDelivery, _env, prepare_database, start_gunicorn
from bench.loadgen import format_share, open_loop


def seed_expired_orders(count: int) -> int:
    """COPY `count` orders (200 days old) with one line each into the bench account."""
    import psycopg

    old = datetime.now(timezone.utc) - timedelta(days=200)
    with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql")) as conn:
        account_id = conn.execute("SELECT id FROM accounts WHERE slug = 'bench'").fetchone()[0]
        with conn.cursor().copy(
                "COPY orders (id, account_id, shopify_order_id, name, email, currency, total_price, subtotal_price,"
                " total_discounts, discount_codes, tags, created_at, updated_at, stored_at) FROM STDIN") as copy:
            for n in range(1, count + 1):
                copy.write_row((n, account_id, 9_000_000_000 + n, f"#{n}", f"buyer{n}@example.com", "USD",
                                "10.00", "10.00", "0.00", "[]", "[]", old, old, old))
        with conn.cursor().copy(
                "COPY order_lines (order_id, shopify_line_id, title, product_tags, quantity, unit_price,"
                " discounted_unit_price, fulfilled_quantity, refunded_quantity) FROM STDIN") as copy:
            for n in range(1, count + 1):
                copy.write_row((n, 8_000_000_000 + n, "Item", "[]", 1, "10.00", "10.00", 1, 0))
        conn.execute("SELECT setval('orders_id_seq', %s)", (count,))
        conn.execute("ANALYZE orders; ANALYZE order_lines")
    return account_id


def run(smoke: bool = False) -> dict:
    """Measure and print; returns the figures."""
    count = 5_000 if smoke else 500_000
    seconds = 3.0 if smoke else 15.0
    env = _env()
    prepare_database(env)
    started = time.perf_counter()
    account_id = seed_expired_orders(count)
    print(f"retention: seeded {count} expired orders in {time.perf_counter() - started:.1f}s")
    process, url = start_gunicorn(env)
    try:
        baseline = open_loop(url, SignedDelivery(), rate=200, seconds=seconds)
        script = ("import time; from app import create_app; from app.services.retention import purge_expired_orders;"
                  "app = create_app(); ctx = app.app_context(); ctx.push(); t = time.perf_counter();"
                  f"n = purge_expired_orders({account_id}); print(n, time.perf_counter() - t)")
        purge = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        during = [open_loop(url, SignedDelivery(), rate=200, seconds=seconds)]
        while purge.poll() is None and not smoke:
            during.append(open_loop(url, SignedDelivery(), rate=200, seconds=seconds))
        out, _ = purge.communicate(timeout=1800)
        deleted, elapsed = out.split()
    finally:
        process.terminate()
        process.wait(10)
    p99_during = max(d["p99"] for d in during)
    figures = {"orders_purged": int(deleted), "purge_seconds": float(elapsed),
               "purge_rate": int(deleted) / float(elapsed), "intake_p99_baseline_ms": baseline["p99"],
               "intake_p99_during_purge_ms_worst_window": p99_during,
               "intake_p99_during_purge_ms_median_window": statistics.median(d["p99"] for d in during)}
    print("retention: windows during the purge: " + ", ".join(
        f"p99 {d['p99']:.1f} ms (steal {format_share(d['steal'])})" for d in during)
          + f"; alone: steal {format_share(baseline['steal'])}")
    print(f"retention: purged {deleted} orders in {float(elapsed):.1f}s ({figures['purge_rate']:.0f}/s)")
    print(f"retention: intake p99 at 200 req/s: {baseline['p99']:.1f} ms alone, "
          f"{p99_during:.1f} ms worst {seconds:.0f}s window during the purge (need < 50 ms); "
          f"ratio {p99_during / baseline['p99']:.2f}")
    if p99_during >= 50 and not smoke:
        raise RequirementNotMet(f"intake p99 {p99_during:.1f} ms during the purge >= 50 ms")
    return figures


if __name__ == "__main__":
    run(smoke="--smoke" in sys.argv)

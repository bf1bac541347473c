"""Flash-sale benchmark: a burst of `orders/create` deliveries for one shop on the basic plan's
rate limit (100 points/s, bucket 2,000), against gunicorn and two `flask jobs worker` processes
on PostgreSQL + Redis, with the sandbox as Shopify (on a thread here, real time).

Sent at 100 deliveries/s (10,000; 100 with --smoke), each a real order of the sandbox shop, so
the confirmer reads them back. Prints:
- visibility: from each delivery's 200 to the first time the dashboard's own orders query (its
  search by order number) returns the order, sampled for every order — p50 and p99 (need p99 ≤ 2 s);
- intake p99 during the sale, against the intake benchmark's p99 measured in this run on its
  own server with no pipeline, at the sale's rate for as long as the sale (need within 2 ms), and
  bench.intake's p99 at its own 200/s for reference;
- confirmation: points spent per order, orders confirmed per second, the time taken against the
  points spent ÷ the restore rate × 1.2, and THROTTLED answers (need 0);
- the CPU steal while each of the two measured runs was sent, and over the whole sale.
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

from bench import RequirementNotMet
from bench import intake as intake_bench
from bench.flash_parts import PG_URL, SHOP, start_sampler, start_sandbox
from bench.loadgen import (KeepAliveConnection, apart, cpu_times, format_share, format_stalls, open_loop,
                           slowest_during_stalls, steal_share, tree_cpu_seconds, watch_flushes, watch_stalls,
                           watching)

ROOT = intake_bench.ROOT
REDIS_URL = os.environ.get("BENCH_FLASH_REDIS_URL", "redis://127.0.0.1:6379/12")
RATE = 100.0
RESTORE_RATE = 100.0  # the basic plan's (sandbox/models.py PLANS)


def _env() -> dict:
    return {**intake_bench._env(), "DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL}


def prepare_database(env: dict, shop: dict) -> None:
    """Fresh database, migrated, with one account connected to the sandbox shop."""
    intake_bench.recreate_database(PG_URL)
    account = {"origin": shop["origin"], "token": shop["token"], "secret": shop["secret"], "scopes": shop["scopes"]}
    script = ("import json, os; from datetime import datetime, timezone;"
              "from app import create_app; from app.extensions import db; from app.models import Account;"
              "from app.crypto import encrypt_secret; from flask_migrate import upgrade;"
              "a = json.loads(os.environ['FLASH_ACCOUNT']);"
              "app = create_app(); ctx = app.app_context(); ctx.push(); upgrade();"
              f"db.session.add(Account(name='Flash', slug='flash', shop_domain='{SHOP}', api_origin=a['origin'],"
              " connection_method='legacy_token', access_token_encrypted=encrypt_secret(a['token']),"
              " webhook_secret_encrypted=encrypt_secret(a['secret']), granted_scopes=a['scopes'],"
              " connected_at=datetime.now(timezone.utc))); db.session.commit()")
    subprocess.run([sys.executable, "-c", script], env={**env, "FLASH_ACCOUNT": json.dumps(account)},
                   cwd=ROOT, check=True, capture_output=True)
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()


def signed_deliveries(shop: dict) -> list[tuple[str, bytes, dict]]:
    """(order name, body, headers) of an orders/create delivery for each sandbox order."""
    from app.shopify.webhooks import compute_webhook_hmac

    run = uuid.uuid4().hex[:8]
    out = []
    for payload in shop["bodies"]:
        body = json.dumps(payload).encode()
        event = f"{run}-{payload['id']}"
        out.append((payload["name"], body, {
            "Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": compute_webhook_hmac(body, shop["secret"]), "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Event-Id": event, "X-Shopify-Webhook-Id": event, "X-Shopify-API-Version": "2026-07"}))
    return out


def warm_up(url: str, shop: dict, connections: int = 8, each: int = 4) -> None:
    """Bring the server to the state a shop's server is in before a sale: every gunicorn worker
    has served deliveries on each of its database connections. Deliveries of a topic nothing acts
    on (shop/update), sent as the sale will be (`connections` at once); not measured."""
    from app.shopify.webhooks import compute_webhook_hmac

    parts = urlsplit(url)
    body = json.dumps({"id": 1, "name": "warm-up"}).encode()

    def loop(n: int) -> None:
        conn = KeepAliveConnection(parts.hostname, parts.port)
        for _ in range(each):
            event = f"warm-up-{uuid.uuid4().hex}"
            conn.request("POST", "/webhooks/shopify", body, {
                "Content-Type": "application/json", "X-Shopify-Topic": "shop/update",
                "X-Shopify-Hmac-Sha256": compute_webhook_hmac(body, shop["secret"]), "X-Shopify-Shop-Domain": SHOP,
                "X-Shopify-Event-Id": event, "X-Shopify-Webhook-Id": event, "X-Shopify-API-Version": "2026-07"})

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def start_workers(env: dict, count: int = 2) -> list[subprocess.Popen]:
    """`flask jobs worker` processes (each with its dispatcher), as the Procfile runs them."""
    logs = [open(f"/tmp/boomerang-flash-worker-{n}.log", "wb") for n in range(count)]  # RQ logs every job
    return [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], env=env, cwd=ROOT,
                             stdout=log, stderr=subprocess.STDOUT) for log in logs]


def wait_for_workers(count: int, timeout: float = 60.0) -> None:
    """Until `count` RQ workers have registered (their dispatchers start just before)."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(REDIS_URL)
    deadline = time.time() + timeout
    while Worker.count(connection=connection) < count:
        if time.time() > deadline:
            raise SystemExit(f"the {count} workers did not start within {timeout:.0f} s")
        time.sleep(0.2)
    time.sleep(1.0)  # their first look at the queues


def send(url: str, deliveries, rate: float, answered, connections: int = 8) -> tuple[int, list, list, float]:
    """Send every delivery on a fixed schedule (run it through `apart`); note each one's answer
    time (wall clock) in the shared array `answered`. Returns the number of non-200 answers; by
    delivery, the latency from the scheduled send and how late it was sent (ms); and the CPU
    seconds the sending process used."""
    parts = urlsplit(url)
    lock = threading.Lock()
    next_index = [0]
    errors = [0]
    latencies, late = [None] * len(deliveries), [None] * len(deliveries)
    start = time.perf_counter() + 0.2

    def loop():
        conn = KeepAliveConnection(parts.hostname, parts.port)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(deliveries):
                break
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            _name, body, headers = deliveries[i]
            late[i] = (time.perf_counter() - scheduled) * 1000
            status = conn.request("POST", "/webhooks/shopify", body, headers)
            answered[i] = time.time()
            latencies[i] = (time.perf_counter() - scheduled) * 1000
            if status != 200:
                with lock:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors[0], latencies, late, time.process_time()


def _scalar(sql: str):
    """One value from the benchmark's database, on a connection of its own."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    with engine.connect() as conn:
        value = conn.scalar(text(sql))
    engine.dispose()
    return value


def checkpoint(database_url: str) -> None:
    """Have the PostgreSQL server of `database_url` write out every changed page now (CHECKPOINT)
    before a measured phase, so that both phases start alike. A timed checkpoint (every
    checkpoint_timeout, 5 minutes by default) otherwise lands in one phase or the other at random,
    and its writes and the full page images after it sit in that phase's tail alone; with one
    just before each phase of 100 s, no timed one falls inside.

    CHECKPOINT is server-wide: it runs on the server's maintenance database, so the phase's own
    database need not exist yet (the sale's is created after the baseline runs)."""
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    engine.dispose()


def postmaster_pid() -> int:
    """The PostgreSQL server's main process (its backends are its children), from its pid file."""
    with open(f"{_scalar('SHOW data_directory')}/postmaster.pid") as pid_file:
        return int(pid_file.readline())


def wal_position() -> str:
    """PostgreSQL's current write-ahead log position (an LSN such as 0/1A2B3C4D)."""
    return _scalar("SELECT pg_current_wal_lsn()::text")


def _lsn_bytes(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def confirmations_left() -> int:
    """Orders still listed for confirmation."""
    return _scalar("SELECT count(*) FROM order_confirmations")


def intake_baseline(orders: int, smoke: bool) -> tuple[dict, float]:
    """bench.intake's latency measure (its server, its database, its request) with no pipeline
    running: open_loop's figures at the sale's rate for as long as the sale lasts — the p99 the
    sale's intake p99 is held to — and p99 at bench.intake's own 200/s (the median of three 10 s
    rounds), for reference.

    Why the sale's rate and length: then the pipeline is the only difference between the two
    figures (the rate changes what an idle machine answers in, and a longer run meets more of the
    host's rare stalls: in five sales the 100/s figure sat 0.2 to 1.1 ms above the 200/s one)."""
    env = intake_bench._env()
    intake_bench.prepare_database(env)
    process, url = intake_bench.start_gunicorn(env)
    try:
        checkpoint(intake_bench.PG_URL)
        watchers = _watch_host(orders / RATE + 0.5)
        same_rate = apart(open_loop, url, intake_bench.SignedDelivery(), RATE, orders / RATE)
        same_rate["stalls"], same_rate["slow_flushes"] = _watched(watchers)
        own = [apart(open_loop, url, intake_bench.SignedDelivery(), 200, 2.0 if smoke else 10.0)["p99"]
               for _ in range(1 if smoke else 3)]
    finally:
        process.terminate()
        process.wait(10)
    return same_rate, statistics.median(own)


def _cpu_by_part(parts: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each part of the run (its processes and their children), and
    by this process: the load generator."""
    used = {part: sum(tree_cpu_seconds(pid) for pid in pids) for part, pids in parts.items()}
    return {**used, "load generator": time.process_time()}


def _watch_host(seconds: float) -> list:
    """Start the host's watchers for a measured run: CPU taken away (`watch_stalls`) and slow
    disk flushes (`watch_flushes`, on the disk of the benchmark's directory), each apart."""
    return [watching(watch_stalls, seconds), watching(watch_flushes, seconds, ROOT)]


def _watched(watchers: list) -> list[list]:
    """What each watcher of `_watch_host` found, once it has finished."""
    for thread, _found in watchers:
        thread.join()
    return [found for _thread, found in watchers]


def _pct(values: list, p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def run(smoke: bool = False) -> dict:
    """Measure and print; returns the figures."""
    orders = int(os.environ.get("FLASH_ORDERS") or (100 if smoke else 10_000))
    # FLASH_CONFIRM=0: intake and visibility only (the confirmation is then not checked).
    confirm = os.environ.get("FLASH_CONFIRM", "1") != "0"
    baseline, baseline_200_p99 = intake_baseline(orders, smoke)
    baseline_p99 = baseline["p99"]
    shop, sandbox_normal_priority, finish_sandbox = start_sandbox(orders)
    bucket = {"spent": float("nan"), "refused": -1}
    env = _env()
    workers = []
    process = None
    try:
        prepare_database(env, shop)
        deliveries = signed_deliveries(shop)
        process, url = intake_bench.start_gunicorn(env)
        workers = start_workers(env)
        wait_for_workers(len(workers))
        warm_up(url, shop)
        answered, visible, stop_sampler, sampler = start_sampler(deliveries)
        parts = {"server": [process.pid], "workers": [worker.pid for worker in workers],
                 "sampler": [sampler.pid], "sandbox": [shop["pid"]], "postgres": [postmaster_pid()]}
        checkpoint(PG_URL)
        cpu_before = _cpu_by_part(parts)
        wal_before = wal_position()
        before = cpu_times()
        started = time.time()
        watchers = _watch_host(orders / RATE + 0.5)
        errors, latencies, late, sender_cpu = apart(send, url, deliveries, RATE, answered)
        stalls, slow_flushes = _watched(watchers)
        sent_seconds = time.time() - started
        sale_steal = steal_share(before, cpu_times())
        cpu_used = {part: seconds - cpu_before[part] for part, seconds in _cpu_by_part(parts).items()}
        cpu_used["load generator"] += sender_cpu
        wal_after = wal_position()
        sampler.join(timeout=60)
        stop_sampler.set()
        sampler.join(10)
        sandbox_normal_priority()  # intake is measured: Shopify answers the confirmer at its own pace
        answered, visible = list(answered), list(visible)
        deadline = time.time() + max(120.0, orders * 0.6) if confirm else 0.0
        while confirmations_left() and time.time() < deadline:
            time.sleep(0.5)
        confirmed_at = time.time()
        left = confirmations_left()
        steal = steal_share(before, cpu_times())
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(10)
        if process is not None:
            process.terminate()
            process.wait(10)
        bucket = finish_sandbox()
    delays = [v - a for v, a in zip(visible, answered, strict=True) if v and a]
    unseen = sum(1 for v in visible if not v)
    confirm_seconds = confirmed_at - started
    points = bucket["spent"]
    figures = {
        "orders": orders, "errors": errors, "sent_seconds": sent_seconds, "unseen": unseen,
        "visible_p50_s": _pct(delays, 50) if delays else None, "visible_p99_s": _pct(delays, 99) if delays else None,
        "intake_p99_ms": _pct([latency for latency in latencies if latency is not None], 99),
        "baseline_intake_p99_ms": baseline_p99, "baseline_intake_200_p99_ms": baseline_200_p99,
        "sender_late_p99_ms": _pct([x for x in late if x is not None], 99),
        "baseline_sender_late_p99_ms": baseline["late_p99"],
        "sale_steal": sale_steal, "baseline_steal": baseline["steal"],
        "host_stalls": stalls, "baseline_host_stalls": baseline["stalls"],
        "slow_flushes": slow_flushes, "baseline_slow_flushes": baseline["slow_flushes"],
        "slowest_during_stalls": slowest_during_stalls(latencies, answered, stalls),
        "slowest_during_slow_flushes": slowest_during_stalls(latencies, answered, slow_flushes),
        "points": points, "points_per_order": points / orders, "confirm_seconds": confirm_seconds,
        "confirm_bound_seconds": points / RESTORE_RATE * 1.2, "confirmed_per_second": (orders - left) / confirm_seconds,
        "unconfirmed": left, "throttled": bucket["refused"], "steal": steal,
        "cpu_ms_per_order": {part: seconds * 1000 / orders for part, seconds in cpu_used.items()},
        # The whole server's log while the sale was sent (`pg_waldump --start --end` breaks it down).
        "wal_kb_per_order": (_lsn_bytes(wal_after) - _lsn_bytes(wal_before)) / 1024 / orders,
        "wal_range": f"{wal_before} {wal_after}",
    }
    print(f"flash sale: {orders} orders/create at {RATE:.0f}/s in {sent_seconds:.1f} s, errors {errors}")
    print(f"visible on the dashboard after the 200: p50 {figures['visible_p50_s'] or 0:.2f} s,"
          f" p99 {figures['visible_p99_s'] or 0:.2f} s (need p99 <= 2 s); never seen: {unseen}")
    worst = sorted(((latency, i) for i, latency in enumerate(latencies) if latency is not None), reverse=True)[:5]
    print("slowest answers (ms, delivery number): " + ", ".join(f"{latency:.1f} (#{i})" for latency, i in worst))
    gap = figures["intake_p99_ms"] - baseline_p99
    print(f"intake p99 during the sale {figures['intake_p99_ms']:.1f} ms vs bench.intake's {baseline_p99:.1f} ms"
          f" at the sale's {RATE:.0f}/s for as long (need within 2 ms: {gap:+.1f} ms);"
          f" bench.intake at its own 200/s: {baseline_200_p99:.1f} ms")
    print(f"senders (Shopify's stand-in, each run in a session of its own): sent late by p99"
          f" {figures['sender_late_p99_ms']:.2f} ms in the sale,"
          f" {figures['baseline_sender_late_p99_ms']:.2f} ms in bench.intake's run")
    print(f"CPU steal while each was sent: {format_share(sale_steal)} in the sale,"
          f" {format_share(baseline['steal'])} in bench.intake's run")
    print(f"host stalls (a sleeper in a session of its own woken over 20 ms late): in bench.intake's run"
          f" {format_stalls(baseline['stalls'])}; in the sale {format_stalls(stalls)}, during which"
          f" {figures['slowest_during_stalls']} of the sale's 1% slowest answers were awaited")
    print(f"disk stalls (an 8 KB flush every 0.1 s beside PostgreSQL's, over 20 ms): in bench.intake's run"
          f" {format_stalls(baseline['slow_flushes'])}; in the sale {format_stalls(slow_flushes)}, during which"
          f" {figures['slowest_during_slow_flushes']} of the sale's 1% slowest answers were awaited")
    print(f"confirmed: {orders - left} of {orders} in {confirm_seconds:.1f} s = {figures['confirmed_per_second']:.1f}"
          f" orders/s; {points:.0f} points = {figures['points_per_order']:.1f} per order; bound: points / restore rate"
          f" x 1.2 = {figures['confirm_bound_seconds']:.1f} s; THROTTLED {bucket['refused']};"
          f" CPU steal {format_share(steal)}")
    print("CPU per order while the sale was sent (ms): "
          + ", ".join(f"{part} {ms:.2f}" for part, ms in figures["cpu_ms_per_order"].items()))
    print(f"write-ahead log while the sale was sent: {figures['wal_kb_per_order']:.1f} KB per order"
          f" (LSN {wal_before} to {wal_after})")
    missed = []
    if errors or unseen:
        missed.append(f"{errors} errors, {unseen} orders never visible")
    if figures["visible_p99_s"] is not None and figures["visible_p99_s"] > 2.0:
        missed.append(f"visibility p99 {figures['visible_p99_s']:.2f} s > 2 s")
    if figures["intake_p99_ms"] > baseline_p99 + 2.0:
        missed.append(f"intake p99 {figures['intake_p99_ms']:.1f} ms > {baseline_p99:.1f} + 2 ms")
    if confirm and (left or bucket["refused"] or confirm_seconds > figures["confirm_bound_seconds"]):
        missed.append(f"confirmation: {left} left, {bucket['refused']} THROTTLED, {confirm_seconds:.1f} s"
                      f" (bound {figures['confirm_bound_seconds']:.1f} s)")
    if missed and not smoke:
        raise RequirementNotMet("; ".join(missed), figures)
    if missed:
        print("smoke run (requirements checked at full size): " + "; ".join(missed))
    return figures


if __name__ == "__main__":
    run(smoke="--smoke" in sys.argv)

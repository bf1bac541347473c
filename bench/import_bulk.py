"""Import benchmark: N orders from a bulk-export JSONL file into PostgreSQL, timed from the file
to committed rows through the code the import job runs (`iter_bulk_objects` →
`imports.import_bulk_nodes`: batches of 2,000 nodes, read and mapped into COPY text by the reader
thread of `import_ahead` while the previous batch is written by
`order_batches.upsert_graphql_orders`, a commit per batch), against the physical limit measured
in the same run: the same rows, already prepared, loaded with a plain `COPY`.

Requirement: at least half the speed of COPY; peak RSS under 150 MB. Also prints the speed-up
over a page-by-page import under the 100-points/s plan, whose time is measured in the sandbox on
a virtual clock (the bucket, not the CPU, sets its pace) and scaled to N.
"""
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import RequirementNotMet
from bench.bulk_jsonl import LAUNCHER, group_orders, sandbox_export_lines, write_jsonl
from bench.intake import PG_URL, ROOT, _env, prepare_database

def child_import(path: str) -> dict:
    """In a fresh process: the import job's own path from file to committed rows
    (``imports.import_bulk_nodes`` over ``iter_bulk_objects``: batches of ``BULK_BATCH_SIZE``,
    each committed with the run's progress)."""
    import resource
    from datetime import datetime, timezone

    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Account, ImportRun, Order
    from app.queue import tuning
    from app.services.imports import import_bulk_nodes
    from app.shopify.bulk import ORDER_CHILD_FIELDS, iter_bulk_objects

    app = create_app()
    tuning.enable()  # as `flask jobs worker` does: the import runs in a worker
    with app.app_context():
        account = db.session.query(Account).filter_by(slug="bench").one()
        run = ImportRun(account_id=account.id, status="running", method="bulk", imported=0,
                        since=datetime(2000, 1, 1, tzinfo=timezone.utc))
        db.session.add(run)
        db.session.commit()
        started = time.perf_counter()
        with open(path, "rb") as fh:
            import_bulk_nodes(run, account, iter_bulk_objects(fh, ORDER_CHILD_FIELDS))
        seconds = time.perf_counter() - started
        stored = db.session.scalar(select(func.count()).select_from(Order))
        if stored != run.imported:
            raise SystemExit(f"{run.imported} orders imported but {stored} stored")
    return {"orders": run.imported, "seconds": seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def copy_baseline(path: Path) -> dict:
    """Prepare the same rows in memory (not timed), then time a plain COPY of orders and lines."""
    import psycopg

    from app.services.order_copy import LINE_COPY, ORDER_COPY, order_values
    from app.shopify.bulk import ORDER_CHILD_FIELDS, iter_bulk_objects
    from app.shopify.mapping import order_from_graphql

    def plain(value):  # COPY's write_row takes JSON columns as their text
        return json.dumps(value) if isinstance(value, (dict, list)) else value

    with open(path, "rb") as fh:
        orders = [order_from_graphql(n) for n in iter_bulk_objects((r.rstrip(b"\n") for r in fh), ORDER_CHILD_FIELDS)]
    with psycopg.connect(PG_URL) as conn:
        account_id = conn.execute("SELECT id FROM accounts WHERE slug = 'bench'").fetchone()[0]
        conn.execute("TRUNCATE orders, order_lines RESTART IDENTITY CASCADE")
        conn.commit()
        order_rows, line_rows = [], []
        # The columns and values the import writes (order_copy's statements and order_values).
        for number, o in enumerate(orders, start=1):
            values, lines = order_values(o)
            order_rows.append((number, account_id, o.created_at, *map(plain, values)))
            line_rows.extend((number, *map(plain, line)) for line in lines)
        started = time.perf_counter()
        with conn.cursor().copy(ORDER_COPY) as copy:
            for row in order_rows:
                copy.write_row(row)
        with conn.cursor().copy(LINE_COPY) as copy:
            for row in line_rows:
                copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("TRUNCATE orders, order_lines RESTART IDENTITY CASCADE")
        conn.commit()
    return {"orders": len(orders), "lines": len(line_rows), "seconds": seconds}


def paginated_seconds_per_order(sample: int = 300) -> float:
    """Virtual seconds per order of a page-by-page import on the basic (100 points/s) plan."""
    from app.shopify.operations import iter_orders
    from bench.sandbox_shop import seeded_shop

    with seeded_shop("paged.myshopify.com", "basic", sample, seed=3, days=20) as client:
        started = client.monotonic()
        count = sum(1 for _ in iter_orders(client))
        return (client.monotonic() - started) / count


def run(smoke: bool = False) -> dict:
    """Measure and print; returns the figures."""
    n, rounds = (2_000, 1) if smoke else (50_000, 3)
    env = _env()
    templates = group_orders(sandbox_export_lines())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bulk.jsonl"
        write_jsonl(path, n, templates)
        imports, copies = [], []
        for _ in range(rounds):
            prepare_database(env)
            child = f"import json, bench.import_bulk as b; print(json.dumps(b.child_import({str(path)!r})))"
            out = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "-c", child],
                                 env=env, cwd=ROOT, capture_output=True, text=True, check=True)
            imports.append(json.loads(out.stdout.strip().splitlines()[-1]))
            copies.append(copy_baseline(path))
    import_s = statistics.median(r["seconds"] for r in imports)
    copy_s = statistics.median(c["seconds"] for c in copies)
    rss = max(r["peak_rss_mb"] for r in imports)
    ratio = copy_s / import_s
    paged = paginated_seconds_per_order() * n
    print(f"import_bulk: {n:,} orders ({copies[0]['lines']:,} lines): import {import_s:.2f}s "
          f"({n / import_s:,.0f} orders/s), COPY {copy_s:.2f}s ({n / copy_s:,.0f} orders/s) -> "
          f"{ratio:.2f} of COPY speed (need >= 0.5); peak RSS {rss:.0f} MB (need < 150)")
    print(f"import_bulk: page-by-page under the 100 points/s plan would take {paged / 3600:.1f} h "
          f"for {n:,} orders: bulk is {paged / import_s:,.0f}x faster")
    figures = {"orders": n, "import_seconds": import_s, "copy_seconds": copy_s, "ratio_of_copy": ratio,
               "peak_rss_mb": rss, "paginated_estimate_seconds": paged}
    if not smoke and (ratio < 0.5 or rss >= 150):
        raise RequirementNotMet(f"import at {ratio:.2f} of COPY speed, peak RSS {rss:.0f} MB", figures)
    return figures

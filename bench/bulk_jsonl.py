"""Bulk JSONL import benchmark: peak memory and throughput of the initial-import read path.

What is measured is the code the import runs on a bulk export: ``app.shopify.bulk
.iter_bulk_objects`` (spool to SQLite, reassemble each order with its ``__parentId`` line items)
and ``app.shopify.mapping.order_from_graphql`` (node -> OrderData), over a JSONL file of N
orders. Each measurement runs in a fresh ``python`` process, which reports its own peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``) — so one size cannot inherit another's heap.

Requirement: peak RSS under 150 MB and flat as N grows (the spool keeps one line in memory).
Baseline, measured in the same run on the same file: a bare ``json.loads`` of every line, no
reassembly, no mapping — the floor any JSONL reader pays. The ratio import/baseline says what
reassembly and mapping cost on top of parsing; it is comparable across machines, the absolute
figures are not.

The file is shaped exactly like the sandbox's bulk output because its lines ARE sandbox output:
a sandbox (fake Shopify) is started in-process, seeded, and exported through the app's own
client (``start_bulk_orders`` -> ``wait_for_bulk_operation`` -> ``stream_lines``); those orders
are then repeated with fresh ids up to N.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import RequirementNotMet

ROOT = Path(__file__).resolve().parent.parent
FULL_SIZES, FULL_RUNS = (10_000, 100_000), 3
SMOKE_SIZES, SMOKE_RUNS = (500, 2_000), 1
RSS_LIMIT_MB = 150.0
# "Flat": ten times the orders may not add more than this to the peak (allocator noise, SQLite
# page cache); a reader holding every order would add hundreds of MB between 10k and 100k.
RSS_GROWTH_LIMIT_MB = 15.0
TEMPLATE_ORDERS = 300


# --- the input file ------------------------------------------------------------------------------

def sandbox_export_lines(orders: int = TEMPLATE_ORDERS) -> list[bytes]:
    """The JSONL lines of a real sandbox bulk export of ``orders`` seeded orders."""
    from app.shopify import bulk
    from bench.sandbox_shop import seeded_shop

    with seeded_shop("bench-store.myshopify.com", "plus", orders, seed=42) as client:
        op = bulk.wait_for_bulk_operation(client, bulk.start_bulk_orders(client).id)
        return list(client.stream_lines(op.url))


def group_orders(lines: list[bytes]) -> list[tuple[dict, list[dict]]]:
    """(order, its child lines) pairs, in file order."""
    groups: dict[str, tuple[dict, list[dict]]] = {}
    for raw in lines:
        obj = json.loads(raw)
        parent = obj.get("__parentId")
        if parent is None:
            groups[obj["id"]] = (obj, [])
        else:
            groups[parent][1].append(obj)
    return list(groups.values())


def write_jsonl(path: Path, n_orders: int, templates: list[tuple[dict, list[dict]]]) -> int:
    """Write ``n_orders`` orders (cycling the templates, fresh ids and names) as the sandbox
    lays them out: each order line, then its line items carrying ``__parentId``. Returns the
    number of line items written."""
    children = 0
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n_orders):
            order, lines = templates[i % len(templates)]
            order_id = 5_000_000_000_000 + i
            gid = f"gid://shopify/Order/{order_id}"
            out.write(json.dumps({**order, "id": gid, "name": f"#{1001 + i}"},
                                 separators=(",", ":")) + "\n")
            for j, line in enumerate(lines):
                out.write(json.dumps({**line, "id": f"gid://shopify/LineItem/{order_id * 64 + j}",
                                      "__parentId": gid}, separators=(",", ":")) + "\n")
            children += len(lines)
    return children


# --- one measurement, in a child process ---------------------------------------------------------

def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def vm_hwm_mb() -> float | None:
    """Linux's own per-image peak (``VmHWM``), a cross-check on ru_maxrss; None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for row in fh:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1]) / 1024
    except OSError:
        pass
    return None


def child(mode: str, path: str) -> dict:
    """Read the file once (``import`` or ``baseline``) and return counts, seconds and peak RSS."""
    if mode == "import":
        from app.shopify.bulk import ORDER_CHILD_FIELDS, iter_bulk_objects
        from app.shopify.mapping import order_from_graphql

        started = time.perf_counter()
        orders = lines = 0
        with open(path, "rb") as fh:
            # Lines as the HTTP stream yields them (requests' iter_lines strips the newline).
            for node in iter_bulk_objects((raw.rstrip(b"\n") for raw in fh), ORDER_CHILD_FIELDS):
                lines += len(order_from_graphql(node).lines)
                orders += 1
    elif mode == "baseline":
        started = time.perf_counter()
        orders = lines = 0
        with open(path, "rb") as fh:
            for raw in fh:
                if "__parentId" in json.loads(raw):
                    lines += 1
                else:
                    orders += 1
    else:
        raise ValueError(f"unknown mode {mode!r}")
    seconds = time.perf_counter() - started
    return {"mode": mode, "orders": orders, "lines": lines, "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(), "vm_hwm_mb": vm_hwm_mb()}


# Linux carries a forking process's peak RSS into the child's ru_maxrss (the copied address
# space's high-water mark is kept across exec), so a child forked from this process — which
# holds a sandbox — would report at least our peak. A bare interpreter in between forks the
# measured child from a ~10 MB address space instead.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


def measure(mode: str, path: Path) -> dict:
    """Run ``child`` in a fresh interpreter and return what it reported."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    command = [sys.executable, "-m", "bench.bulk_jsonl", "--child", mode, str(path)]
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *command], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} child failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the benchmark -------------------------------------------------------------------------------

def run(smoke: bool = False) -> dict:
    """Generate the files, measure each size ``runs`` times, print medians; returns figures."""
    sizes, runs = (SMOKE_SIZES, SMOKE_RUNS) if smoke else (FULL_SIZES, FULL_RUNS)
    workdir = Path(tempfile.mkdtemp(prefix="boomerang-bench-bulk-"))
    try:
        templates = group_orders(sandbox_export_lines())
        print(f"input: sandbox bulk export of {len(templates)} orders "
              f"({sum(len(c) for _o, c in templates)} line items), repeated with fresh ids")
        results = {}
        for n in sizes:
            path = workdir / f"orders-{n}.jsonl"
            children = write_jsonl(path, n, templates)
            samples = {"import": [], "baseline": []}
            for _ in range(runs):
                for mode in ("baseline", "import"):  # interleaved, so drift hits both alike
                    got = measure(mode, path)
                    if (got["orders"], got["lines"]) != (n, children):
                        raise RuntimeError(f"{mode} read {got['orders']} orders/{got['lines']} "
                                           f"lines, expected {n}/{children}")
                    samples[mode].append(got)
            results[n] = summarise(n, path.stat().st_size, samples)
            path.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, runs)
    check(results, smoke)
    return results


def summarise(n: int, file_bytes: int, samples: dict) -> dict:
    """Medians of one size."""
    def med(mode, key):
        return statistics.median(s[key] for s in samples[mode])

    import_rate = n / med("import", "seconds")
    baseline_rate = n / med("baseline", "seconds")
    return {"orders": n, "file_mb": file_bytes / 1e6, "import_orders_per_s": import_rate,
            "baseline_orders_per_s": baseline_rate, "ratio": import_rate / baseline_rate,
            "import_peak_rss_mb": med("import", "peak_rss_mb"),
            "baseline_peak_rss_mb": med("baseline", "peak_rss_mb"),
            "import_vm_hwm_mb": (med("import", "vm_hwm_mb")
                                 if all(s["vm_hwm_mb"] for s in samples["import"]) else None),
            "import_seconds": med("import", "seconds")}


def report(results: dict, runs: int) -> None:
    print(f"medians of {runs} run(s), each in a fresh process")
    print(f"{'orders':>9} {'file MB':>8} {'import/s':>10} {'baseline/s':>11} {'ratio':>7} "
          f"{'import s':>9} {'import RSS MB':>14} {'(VmHWM)':>8} {'baseline RSS MB':>16}")
    for r in results.values():
        hwm = f"{r['import_vm_hwm_mb']:.1f}" if r["import_vm_hwm_mb"] else "-"
        print(f"{r['orders']:>9,} {r['file_mb']:>8.1f} {r['import_orders_per_s']:>10,.0f} "
              f"{r['baseline_orders_per_s']:>11,.0f} {r['ratio']:>7.3f} "
              f"{r['import_seconds']:>9.2f} "
              f"{r['import_peak_rss_mb']:>14.1f} {hwm:>8} {r['baseline_peak_rss_mb']:>16.1f}")
    first, last = results[min(results)], results[max(results)]
    print("throughput ratio vs baseline (import orders/s / json.loads orders/s): "
          + ", ".join(f"{r['ratio']:.3f} at {r['orders']:,}" for r in results.values()))
    print(f"peak RSS growth {first['orders']:,} -> {last['orders']:,} orders: "
          f"{last['import_peak_rss_mb'] - first['import_peak_rss_mb']:+.1f} MB")


def check(results: dict, smoke: bool) -> None:
    """Raise RequirementNotMet at full size if the memory requirement fails (smoke only runs)."""
    peak = max(r["import_peak_rss_mb"] for r in results.values())
    growth = (results[max(results)]["import_peak_rss_mb"]
              - results[min(results)]["import_peak_rss_mb"])
    verdict = peak < RSS_LIMIT_MB and growth <= RSS_GROWTH_LIMIT_MB
    print(f"requirement: peak RSS < {RSS_LIMIT_MB:.0f} MB and flat (growth <= "
          f"{RSS_GROWTH_LIMIT_MB:.0f} MB): {'met' if verdict else 'NOT met'} "
          f"(peak {peak:.1f} MB, growth {growth:+.1f} MB)"
          + (" [smoke: not enforced]" if smoke else ""))
    if not verdict and not smoke:
        raise RequirementNotMet(
            f"bulk JSONL import peak RSS {peak:.1f} MB, growth {growth:+.1f} MB", results)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3])))
    else:
        run(smoke="--smoke" in sys.argv)

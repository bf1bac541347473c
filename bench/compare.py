"""Compare two revisions' benchmark figures: ``python -m bench.compare REV_A REV_B [name ...]``.

A change that must leave performance alone (a refactoring) is judged by each benchmark's ratio
against its in-run baseline, which absorbs most of what the host does meanwhile. Each revision
is checked out into its own worktree (under ``BENCH_COMPARE_DIR``, default
``/tmp/bench-compare``) and every benchmark runs ``--rounds`` times (5 by default), the two
revisions alternating and swapping which goes first each round, so both meet the same moments of
the host. Each run is a fresh process; its figures are the dict its ``run()`` returns.

Printed per benchmark: for every figure whose name contains "ratio" (every numeric figure when
a benchmark returns none), the median of each revision, B against A in percent, and "> 5%" where
they differ by more; and the CPU steal of each run. The benchmarks own their scratch databases:
run nothing else against them meanwhile.

Not a benchmark itself (no ``run``): the runner does not pick it up.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.__main__ import discover
from bench.loadgen import cpu_times, format_share, steal_share

ROOT = Path(__file__).resolve().parent.parent
# Runs in the compared revision's tree, which may not have this module: self-contained.
# A run that misses its requirement still has figures when its exception carries them.
CHILD = ("import json, sys; from importlib import import_module\n"
         "try:\n"
         "    figures = import_module('bench.' + sys.argv[1]).run(smoke=sys.argv[2] == '1')\n"
         "except Exception as error:\n"
         "    figures = getattr(error, 'figures', None)\n"
         "    print('MISSED ' + str(error), file=sys.stderr)\n"
         "    if figures is None: raise\n"
         "figures = figures if isinstance(figures, dict) else {}\n"
         "print('FIGURES ' + json.dumps({str(k): v for k, v in figures.items()}, default=str))")
TOLERANCE = 0.05


def checkout(rev: str, base: Path) -> Path:
    """A detached worktree of `rev` (made once), sharing this checkout's virtualenv."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    path = base / sha[:12]
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=ROOT, check=True,
                       capture_output=True)
        (path / ".venv").symlink_to(ROOT / ".venv")
    return path


def run_once(tree: Path, name: str, smoke: bool) -> tuple[dict | None, float | None, str]:
    """One run of one benchmark in `tree`: (its figures or None when it failed, the CPU steal
    meanwhile, the last line it printed)."""
    before = cpu_times()
    done = subprocess.run([sys.executable, "-c", CHILD, name, "1" if smoke else "0"], cwd=tree,
                          env={**os.environ, "BOOMERANG_ENV": "test", "PYTHONPATH": str(tree)},
                          capture_output=True, text=True)
    steal = steal_share(before, cpu_times())
    lines = done.stdout.splitlines()
    figures = next((flatten(json.loads(line[8:])) for line in lines if line.startswith("FIGURES ")), None)
    last = (done.stderr.strip().splitlines() or lines or [""])[-1]
    return figures, steal, last


def flatten(figures: dict) -> dict:
    """Figures with each list (a tuple in the benchmark) spread over `key[0]`, `key[1]`, …, and
    each nested dict (figures per size) over `key.inner`."""
    flat = {}
    for key, value in figures.items():
        if isinstance(value, list):
            flat.update({f"{key}[{i}]": item for i, item in enumerate(value)})
        elif isinstance(value, dict):
            flat.update({f"{key}.{inner}": item for inner, item in flatten(value).items()})
        else:
            flat[key] = value
    return flat


def compared_keys(figures: list[dict]) -> list[str]:
    """The figures to compare: those named as ratios, or every numeric one."""
    numeric = [k for k, v in figures[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    ratios = [k for k in numeric if "ratio" in k]
    return ratios or numeric


def report(name: str, revs: list[str], results: dict) -> bool:
    """Print one benchmark's comparison; whether every compared figure is within TOLERANCE."""
    runs = {rev: [f for f in results[rev] if f is not None] for rev in revs}
    if not all(runs.values()):
        print(f"{name}: a revision has no successful run; nothing to compare")
        return False
    within = True
    keys = compared_keys(runs[revs[0]])
    if not keys:
        print(f"{name}: no numeric figure returned; compare its printed figures by hand")
    for key in keys:
        medians = [statistics.median(f[key] for f in runs[rev] if isinstance(f.get(key), (int, float)))
                   for rev in revs]
        change = medians[1] / medians[0] - 1 if medians[0] else float("nan")
        flag = "" if abs(change) <= TOLERANCE else f"  > {TOLERANCE:.0%}"
        within = within and not flag
        print(f"{name}.{key}: {revs[0]} {medians[0]:.4g}  {revs[1]} {medians[1]:.4g}  ({change:+.1%}){flag}")
    return within


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.split("\n")[0])
    parser.add_argument("rev_a")
    parser.add_argument("rev_b")
    parser.add_argument("names", nargs="*", help="benchmarks (default: all)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="small sizes: checks the comparison runs")
    args = parser.parse_args(argv)
    base = Path(os.environ.get("BENCH_COMPARE_DIR", "/tmp/bench-compare"))
    base.mkdir(parents=True, exist_ok=True)
    revs = [args.rev_a, args.rev_b]
    trees = {rev: checkout(rev, base) for rev in revs}
    all_within = True
    for name in args.names or discover():
        results = {rev: [] for rev in revs}
        for round_number in range(args.rounds):
            order = revs if round_number % 2 == 0 else revs[::-1]
            for rev in order:
                figures, steal, last = run_once(trees[rev], name, args.smoke)
                results[rev].append(figures)
                state = "ok" if figures is not None else f"failed: {last}"
                print(f"  {name} round {round_number + 1} {rev}: steal {format_share(steal)}; {state}", flush=True)
        all_within = report(name, revs, results) and all_within
    return 0 if all_within else 1


if __name__ == "__main__":
    sys.exit(main())

"""Run the benchmarks: ``python -m bench [--smoke] [name ...]``.

A benchmark is any module in ``bench/`` with a top-level ``def run(smoke=False)`` that prints
its figures. Modules are found by reading their source (``ast``), not by importing them, so
helpers with import-time side effects (a WSGI entry point, a load generator) are never touched.
Each benchmark runs even if an earlier one failed; the exit status is non-zero if any raised
(``bench.RequirementNotMet``, ``SystemExit`` with a message or non-zero code, or any error).
"""
from __future__ import annotations

import argparse
import ast
import importlib
import sys
import time
import traceback
from pathlib import Path

from bench import RequirementNotMet

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    """Names of the benchmark modules, alphabetically."""
    names = []
    for path in sorted(HERE.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "run" for node in tree.body):
            names.append(path.stem)
    return names


def main(argv: list[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="small sizes and one repetition: checks the benchmarks run (CI)")
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"benchmarks to run (default: all of {', '.join(available)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    failed = []
    for name in args.names or available:
        print(f"=== bench.{name}{' (smoke)' if args.smoke else ''} ===", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").run(smoke=args.smoke)
        except RequirementNotMet as exc:
            failed.append(name)
            print(f"REQUIREMENT NOT MET: {exc}", flush=True)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                failed.append(name)
                print(f"FAILED: {exc.code}", flush=True)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            failed.append(name)
            traceback.print_exc()
        print(f"--- bench.{name}: {time.perf_counter() - started:.1f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

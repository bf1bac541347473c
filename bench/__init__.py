"""Benchmarks: ``python -m bench [--smoke] [name ...]`` (``make bench``) runs every module here
that defines a top-level ``run(smoke: bool = False)``; see ``bench/README.md``."""


class RequirementNotMet(Exception):
    """Raised by a benchmark's ``run`` after printing its figures when a stated requirement
    (a memory ceiling, a throughput ratio) is not met; the runner then exits non-zero."""

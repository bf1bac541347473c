"""Benchmarks: ``python -m bench [--smoke] [name ...]`` (``make bench``) runs every module here
that defines a top-level ``run(smoke: bool = False)``; see ``bench/README.md``."""


class RequirementNotMet(Exception):
    """Raised by a benchmark's ``run`` after printing its figures when a stated requirement
    (a memory ceiling, a throughput ratio) is not met; the runner then exits non-zero.
    ``figures`` are what ``run`` would have returned, so that a comparison of two revisions
    (``bench.compare``) still has them."""

    def __init__(self, message: str, figures: dict | None = None):
        super().__init__(message)
        self.figures = figures

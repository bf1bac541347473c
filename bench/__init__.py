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


def load_returns(pg_url: str, conn, ret_cols: str, rets: str, item_cols: str, items: str) -> None:
    """Write generated returns and their items (COPY text with their ids) through the psycopg
    connection `conn`, move both id sequences past them and commit; then VACUUM ANALYZE both
    tables on a connection of their own (VACUUM runs outside a transaction), so the benchmark's
    plans are the ones a settled table gets."""
    import psycopg  # at call time: only the PostgreSQL benchmarks need it

    with conn.cursor().copy(f"COPY returns ({ret_cols}) FROM STDIN") as copy:
        copy.write(rets)
    with conn.cursor().copy(f"COPY return_items ({item_cols}) FROM STDIN") as copy:
        copy.write(items)
    for table in ("returns", "return_items"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.commit()
    with psycopg.connect(pg_url, autocommit=True) as vacuum:
        vacuum.execute("VACUUM ANALYZE returns")
        vacuum.execute("VACUUM ANALYZE return_items")

"""The flash-sale benchmark checkpoints PostgreSQL before each measured phase, the first of them
before its own database exists: on a new machine the checkpoint must not need that database
(CI runs the benchmark at smoke size on a fresh clone)."""
import uuid

import pytest
from sqlalchemy import create_engine, make_url, text

from app.config import TestConfig
from bench.flash_sale import checkpoint

DATABASE_URL = TestConfig.SQLALCHEMY_DATABASE_URI


@pytest.mark.skipif(not DATABASE_URL.startswith("postgresql"), reason="PostgreSQL only (TEST_DATABASE_URL)")
def test_a_checkpoint_before_the_benchmark_database_exists_still_runs():
    missing = make_url(DATABASE_URL).set(database=f"boomerang_never_{uuid.uuid4().hex[:8]}")
    engine = create_engine(DATABASE_URL)
    with engine.connect() as conn:
        before = conn.scalar(text("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"))
    checkpoint(missing.render_as_string(hide_password=False))
    with engine.connect() as conn:
        after = conn.scalar(text("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"))
        assert not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": missing.database})
    engine.dispose()
    assert after > before

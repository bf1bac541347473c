"""The bulk close benchmark names the phase of every step of a Shopify return's job: a step added
to ``advance`` without one would stop the benchmark (CI runs it at smoke size)."""
from app.services import shopify_returns
from bench.bulk_close import STEP_PHASES


def test_every_step_of_the_shopify_return_job_has_a_phase_in_the_bulk_close_bench():
    assert {step.__name__ for step in shopify_returns.STEPS} <= set(STEP_PHASES)

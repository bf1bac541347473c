"""Jobs queued by name (app/queue/specs.py) exist under that name in jobs/, queued as declared."""
import importlib

import pytest

from app.queue import SPECS
from app.queue.schedule import PERIODIC


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_named_job_resolves_to_its_job_with_the_declared_spec(name):
    module, _, attribute = name.rpartition(".")
    job = getattr(importlib.import_module(module), attribute)
    assert job.spec == SPECS[name]


def test_every_periodic_job_is_declared():
    assert {periodic.job for periodic in PERIODIC} <= set(SPECS)

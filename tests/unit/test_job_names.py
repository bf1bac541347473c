"""Jobs queued by name (app/queue.py) exist under that name in jobs/, queued as declared, and
nothing in app/ imports jobs/ for them."""
import ast
import importlib
from pathlib import Path

import pytest

from app.queue import SPECS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_named_job_resolves_to_its_job_with_the_declared_spec(name):
    module, _, attribute = name.rpartition(".")
    job = getattr(importlib.import_module(module), attribute)
    assert job.spec.name == name
    assert (job.spec.queue, job.spec.timeout, job.spec.retry_intervals) == (
        SPECS[name].queue, SPECS[name].timeout, SPECS[name].retry_intervals)


NEW_MODULES = ["app/queue.py", "app/services/shopify_returns.py", "app/services/return_shape.py",
               "app/services/return_money.py", "app/services/return_credit.py",
               "app/services/return_settlement.py", "app/services/shopify_calls.py",
               "app/services/issuing_context.py", "app/services/legacy_returns.py", "app/shopify/returns.py",
               "app/domain/issuing.py", "app/services/issued_notices.py"]


@pytest.mark.parametrize("path", NEW_MODULES)
def test_issuing_modules_import_no_job_and_hide_no_import(path):
    tree = ast.parse((ROOT / path).read_text())
    top_level = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            assert not any(n == "jobs" or n.startswith("jobs.") for n in names), f"{path} imports jobs"
            assert id(node) in top_level, f"{path}:{node.lineno} imports inside a function"

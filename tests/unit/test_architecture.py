"""The layers and their one-way rule, checked on every module's imports (read with ``ast``, so an
import hidden in a function counts as much as one at the top of the file).

- ``app/domain`` is pure: no Flask, no SQLAlchemy, nothing of the app outside the domain.
- ``app/shopify``, ``app/tracking``, ``app/labels`` and ``app/outbound`` (the adapters) know no Flask, models, services
  or extensions.
- ``app/order_rows.py`` (the stored columns of an order and their COPY spelling, read by the
  Shopify adapter and the storage layer alike) is pure: no Flask, SQLAlchemy or app import.
- Nothing in ``app/`` imports ``jobs``: app code queues a job by its name (``app.queue.enqueue``).
- Views don't commit: services own transactions.
- An import inside a function says on its line why it is there (the cycle or start-up cost it
  avoids), in the layers that queue and run jobs (``app/services``, ``app/queue``, ``jobs``).

Each rule is also shown to fail on a small tree that breaks it, so a rule that silently stopped
matching anything would be noticed.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

VIEW_PACKAGES = ("app/dashboard", "app/portal", "app/auth", "app/webhooks")
VIEW_MODULES = ("app/health.py",)
EXPLAINED_IMPORT_PACKAGES = ("app", "jobs")


@dataclass(frozen=True)
class Import:
    """One import statement: the modules it names, where, and whether it sits in a function."""

    path: str
    line: int
    modules: tuple[str, ...]
    in_function: bool
    commented: bool


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a (possibly relative) ``from … import`` names."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every import statement of one file, top-level and inside functions."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    module = _module_name(path, root)
    rel = path.relative_to(root).as_posix()
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                names = tuple(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(child, module, path.name == "__init__.py")
                # `from app import models` names app.models as much as `import app.models` does.
                names = (base, *(f"{base}.{alias.name}".lstrip(".") for alias in child.names))
            else:
                visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))
                continue
            found.append(Import(rel, child.lineno, names, in_function, "#" in lines[child.lineno - 1]))

    visit(tree, False)
    return found


def _names(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _files(root: Path, *places: str) -> list[Path]:
    files = []
    for place in places:
        target = root / place
        files.extend([target] if target.suffix == ".py" else sorted(target.rglob("*.py")))
    return [f for f in files if f.exists()]


def import_violations(root: Path) -> list[str]:
    """Each import that breaks a layer rule, as ``path:line imports module (rule)``."""
    found = []

    def check(places, forbidden, allowed=(), rule=""):
        for path in _files(root, *places):
            for imp in imports_of(path, root):
                for module in imp.modules:
                    if _names(module, forbidden) and not _names(module, allowed):
                        found.append(f"{imp.path}:{imp.line} imports {module} ({rule})")
                        break

    flask = ("flask", "flask_login", "flask_wtf", "flask_sqlalchemy", "flask_migrate", "flask_limiter")
    check(["app/domain"], (*flask, "sqlalchemy", "app"), ("app.domain",),
          "the domain imports nothing of Flask, SQLAlchemy or the app")
    check(["app/shopify", "app/tracking", "app/photos", "app/labels", "app/outbound"],
          (*flask, "app.models", "app.services", "app.extensions"),
          rule="the Shopify, tracking, photos, label and outbound webhook adapters import no Flask, models, "
               "services or extensions")
    check(["app/order_rows.py"], (*flask, "sqlalchemy", "app"),
          rule="app.order_rows, shared by the Shopify adapter and the storage layer, imports nothing of the app")
    check(["app"], ("jobs",), rule="app code queues jobs by name and never imports jobs/")
    return found


def commit_violations(root: Path) -> list[str]:
    """Each ``….commit(…)`` call in a view module (services own transactions)."""
    found = []
    for path in _files(root, *VIEW_PACKAGES, *VIEW_MODULES):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
                found.append(f"{path.relative_to(root).as_posix()}:{node.lineno} commits (views leave transactions "
                             f"to services)")
    return found


def hidden_import_violations(root: Path) -> list[str]:
    """Each import inside a function, in the job-queueing layers, with no comment saying why."""
    return [f"{imp.path}:{imp.line} imports {imp.modules[0]} inside a function without saying why"
            for path in _files(root, *EXPLAINED_IMPORT_PACKAGES)
            for imp in imports_of(path, root) if imp.in_function and not imp.commented]


CHECKS = {"imports": import_violations, "view commits": commit_violations,
          "hidden imports": hidden_import_violations}


@pytest.mark.parametrize("check", CHECKS)
def test_the_code_keeps_its_layers(check):
    assert CHECKS[check](ROOT) == []


# --- each rule can fail ---------------------------------------------------------------------------

BROKEN = {
    "domain imports flask": ("app/domain/rules.py", "from flask import current_app\n", import_violations),
    "domain imports sqlalchemy": ("app/domain/rules.py", "def f():\n    import sqlalchemy\n", import_violations),
    "domain imports the app": ("app/domain/rules.py", "from app.models import Return\n", import_violations),
    "domain imports the app by package": ("app/domain/rules.py", "from app import models\n", import_violations),
    "shopify imports flask": ("app/shopify/client.py", "import flask\n", import_violations),
    "shopify imports models": ("app/shopify/client.py", "from app.models import Order\n", import_violations),
    "tracking imports services": ("app/tracking/base.py", "def f():\n    from app.services import x\n",
                                  import_violations),
    "tracking imports extensions": ("app/tracking/base.py", "from app.extensions import db\n", import_violations),
    "labels import models": ("app/labels/base.py", "from app.models import ReturnLabel\n", import_violations),
    "outbound imports flask": ("app/outbound/http.py", "from flask import current_app\n", import_violations),
    "the order rows import models": ("app/order_rows.py", "from app.models import Order\n", import_violations),
    "app imports a job": ("app/services/mail.py", "def f():\n    from jobs.mail import send_job\n",
                          import_violations),
    "app imports jobs": ("app/commands.py", "import jobs.schedule\n", import_violations),
    "app imports jobs relatively": ("app/__init__.py", "from .. import jobs\n", import_violations),
    "a view commits": ("app/dashboard/views.py", "def save():\n    db.session.commit()\n", commit_violations),
    "a portal view commits": ("app/portal/views.py", "def f(s):\n    s.commit()\n", commit_violations),
    "an import hidden without a reason": ("jobs/mail.py", "def f():\n    from app.services import mail\n",
                                          hidden_import_violations),
}


def check_one_module(tmp_path: Path, path: str, source: str, check) -> list[str]:
    """What ``check`` reports on a tree holding only this module."""
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(source)
    return check(tmp_path)


@pytest.mark.parametrize("case", BROKEN)
def test_each_rule_reports_a_module_that_breaks_it(case, tmp_path):
    path = BROKEN[case][0]
    (reported,) = check_one_module(tmp_path, *BROKEN[case])
    assert reported.startswith(f"{path}:")


ALLOWED = {
    "domain imports the domain": ("app/domain/rules.py", "from app.domain.returns import OPEN\n", import_violations),
    "shopify imports the domain": ("app/shopify/client.py", "from app.domain import order_data\n", import_violations),
    "shopify imports the order rows": ("app/shopify/lean_mapping.py", "from app.order_rows import NULL\n",
                                       import_violations),
    "a job imports services": ("jobs/mail.py", "from app.services.mail import send_email\n", import_violations),
    "a service commits": ("app/services/mail.py", "def f():\n    db.session.commit()\n", commit_violations),
    "an import hidden for a stated reason": (
        "app/services/mail.py", "def f():\n    from app import create_app  # a cycle: app imports this\n",
        hidden_import_violations),
}


@pytest.mark.parametrize("case", ALLOWED)
def test_what_the_rules_allow_is_not_reported(case, tmp_path):
    assert check_one_module(tmp_path, *ALLOWED[case]) == []

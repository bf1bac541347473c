"""Every query parameter a view reads is in app/query_params.py: the source is scanned for reads of
`request.args` / `request.values` (get, getlist, [...], `in`) and for `query_arg(...)` calls, and
each key (an f-string key as its template) must be in the registry, naming real endpoints."""
import ast
from pathlib import Path

from app.query_params import QUERY_PARAMS, template_of
from tests.fixtures.app import make_test_app

APP_DIR = Path(__file__).resolve().parents[2] / "app"
QUERY_SOURCES = {"args", "values"}


def _is_query(node) -> bool:
    """`request.args` or `request.values`."""
    return (isinstance(node, ast.Attribute) and node.attr in QUERY_SOURCES
            and isinstance(node.value, ast.Name) and node.value.id == "request")


def _key_text(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def _loop_keys(tree, name: str) -> list[str] | None:
    """The keys a comprehension or loop variable `name` takes, when it walks a tuple of strings."""
    for node in ast.walk(tree):
        for target, source in ([(g.target, g.iter) for g in getattr(node, "generators", [])]
                               + ([(node.target, node.iter)] if isinstance(node, ast.For) else [])):
            if isinstance(target, ast.Name) and target.id == name and isinstance(source, (ast.Tuple, ast.List)):
                keys = [_key_text(element) for element in source.elts]
                if all(keys):
                    return keys
    return None


def _reads(path: Path):
    """(line, key or None) for each keyed read of the query in one file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        key_node = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_query(node.func.value) \
                and node.func.attr in ("get", "getlist") and node.args:
            key_node = node.args[0]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "query_arg":
            key_node = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_query(node.value):
            key_node = node.slice
        elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops) \
                and _is_query(node.comparators[0]):
            key_node = node.left
        if key_node is None:
            continue
        text = _key_text(key_node)
        keys = [text] if text is not None else (
            _loop_keys(tree, key_node.id) if isinstance(key_node, ast.Name) else None)
        for key in keys or [None]:
            yield node.lineno, key


def _all_reads():
    return [(path.relative_to(APP_DIR.parent), line, key)
            for path in sorted(APP_DIR.rglob("*.py")) for line, key in _reads(path)]


def test_every_query_key_a_view_reads_is_registered():
    registered = {template_of(key) for key in QUERY_PARAMS}
    reads = _all_reads()
    assert len(reads) >= 15, "the scan found too few reads to be looking at the views"
    missing = [f"{path}:{line} reads {key!r}" for path, line, key in reads
               if key is None or template_of(key) not in registered]
    assert not missing, "query keys read but not in app/query_params.py:\n" + "\n".join(missing)


def test_the_scan_sees_each_kind_of_read(tmp_path):
    source = tmp_path / "view.py"
    source.write_text("from flask import request\n"
                      "a = request.args.get('one')\nb = request.values['two']\nc = 'three' in request.args\n"
                      "d = request.args.getlist(f'line-{a}-x')\ne = query_arg('four')\n"
                      "f = {k: request.args[k] for k in ('five', 'six')}\ng = request.args[b]\n")
    found = sorted(str(key) for _, key in _reads(source))
    assert found == sorted(["one", "two", "three", "line-{}-x", "four", "five", "six", "None"])


def test_each_registered_key_names_real_endpoints():
    endpoints = {rule.endpoint for rule in make_test_app(SQLALCHEMY_DATABASE_URI="sqlite://").url_map.iter_rules()}
    unknown = {key: set(spec.endpoints) - endpoints for key, spec in QUERY_PARAMS.items()
               if set(spec.endpoints) - endpoints}
    assert not unknown

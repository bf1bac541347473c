"""GraphQL documents, kept as ``.graphql`` files in ``app/shopify/queries/``, loaded by name.

A file whose name starts with ``_`` holds shared fragments. ``load_document(name)`` returns the
named file's text followed by every fragment it spreads (transitively), so each document sent to
Shopify — and validated against the schema in the tests — is complete on its own.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from graphql import parse
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode

QUERIES_DIR = Path(__file__).resolve().parent / "queries"

_SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)")


def document_names() -> list[str]:
    """Names (file stems) of every operation document, fragment libraries excluded."""
    return sorted(p.stem for p in QUERIES_DIR.glob("*.graphql") if not p.stem.startswith("_"))


@functools.lru_cache(maxsize=None)
def _fragments() -> dict[str, str]:
    """Fragment name → its source text, from every ``_*.graphql`` file."""
    found: dict[str, str] = {}
    for path in sorted(QUERIES_DIR.glob("_*.graphql")):
        text = path.read_text(encoding="utf-8")
        for definition in parse(text).definitions:
            if isinstance(definition, FragmentDefinitionNode):
                loc = definition.loc
                found[definition.name.value] = text[loc.start:loc.end]
    return found


@functools.lru_cache(maxsize=None)
def load_document(name: str) -> str:
    """The complete text of document ``name`` (its file plus the fragments it uses)."""
    if not re.fullmatch(r"[a-z0-9_]+", name) or name.startswith("_"):
        raise ValueError(f"bad document name {name!r}")
    path = QUERIES_DIR / f"{name}.graphql"
    if not path.is_file():
        raise KeyError(f"no GraphQL document named {name!r} in {QUERIES_DIR}")
    text = path.read_text(encoding="utf-8")
    fragments = _fragments()
    needed: list[str] = []
    pending = list(_SPREAD.findall(text))
    while pending:
        fragment = pending.pop(0)
        if fragment in needed or fragment not in fragments:
            continue  # unknown names are inline type conditions or left for validation to report
        needed.append(fragment)
        pending.extend(_SPREAD.findall(fragments[fragment]))
    return "\n\n".join([text.rstrip()] + [fragments[f] for f in needed]) + "\n"


@functools.lru_cache(maxsize=None)
def operation_type(name: str) -> str:
    """``"query"`` or ``"mutation"``: the kind of the document's (single) operation."""
    for definition in parse(load_document(name)).definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.operation.value
    raise ValueError(f"document {name!r} has no operation")

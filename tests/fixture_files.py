"""The fixture files the tests read: real public Shopify and carrier payloads, signature vectors and
Shopify's Admin schema, kept in ``tests/fixtures/shopify/`` and ``tests/fixtures/carriers/`` with a
``.source.txt`` note beside each one (the modules directly in ``tests/fixtures/`` are the suite's
pytest fixtures)."""
from __future__ import annotations

import json
import lzma
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHOPIFY = FIXTURES / "shopify"
CARRIERS = FIXTURES / "carriers"

# The newest real Admin schema held here; documents are validated against it as it is.
ADMIN_SCHEMA_VERSION = "2026-04"
ADMIN_SCHEMA_SDL = SHOPIFY / f"admin-{ADMIN_SCHEMA_VERSION}.schema.graphql.xz"


def shopify_json(name: str):
    """A Shopify fixture, parsed."""
    return json.loads((SHOPIFY / name).read_text(encoding="utf-8"))


def carrier_bytes(name: str) -> bytes:
    """A carrier fixture's raw bytes (signatures are computed over them)."""
    return (CARRIERS / name).read_bytes()


def admin_schema_sdl(path: Path = ADMIN_SCHEMA_SDL) -> str:
    """The text of a stored Admin schema (xz-compressed on disk)."""
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        return fh.read()

"""Shopify's real Admin GraphQL schema, as the tests hold it, for validating our documents.

The schema is the newest real one in ``tests/fixtures/shopify/`` (2026-04, introspected from
Shopify; see its source note), used as it is: no field, argument or directive is added by hand, so
a document that validates here is one Shopify's own validator accepts at that version.

Parsing the 3.4 MB SDL takes about a second, so the built schema is cached per process.
"""
from __future__ import annotations

import functools
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, build_ast_schema, parse, validate

from tests.fixture_files import ADMIN_SCHEMA_SDL, admin_schema_sdl


@functools.lru_cache(maxsize=4)
def admin_schema(path: str | Path = ADMIN_SCHEMA_SDL) -> GraphQLSchema:
    """The real Admin schema held in the fixtures; cached per path."""
    # assume_valid: Shopify's own schema breaks a graphql-core schema rule (implementations
    # deprecated where the interface field is not, e.g. Customer.hasTimelineComment), which would
    # make validate() refuse to run. That rule is about the schema, not about our documents.
    document = parse(admin_schema_sdl(Path(path)), no_location=True)
    return build_ast_schema(document, assume_valid=True, assume_valid_sdl=True)


def validation_errors(document: str, schema: GraphQLSchema | None = None) -> list[str]:
    """Messages of every GraphQL validation error of ``document`` (empty list when valid)."""
    schema = schema or admin_schema()
    try:
        ast = parse(document)
    except GraphQLError as exc:  # a syntax error
        return [f"syntax: {exc}"]
    return [e.message for e in validate(schema, ast)]

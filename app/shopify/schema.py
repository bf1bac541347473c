"""Shopify's real Admin GraphQL schema, plus the documented later changes we rely on.

The base is the 2025-04 SDL in ``../shared/fixtures/shopify/`` (introspected from Shopify). We call
a newer API version, so the few later changes our documents use are added here, each with its
source, and nothing else:

1. ``directive @idempotent(key: String!) on FIELD`` — API 2026-01; shopify.dev changelog
   "adding-idempotency-for-inventory-adjustments-and-refund-mutations" (mandatory on refundCreate
   from 2026-04: "making-idempotency-mandatory-for-inventory-adjustments-and-refund-mutations").
2. ``WebhookSubscriptionInput.uri`` replacing ``callbackUrl`` — API 2025-10; shopify.dev changelog
   "consolidate-webhook-graphql-surfaces" (one ``uri`` for HTTPS, pubsub:// and EventBridge ARNs).
   ``callbackUrl`` is removed from the input here so no document of ours can still use it.

Parsing the 2.9 MB SDL takes about a second, so the built schema is cached per process. Only tests
and tooling load it: the client never validates at run time.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from graphql import (
    DocumentNode, GraphQLSchema, build_ast_schema, parse, validate,
)
from graphql.language import (
    DirectiveDefinitionNode, InputObjectTypeDefinitionNode, InputValueDefinitionNode,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCHEMA_PATH = (
    PROJECT_ROOT.parent / "shared" / "fixtures" / "shopify" / "admin-2025-04.schema.graphql"
)

# The SDL of the additions, parsed and spliced into the base document.
_IDEMPOTENT_SDL = "directive @idempotent(key: String!) on FIELD"  # 2026-01, see module docstring
_WEBHOOK_URI_SDL = "input _X { uri: String }"  # 2025-10: uri accepts https, pubsub://, arn:


def _extended_document(sdl: str) -> DocumentNode:
    """Parse the base SDL and apply the documented later changes to its AST."""
    doc = parse(sdl, no_location=True)
    uri_field: InputValueDefinitionNode = parse(_WEBHOOK_URI_SDL).definitions[0].fields[0]
    directive: DirectiveDefinitionNode = parse(_IDEMPOTENT_SDL).definitions[0]
    definitions = []
    found = False
    for definition in doc.definitions:
        if (isinstance(definition, InputObjectTypeDefinitionNode)
                and definition.name.value == "WebhookSubscriptionInput"):
            kept = tuple(f for f in definition.fields if f.name.value != "callbackUrl")
            definition = dataclasses.replace(definition, fields=kept + (uri_field,))
            found = True
        definitions.append(definition)
    if not found:  # the base file is not what we think it is
        raise ValueError("WebhookSubscriptionInput not found in the base schema")
    return DocumentNode(definitions=tuple(definitions) + (directive,))


@functools.lru_cache(maxsize=4)
def admin_schema(path: str | Path | None = None) -> GraphQLSchema:
    """The real Admin schema (2025-04) with the documented later changes; cached per path."""
    sdl = Path(path or DEFAULT_SCHEMA_PATH).read_text(encoding="utf-8")
    # assume_valid: Shopify's own schema breaks a graphql-core schema rule (implementations
    # deprecated where the interface field is not, e.g. Customer.hasTimelineComment), which would
    # make validate() refuse to run. That rule is about the schema, not about our documents.
    return build_ast_schema(_extended_document(sdl), assume_valid=True, assume_valid_sdl=True)


def validation_errors(document: str, schema: GraphQLSchema | None = None) -> list[str]:
    """Messages of every GraphQL validation error of ``document`` (empty list when valid)."""
    schema = schema or admin_schema()
    try:
        ast = parse(document)
    except Exception as exc:  # graphql.GraphQLError on a syntax error
        return [f"syntax: {exc}"]
    return [e.message for e in validate(schema, ast)]

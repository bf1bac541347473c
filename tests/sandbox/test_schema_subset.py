"""The served schema is a proven subset of Shopify's real 2026-04 Admin schema, with nothing added."""
from __future__ import annotations


import pytest
from graphql import (GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType,
                     GraphQLObjectType, GraphQLScalarType, GraphQLUnionType, build_schema)

from sandbox.schema_subset import SERVED_SDL, generate_sdl, load_served_sdl

from tests.fixture_files import ADMIN_SCHEMA_SDL, admin_schema_sdl


@pytest.fixture(scope="module")
def real():
    return build_schema(admin_schema_sdl())


@pytest.fixture(scope="module")
def served():
    return build_schema(load_served_sdl())


def subset_problems(served, real) -> list[str]:
    """Every type, field, argument, enum value, member and directive must exist in real."""
    problems = []
    for name, t in served.type_map.items():
        if name.startswith("__"):
            continue
        r = real.type_map.get(name)
        if r is None or type(r) is not type(t):
            problems.append(f"type {name} missing or different kind")
            continue
        if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for fname, f in t.fields.items():
                rf = r.fields.get(fname)
                if rf is None or str(rf.type) != str(f.type):
                    problems.append(f"field {name}.{fname}: {f.type} vs {rf and rf.type}")
                    continue
                for aname, a in getattr(f, "args", {}).items():
                    ra = rf.args.get(aname)
                    if ra is None or str(ra.type) != str(a.type):
                        problems.append(f"arg {name}.{fname}({aname})")
        if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
            real_ifaces = {i.name for i in r.interfaces}
            for i in t.interfaces:
                if i.name not in real_ifaces:
                    problems.append(f"{name} implements {i.name} only here")
        if isinstance(t, GraphQLEnumType):
            for v in t.values:
                if v not in r.values:
                    problems.append(f"enum value {name}.{v}")
        if isinstance(t, GraphQLUnionType):
            real_members = {m.name for m in r.types}
            for m in t.types:
                if m.name not in real_members:
                    problems.append(f"union member {name}.{m.name}")
        if isinstance(t, GraphQLScalarType) and not isinstance(r, GraphQLScalarType):
            problems.append(f"scalar {name}")
    real_dirs = {d.name for d in real.directives}
    for d in served.directives:
        if d.name not in real_dirs:
            problems.append(f"directive @{d.name}")
    if served.query_type.name != real.query_type.name:
        problems.append("query root name")
    if served.mutation_type.name != real.mutation_type.name:
        problems.append("mutation root name")
    return problems


def test_served_schema_is_a_subset_of_the_real_one(served, real):
    assert subset_problems(served, real) == []


def test_shopifys_own_keyed_mutation_directive_and_webhook_uri_are_served(served, real):
    assert "uri" in served.type_map["WebhookSubscriptionInput"].fields
    idem = served.get_directive("idempotent")
    assert idem is not None and str(idem.args["key"].type) == "String!"
    assert real.get_directive("idempotent") is not None  # Shopify's, not ours


def test_the_check_catches_an_invented_field_and_a_wrong_type(real):
    sdl = load_served_sdl().replace("  name: String!\n", "  name: String!\n  madeUp: Int\n", 1)
    assert any("madeUp" in p for p in subset_problems(build_schema(sdl), real))
    sdl = load_served_sdl().replace("legacyResourceId: UnsignedInt64!", "legacyResourceId: Int!", 1)
    assert any("legacyResourceId" in p for p in subset_problems(build_schema(sdl), real))


def test_served_file_is_what_the_generator_produces():
    assert generate_sdl(str(ADMIN_SCHEMA_SDL)) == open(SERVED_SDL, encoding="utf-8").read()

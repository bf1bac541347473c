"""Shopify's calculated query cost, before (requested) and after (actual) execution.

Published rules (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits):
scalars and enums 0, objects 1, connections 2 + ``first`` × the cost of one
node, a list field ``first`` (or, for ``nodes(ids:)``, the number of ids) × its item,
interfaces/unions the maximum of their possible selections, mutations 10.
The requested cost uses ``first``; the actual cost counts what came back.
"""
from __future__ import annotations

from graphql import (FieldNode, FragmentSpreadNode, GraphQLList, GraphQLNonNull,
                     GraphQLObjectType, InlineFragmentNode, OperationType, get_named_type,
                     is_leaf_type)
from graphql.utilities import value_from_ast

MUTATION_COST = 10
MAX_QUERY_COST = 1000


class CostError(Exception):
    """A connection without ``first`` (Shopify refuses those)."""


def _unwrap(t):
    while isinstance(t, (GraphQLNonNull, GraphQLList)):
        t = t.of_type
    return t


def _is_list(t) -> bool:
    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


class CostCalculator:
    """Walks an operation against the schema; ``data`` given => actual cost."""

    def __init__(self, schema, fragments: dict, variables: dict):
        self.schema, self.fragments, self.variables = schema, fragments, variables or {}

    def _arg(self, node: FieldNode, field_def, name: str):
        for a in node.arguments or ():
            if a.name.value == name and name in field_def.args:
                return value_from_ast(a.value, field_def.args[name].type, self.variables)
        return None

    def _fields(self, selection_set, parent_type):
        """Flatten fragments to (field node, type condition) pairs."""
        out = []
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                out.append(sel)
            elif isinstance(sel, InlineFragmentNode):
                out.extend(self._fields(sel.selection_set, parent_type))
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is not None:
                    out.extend(self._fields(frag.selection_set, parent_type))
        return out

    def selection_cost(self, selection_set, parent_type, data=None, requested=True) -> int:
        """Cost of a selection set on ``parent_type`` (objects only)."""
        total = 0
        for node in self._fields(selection_set, parent_type):
            name = node.name.value
            if name.startswith("__"):
                continue
            ptype = parent_type
            field_def = getattr(ptype, "fields", {}).get(name)
            if field_def is None:
                # Field from an inline fragment on a concrete type of an interface.
                field_def = self._find_in_possible(ptype, name)
                if field_def is None:
                    continue
            key = node.alias.value if node.alias else name
            value = None if requested or not isinstance(data, dict) else data.get(key)
            total += self.field_cost(node, field_def, value, requested)
        return total

    def _find_in_possible(self, ptype, name):
        if hasattr(self.schema, "get_possible_types") and not isinstance(ptype, GraphQLObjectType):
            for t in self.schema.get_possible_types(ptype):
                if name in t.fields:
                    return t.fields[name]
        return None

    def field_cost(self, node: FieldNode, field_def, value, requested: bool) -> int:
        """Cost of one field (with its sub-selection)."""
        named = get_named_type(field_def.type)
        if is_leaf_type(named):
            return 0
        if named.name.endswith("Connection"):
            first = self._arg(node, field_def, "first")
            if first is None:
                first = self._arg(node, field_def, "last")
            if requested:
                if first is None:
                    raise CostError(node.name.value)
                return 2 + int(first) * self._node_cost(node, named, None, True)
            if value is None:
                return 2
            items = value.get("nodes") or [e.get("node") for e in value.get("edges") or []]
            return 2 + sum(self._node_cost(node, named, item, False) for item in items)
        if _is_list(field_def.type):
            count = self._arg(node, field_def, "first")
            if count is None:
                # nodes(ids:): one item per id asked for, whatever comes back.
                ids = self._arg(node, field_def, "ids")
                count = len(ids) if isinstance(ids, list) and ids else None
            if requested:
                return (count or 1) * (1 + self.selection_cost(node.selection_set, named))
            items = value or []
            return sum(1 + self.selection_cost(node.selection_set, named, it, False)
                       for it in items)
        if not requested and value is None:
            return 1
        return 1 + self.selection_cost(node.selection_set, named, value, requested)

    def _node_cost(self, conn_node: FieldNode, conn_type, item, requested: bool) -> int:
        """Cost of one element of a connection: 1 + its selection (edges/nodes)."""
        node_type = _unwrap(conn_type.fields["nodes"].type)
        best = 0
        for sel in self._fields(conn_node.selection_set, conn_type):
            name = sel.name.value
            if name == "nodes":
                best = max(best, 1 + self.selection_cost(sel.selection_set, node_type, item,
                                                         requested))
            elif name == "edges":
                for esel in self._fields(sel.selection_set, None):
                    if esel.name.value == "node":
                        best = max(best, 1 + self.selection_cost(esel.selection_set, node_type,
                                                                 item, requested))
        return best or 1


def requested_cost(schema, operation, fragments, variables) -> int:
    """Requested cost of an operation (raises CostError for unbounded connections)."""
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len([s for s in operation.selection_set.selections
                                    if isinstance(s, FieldNode)])
    calc = CostCalculator(schema, fragments, variables)
    return calc.selection_cost(operation.selection_set, schema.query_type)


def actual_cost(schema, operation, fragments, variables, data) -> int:
    """Actual cost given the returned ``data``."""
    if operation.operation == OperationType.MUTATION:
        return requested_cost(schema, operation, fragments, variables)
    calc = CostCalculator(schema, fragments, variables)
    return calc.selection_cost(operation.selection_set, schema.query_type, data or {},
                               requested=False)

"""Shopify's *requested* query cost, computed offline from a document and the schema.

Rules (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits, "Cost calculation"): a field
returning a scalar or enum costs 0, an object 1, an interface/union the maximum of its possible
selections, a connection 2 plus ``first`` (or ``last``) times the cost of one node, and a mutation
10. A list field sized by ``first`` costs that many times its item, and ``nodes(ids:)`` costs one
item per id (the sandbox charges it so, and ``operations.PARCEL_DATES_BATCH`` was sized on that
reading); an unsized list is counted once
(Shopify does not publish a size for those — the real cost may differ slightly). A single query may
not request more than 1,000 points.

Used by the tests to prove the page sizes in ``app/shopify/operations.py`` keep a page well under that limit.
"""
from __future__ import annotations

from graphql import (
    GraphQLEnumType, GraphQLList, GraphQLNonNull, GraphQLScalarType, GraphQLSchema,
    get_named_type, parse,
)
from graphql.language import (
    FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode,
    OperationDefinitionNode, VariableNode,
)

MAX_SINGLE_QUERY_COST = 1000
MUTATION_COST = 10


def requested_cost(document: str, schema: GraphQLSchema, variables: dict | None = None) -> int:
    """The requested cost of the first operation in ``document`` under ``variables``, read
    against ``schema`` (the tests hold Shopify's real one)."""
    ast = parse(document)
    fragments = {d.name.value: d for d in ast.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
    walker = _Walker(schema, fragments, variables or {})
    if operation.operation.value == "mutation":
        return MUTATION_COST * len(operation.selection_set.selections)
    return walker.selection_cost(operation.selection_set, schema.query_type)


class _Walker:
    def __init__(self, schema, fragments, variables):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _arg(self, field: FieldNode, name: str):
        for arg in field.arguments or ():
            if arg.name.value == name:
                if isinstance(arg.value, VariableNode):
                    return self.variables.get(arg.value.name.value)
                return int(arg.value.value)
        return None

    def selection_cost(self, selection_set, parent_type) -> int:
        """Sum of the fields' costs; inline fragments on other types count as the max branch."""
        if selection_set is None:
            return 0
        total, branches = 0, [0]
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent_type)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection_cost(fragment.selection_set, target)
            elif isinstance(selection, InlineFragmentNode):
                target = (self.schema.get_type(selection.type_condition.name.value)
                          if selection.type_condition else parent_type)
                branches.append(self.selection_cost(selection.selection_set, target))
        return total + max(branches)

    def field_cost(self, field: FieldNode, parent_type) -> int:
        """Cost of one field by what it returns."""
        name = field.name.value
        if name.startswith("__"):
            return 0
        definition = parent_type.fields[name]
        named = get_named_type(definition.type)
        if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
            return 0
        size = self._arg(field, "first") or self._arg(field, "last")
        if named.name.endswith("Connection"):
            return 2 + (size or 0) * self._node_cost(field, named)
        inner = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        per_item = 1 + self.selection_cost(field.selection_set, named)
        if isinstance(inner, GraphQLList):
            return (size or self._ids_count(field) or 1) * per_item
        return per_item

    def _ids_count(self, field: FieldNode) -> int | None:
        """How many ids a list field such as ``nodes(ids:)`` is asked for: each id is one item
        (its requested cost is the ids times one item's, like a connection's ``first``)."""
        for arg in field.arguments or ():
            if arg.name.value == "ids":
                if isinstance(arg.value, VariableNode):
                    value = self.variables.get(arg.value.name.value)
                    return len(value) if isinstance(value, (list, tuple)) else None
                return len(getattr(arg.value, "values", ()) or ()) or None
        return None

    def _node_cost(self, field: FieldNode, connection_type) -> int:
        """Cost of one node of a connection, read from ``nodes { … }`` or ``edges { node { … } }``."""
        node_type = get_named_type(connection_type.fields["nodes"].type)
        cost = 0
        for selection in field.selection_set.selections:
            if not isinstance(selection, FieldNode):
                continue
            if selection.name.value == "nodes":
                cost = max(cost, 1 + self.selection_cost(selection.selection_set, node_type))
            elif selection.name.value == "edges":
                for sub in selection.selection_set.selections:
                    if isinstance(sub, FieldNode) and sub.name.value == "node":
                        cost = max(cost, 1 + self.selection_cost(sub.selection_set, node_type))
        return cost

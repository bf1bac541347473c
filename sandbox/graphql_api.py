"""POST /store/<shop>/admin/api/<version>/graphql.json — the Admin GraphQL endpoint.

Order of checks follows Shopify: shop, faults (a proxy in front), token (401),
body, parse/validate (200 with errors), requested cost vs the single-query max
and the app+shop bucket (THROTTLED, HTTP 200), execution, actual cost refund.
Every response carries ``extensions.cost``.  No input can produce a 500.
"""
from __future__ import annotations

import functools
import json
import re
import time

from flask import Blueprint, Response, current_app, jsonify, request
from graphql import GraphQLError, execute, get_operation_ast, parse, validate
from graphql.error import GraphQLSyntaxError
from graphql.language import FragmentDefinitionNode

from . import cost as costs
from . import idempotency, throttle
from .resolvers import MUTATION_ROOT, ROOT, executable_schema, make_context

bp = Blueprint("sandbox_graphql", __name__)
VERSION_RE = re.compile(r"^(\d{4}-\d{2}|unstable)$")
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
UNDEFINED_FIELD = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'")

PROXY_PAGE = """<!DOCTYPE html>
<html><head><title>{code} {reason}</title></head>
<body><h1>{code} {reason}</h1><p>There was a problem loading this website.
Please try again.</p></body></html>"""


def store():
    """The app's Store."""
    return current_app.extensions["sandbox"]


def proxy_error(code: int) -> Response:
    """An HTML error page like the ones Shopify's edge returns on 5xx."""
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
              504: "Gateway Timeout"}[code]
    return Response(PROXY_PAGE.format(code=code, reason=reason), status=code,
                    mimetype="text/html")


def apply_faults(st, shop) -> Response | None:
    """Latency, hangs and 5xx for this shop's Admin API (real time: they are about HTTP)."""
    f = shop.faults
    if f.get("latency_ms"):
        time.sleep(float(f["latency_ms"]) / 1000.0)
    if st.fault_roll(f.get("timeout_rate", 0)):
        time.sleep(float(f.get("timeout_seconds") or 30))
        return proxy_error(504)
    if st.fault_roll(f.get("error_rate", 0)):
        return proxy_error(st.fault_choice((502, 503, 500)))
    return None


def _format_error(err: GraphQLError) -> dict:
    out = err.formatted
    original = err.original_error
    if original is not None and not isinstance(original, GraphQLError):
        # A bug in a resolver: Shopify answers with an opaque internal error.
        current_app.logger.exception("resolver error", exc_info=original)
        out = {"message": "Internal error. Looks like something went wrong on our end.",
               "extensions": {"code": "INTERNAL_SERVER_ERROR"}, "path": out.get("path")}
    return out


def _validation_error(err: GraphQLError) -> dict:
    out = err.formatted
    m = UNDEFINED_FIELD.search(err.message)
    if m:
        out["message"] = f"Field '{m.group(1)}' doesn't exist on type '{m.group(2)}'"
        out["extensions"] = {"code": "undefinedField", "typeName": m.group(2),
                             "fieldName": m.group(1)}
    else:
        out.setdefault("extensions", {})["code"] = "GRAPHQL_VALIDATION_FAILED"
    return out


@functools.lru_cache(maxsize=128)
def parsed_and_validated(query: str):
    """(document, validation errors) of a query text, computed once per distinct text.

    Both are pure functions of the text and the fixed served schema, and they are half the
    sandbox's time per request; a paginated import sends one document a thousand times.
    A syntax error raises (and is not cached).
    """
    document = parse(query)
    return document, tuple(validate(executable_schema(), document))


def _cost_ext(requested, actual, bucket) -> dict:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": bucket.status()}}


def run_graphql(st, shop, token, body: dict, api_version: str | None = None,
                base_url: str = "") -> tuple[dict, int]:
    """Execute one GraphQL request body; returns (json body, HTTP status)."""
    query = body.get("query")
    variables = body.get("variables") or {}
    if not isinstance(query, str) or not query.strip() or not isinstance(variables, dict):
        return {"errors": {"query": "Required parameter missing or invalid"}}, 400
    schema = executable_schema()
    bucket = throttle.bucket_for(st, shop, token.client_id)
    try:
        document, errors = parsed_and_validated(query)
    except GraphQLSyntaxError as exc:
        return {"errors": [{"message": f"Parse error: {exc.message}",
                            "locations": [{"line": loc.line, "column": loc.column}
                                          for loc in exc.locations or []],
                            "extensions": {"code": "PARSE_ERROR"}}],
                "extensions": _cost_ext(0, 0, bucket)}, 200
    if errors:
        return {"errors": [_validation_error(e) for e in errors],
                "extensions": _cost_ext(0, 0, bucket)}, 200
    operation = get_operation_ast(document, body.get("operationName"))
    if operation is None:
        return {"errors": [{"message": "An operation name is required",
                            "extensions": {"code": "OPERATION_NAME_REQUIRED"}}]}, 200
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    try:
        requested = costs.requested_cost(schema, operation, fragments, variables)
    except costs.CostError as exc:
        return {"errors": [{"message": "you must provide one of first or last",
                            "path": [str(exc)], "extensions": {"code": "BAD_REQUEST"}}],
                "extensions": _cost_ext(0, 0, bucket)}, 200
    except Exception:  # noqa: BLE001 - bad variable values: let execution report them
        requested = 0
    if requested > costs.MAX_QUERY_COST:
        return {"errors": [{"message": (
            f"Query cost is {requested}, which exceeds the single query max cost limit "
            f"({costs.MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits"
            " for more information on how the\ncost of a query is calculated.\n\nTo query "
            "larger amounts of data with fewer limits, bulk operations should be used instead."
            "\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for "
            "usage details.\n"),
            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                           "maxCost": costs.MAX_QUERY_COST,
                           "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": _cost_ext(requested, None, bucket)}, 200
    if not throttle.try_take(st, bucket, requested):
        return {"errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": _cost_ext(requested, None, bucket)}, 200
    context = make_context(st, shop, token, st.clock.now(), api_version, base_url=base_url)
    result = execute(schema, document, root_value=MUTATION_ROOT
                     if operation.operation.value == "mutation" else ROOT,
                     context_value=context, variable_values=variables,
                     operation_name=body.get("operationName"))
    try:
        actual = costs.actual_cost(schema, operation, fragments, variables, result.data)
    except Exception:  # noqa: BLE001 - a result the cost walk cannot read costs what was asked for
        actual = requested
    actual = min(actual, requested)
    throttle.refund(st, bucket, requested - actual)
    out = {}
    if result.errors:
        out["errors"] = [_format_error(e) for e in result.errors]
    out["data"] = result.data
    out["extensions"] = _cost_ext(requested, actual, bucket)
    return out, 200


@bp.route("/store/<shop_domain>/admin/api/<version>/graphql.json", methods=["POST"])
def graphql_endpoint(shop_domain: str, version: str):
    """The Admin GraphQL endpoint of one shop."""
    st = store()
    shop = st.state["shops"].get(shop_domain.lower())
    if shop is None or not VERSION_RE.match(version):
        return jsonify({"errors": "Not Found"}), 404
    faulted = apply_faults(st, shop)
    if faulted is not None:
        return faulted
    token = st.authenticate(shop.domain, request.headers.get("X-Shopify-Access-Token"))
    if token is None:
        return jsonify({"errors": INVALID_TOKEN}), 401
    if request.mimetype == "application/graphql":
        body = {"query": request.get_data(as_text=True)}
    else:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            return jsonify({"errors": "Invalid JSON in request body"}), 400
        if not isinstance(body, dict):
            return jsonify({"errors": {"query": "Required parameter missing or invalid"}}), 400
    payload, status = run_graphql(st, shop, token, body, version, request.host_url.rstrip("/"))
    # A keyed call left "in progress" by the keyed_in_progress_seconds fault loses its answer.
    lost = idempotency.take_lost_answer()
    if (payload.get("data") and _is_mutation(body)
            and (lost or st.fault_roll(shop.faults.get("drop_response_after_mutation", 0)))):
        # The mutation ran; its answer is lost between Shopify and the client (the edge
        # answers 502), so the client cannot tell whether it took effect.
        return proxy_error(502)
    return jsonify(payload), status


def _is_mutation(body: dict) -> bool:
    """Was this request body a (valid) mutation? Parse results are cached per text."""
    try:
        document, errors = parsed_and_validated(body.get("query") or "")
    except GraphQLSyntaxError:
        return False
    operation = None if errors else get_operation_ast(document, body.get("operationName"))
    return operation is not None and operation.operation.value == "mutation"

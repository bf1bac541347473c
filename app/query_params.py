"""Every query-string parameter a view reads, in one place: its kind, its bounds and the endpoints
that read it.

Views read a parameter through `query_arg`, which turns a value nobody could have meant (a NUL,
another script's digits, a number past its bound, text longer than any real one) into a 400 that
says what was wrong, before it reaches a database or `int()`. Parameters read by a GET form
(the returns and orders filters) are listed with kind "form": the form validates them. Keys
built per order line or per rule condition are listed as templates ("line-{id}-variant").
"""
import re
from dataclasses import dataclass

from flask import abort, request

from app.forms import typed_only

MAX_ID = 2**63 - 1  # ids are BIGINT


@dataclass(frozen=True)
class QueryParam:
    """How one parameter is read: `kind` is "int", "text", "form" (validated by a form) or "own"
    (any text, which the view itself matches against what it accepts)."""

    kind: str
    endpoints: tuple[str, ...]
    message: str = "That link is not valid."
    max_length: int = 200
    low: int = 0
    high: int = MAX_ID
    # The answer to digits past `high`: an id that long names no row (404); a count is a 400.
    beyond: int = 400


_RETURN_ACTIONS = tuple(f"dashboard.return_{action}" for action in ("cancel", "close", "process", "receive"))
_BULK = ("dashboard.returns_close_matching", "dashboard.returns_close_selected", "dashboard.returns_review_selected")
# The CSV downloads read the list's filters and sort (every page: they read no page number).
_EXPORTS = ("dashboard.export_returns", "dashboard.export_items")
_RETURNS_FILTERS = ("dashboard.returns", *_BULK, *_EXPORTS)
_RULES_LIST = ("dashboard.rules_page", "dashboard.rule_delete", "dashboard.rule_move", "dashboard.rule_position",
               "dashboard.rule_toggle", "dashboard.rules_reorder", "dashboard.rule_edit", "dashboard.rule_new")
_PORTAL_PAGES = ("portal.lookup", "portal.items", "portal.confirmation", "portal.status", "portal.packing_slip")
_PAGE = "That page number is not valid. Go back to the first page."
_FILTER = QueryParam("form", _RETURNS_FILTERS)
_SEARCH = QueryParam("form", (*_RETURNS_FILTERS, "dashboard.orders"))
_DATES = QueryParam("form", (*_RETURNS_FILTERS, "dashboard.orders", "dashboard.analytics"))
_CALLBACK = QueryParam("text", ("dashboard.connect_oauth_callback",), max_length=2000)

QUERY_PARAMS: dict[str, QueryParam] = {
    # Where to go back to: safe_next keeps a path of this site and ignores anything else (a bad
    # `next` never costs the action it came with).
    "next": QueryParam("own", ("auth.login", *_RETURN_ACTIONS, *_BULK)),
    "page": QueryParam("int", ("dashboard.returns", "dashboard.outbox", "dashboard.outbound_deliveries"), _PAGE,
                       low=1, high=100_000),
    # The delivery log's filter: the view accepts only its four words (else a 400).
    "show": QueryParam("own", ("dashboard.outbound_deliveries",)),
    "q": _SEARCH, "date_from": _DATES, "date_to": _DATES,
    "status": _FILTER, "option": _FILTER, "issue": _FILTER, "sort": _FILTER, "per_page": _FILTER,
    "product": _FILTER, "variant": _FILTER,
    # The analytics page's preset range (30, 90 or 365 days), validated by its form.
    "range": QueryParam("form", ("dashboard.analytics",)),
    "return_id": QueryParam("form", ("dashboard.returns_close_selected", "dashboard.returns_review_selected")),
    # Approve or decline the ticked returns: the view accepts only those two words (else a 400).
    "decision": QueryParam("own", ("dashboard.returns_review_selected",)),
    "after": QueryParam("text", ("dashboard.orders",), _PAGE, max_length=64),
    "before": QueryParam("text", ("dashboard.orders",), _PAGE, max_length=64),
    "last": QueryParam("int", _RULES_LIST, "Choose how many recent returns to replay.", low=1, high=10**6),
    "row": QueryParam("text", ("dashboard.rule_condition_row",), "Bad row key.", max_length=64),
    "n": QueryParam("int", ("dashboard.rule_condition_row",), "Bad row number.", low=1, high=10**6),
    "cond-{row}-{part}": QueryParam("text", ("dashboard.rule_condition_row",)),
    "return": QueryParam("int", ("dashboard.rules_dry_run",), "Choose a return from the list.", low=1, beyond=404),
    "order": QueryParam("text", ("dashboard.rules_dry_run",), max_length=64),
    # The dry run's reason (read as text), and the returns list's reason filter (read by its form).
    "reason": QueryParam("text", ("dashboard.rules_dry_run", *_RETURNS_FILTERS), max_length=120),
    # The return a shopper email is previewed with (another shop's: 404, like a missing one).
    "sample": QueryParam("int", ("dashboard.email_preview", "dashboard.email_preview_html"),
                         "Choose a return from the list.", low=1, beyond=404),
    # Typed as it is being typed: the preview explains anything that is not a colour (a 200 htmx swaps).
    "primary_color": QueryParam("own", ("dashboard.settings_colour_preview",)),
    # The size chosen before, which the picker only compares with the variants it offers (an htmx
    # fragment: it ignores anything else rather than answer with an error htmx would not show).
    "chosen": QueryParam("own", ("portal.variants",)),
    "line-{id}-variant": QueryParam("own", ("portal.variants",)),
    # The portal page in another language (app/i18n.py): only one of the portal's languages is
    # taken, anything else is ignored and the page shown as it would be without it.
    "lang": QueryParam("own", _PORTAL_PAGES),
    # Settings → Portal text: the language edited (the view takes one of the portal's, else French)
    # and the words searched for.
    "language": QueryParam("own", ("dashboard.portal_texts",)),
    "find": QueryParam("text", ("dashboard.portal_texts",), "Search with letters, digits and punctuation.",
                       max_length=200),
    # Shopify's OAuth callback: the view passes every parameter on, since its HMAC covers them all.
    "code": _CALLBACK, "hmac": _CALLBACK, "host": _CALLBACK, "shop": _CALLBACK, "state": _CALLBACK,
    "timestamp": _CALLBACK,
}

_TEMPLATE_PART = re.compile(r"\{[^}]*\}")


def template_of(key: str) -> str:
    """A key with each `{placeholder}` written as `{}` (how keys built per line are compared)."""
    return _TEMPLATE_PART.sub("{}", key)


def _pattern(template: str) -> re.Pattern:
    return re.compile("^" + "[^-]+".join(re.escape(part) for part in template_of(template).split("{}")) + "$")


_PATTERNS = [(_pattern(key), spec) for key, spec in QUERY_PARAMS.items() if "{" in key]


def spec_of(key: str) -> QueryParam:
    """The registry's entry for `key` (a template's, for a key built per line or row)."""
    if key in QUERY_PARAMS:
        return QUERY_PARAMS[key]
    for pattern, spec in _PATTERNS:
        if pattern.match(key):
            return spec
    raise KeyError(f"query parameter {key!r} is not in app/query_params.py")


def query_arg(key: str, default=None, source=None):
    """The parameter `key` of this request (from `source`, else the query string), checked and
    converted as the registry says; `default` when absent or empty; a 400 when nobody could mean it."""
    spec = spec_of(key)
    raw = (request.args if source is None else source).get(key)
    if raw is None or raw == "":
        return default
    if spec.kind == "own":
        return raw
    if spec.kind != "int":
        if len(raw) > spec.max_length or typed_only(raw) != raw:
            abort(400, description=spec.message)
        return raw
    # ASCII digits only: int() also reads "١٢" and str.isdigit() accepts "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()):
        abort(400, description=spec.message)
    number = int(raw) if len(raw) <= 19 else spec.high + 1
    if number > spec.high:
        abort(spec.beyond, description=spec.message)
    if number < spec.low:
        abort(400, description=spec.message)
    return number

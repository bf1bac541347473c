"""htmx in one place: which copy the pages load, what a request says about itself, and the
response headers that steer a swap.

Every view asks `is_htmx()` whether to answer with a fragment; only the login and CSRF handlers
ask `sent_by_htmx()`, since a boosted navigation (none today: see base.html on hx-boost) must
not be answered with a login page or an error page swapped into the body either.
"""
from flask import current_app, request

# htmx is served from this site only (app/static/vendor/README.md says where the copy comes from);
# the hash is that of the published file, so a changed copy is refused by the browser as well.
HTMX_PATH = "vendor/htmx-2.0.11.min.js"
HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"

REQUEST_HEADER = "HX-Request"


def sent_by_htmx() -> bool:
    """Any request htmx made, a boosted navigation included."""
    return request.headers.get(REQUEST_HEADER) == "true"


def is_htmx() -> bool:
    """A request made by htmx that wants a fragment (boosted navigations want whole pages)."""
    return sent_by_htmx() and request.headers.get("HX-Boosted") != "true"


def current_url() -> str:
    """The address of the page that made the request, as htmx sends it ("" when absent).
    Sent by the browser: callers check it before using it."""
    return request.headers.get("HX-Current-URL") or ""


def client_redirect(url: str, status: int):
    """An empty answer that makes htmx load `url` as a whole page (a redirect would be followed
    inside the request and land that page in a fragment)."""
    response = current_app.response_class(status=status)
    response.headers["HX-Redirect"] = url
    return response


def retarget(target: str, select: str, swap: str) -> dict[str, str]:
    """Headers that swap the answer somewhere other than where the request said: `select` out
    of the answer, into `target`, with `swap`."""
    return {"HX-Retarget": target, "HX-Reselect": select, "HX-Reswap": swap}


def vary_on_htmx(response) -> None:
    """Caches keep a fragment and the page at the same address apart."""
    if REQUEST_HEADER in request.headers:
        response.vary.add(REQUEST_HEADER)

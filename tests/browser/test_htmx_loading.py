"""htmx comes from its CDN with SRI and falls back to the pinned local copy when unreachable."""
from pathlib import Path

from app.security import HTMX_CDN_URL

LOCAL_COPY = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor" / "htmx-2.0.11.min.js"


def _requests(page):
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def test_local_copy_loads_when_the_cdn_is_unreachable(live_server, page):
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort("internetdisconnected"))
    seen = _requests(page)
    page.goto(live_server.url("/login"))
    assert page.evaluate("window.htmx && htmx.version") == "2.0.11"
    assert any(url.endswith("/static/vendor/htmx-2.0.11.min.js") for url in seen)


def test_cdn_copy_passes_its_integrity_check_and_the_local_copy_is_not_fetched(live_server, page):
    body = LOCAL_COPY.read_bytes()  # the CDN serves the npm tarball's bytes, which we vendored
    page.route(HTMX_CDN_URL, lambda route: route.fulfill(
        status=200, body=body, content_type="application/javascript",
        headers={"Access-Control-Allow-Origin": "*"}))
    seen = _requests(page)
    page.goto(live_server.url("/login"))
    assert page.evaluate("window.htmx && htmx.version") == "2.0.11"
    assert not any("/static/vendor/htmx" in url for url in seen)


def test_a_tampered_cdn_file_is_refused_and_the_local_copy_used(live_server, page):
    page.route(HTMX_CDN_URL, lambda route: route.fulfill(
        status=200, body="window.htmx = {version: 'evil'};", content_type="application/javascript",
        headers={"Access-Control-Allow-Origin": "*"}))
    page.goto(live_server.url("/login"))
    assert page.evaluate("htmx.version") == "2.0.11"
